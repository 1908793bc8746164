"""The environment's fingerprint on real venvs built by uv, and the differences between two."""

from __future__ import annotations

import json
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from bulletproof.cli import main
from bulletproof.proc import uv_bin
from bulletproof.verify.fingerprint import (
    Fingerprint,
    InstalledDistribution,
    Platform,
    SystemPackage,
    fingerprint,
)
from bulletproof.verify.fingerprintdiff import Difference, What, diff, difference_lines
from tests.conftest import write_project
from tests.fixtures.wheels import make_c_extension_wheel, make_wheel


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory, python312: Path) -> Path:
    """Wheels of the module's own: two versions of a package with a script whose shebang the
    installer rewrites to name the venv, and a compiled extension."""
    found = tmp_path_factory.mktemp("fp-house")
    for version in ("1.0", "2.0"):
        make_wheel(
            found,
            "fpalpha",
            version,
            {
                "fpalpha/__init__.py": f"VERSION = {version!r}\n",
                "fpalpha/core.py": "def f():\n    return 1\n",
                f"fpalpha-{version}.data/scripts/fpalpha-run": "#!python\nimport fpalpha\n",
            },
        )
    make_wheel(found, "fpbeta", "1.0", {"fpbeta.py": "B = 1\n"}, requires=("fpalpha",))
    make_c_extension_wheel(found, python312)
    return found


def _venv(where: Path, python: Path, house: Path, *names: str, compile_: bool = False) -> Path:
    subprocess.run([uv_bin(), "venv", str(where), "--python", str(python), "-q"], check=True)
    args = ["pip", "install", "-q", "--no-index", "--find-links", str(house)]
    args += [
        "--python",
        str(where / "bin" / "python"),
        *(["--compile-bytecode"] if compile_ else []),
    ]
    subprocess.run([uv_bin(), *args, *names], check=True)
    return where


def test_same_wheels_in_two_venvs_give_equal_fingerprints(
    tmp_path: Path, python312: Path, house: Path
) -> None:
    # one with bytecode compiled, one without; the script's shebang names each venv
    a = _venv(tmp_path / "a", python312, house, "fpalpha==1.0", "fpbeta", "cext", compile_=True)
    b = _venv(tmp_path / "elsewhere" / "b", python312, house, "fpalpha==1.0", "fpbeta", "cext")
    assert (a / "bin" / "fpalpha-run").read_text() != (b / "bin" / "fpalpha-run").read_text()
    fa, fb = fingerprint(a), fingerprint(b)
    assert diff(fa, fb) == ()
    assert fa == fb
    names = {d.name for d in fa.distributions}
    assert {"fpalpha", "fpbeta", "cext"} <= names
    alpha = fa.distribution("fpalpha")
    assert alpha is not None and alpha.version == "1.0" and alpha.tags == ("py3-none-any",)
    cext = fa.distribution("cext")
    assert cext is not None and cext.tags[0].startswith("cp312-cp312-")
    assert fa.implementation == "cpython" and fa.python.startswith("3.12.")
    assert fa.platform.machine and fa.platform.tag and fa.platform.os_id
    if fa.platform.libc == "glibc":  # the manylinux tag, not the plain linux_ one
        assert fa.platform.tag.startswith("manylinux_"), fa.platform.tag


def test_a_moved_pin_is_a_version_difference(tmp_path: Path, python312: Path, house: Path) -> None:
    a = _venv(tmp_path / "a", python312, house, "fpalpha==1.0", "fpbeta")
    b = _venv(tmp_path / "b", python312, house, "fpalpha==2.0", "fpbeta")
    found = diff(fingerprint(a), fingerprint(b))
    assert found == (Difference(What.DISTRIBUTION_VERSION, "fpalpha", "1.0", "2.0"),)
    assert found[0].unexplained


def _edit(installed: Path, text: str) -> None:
    """Change an installed file as an editor that saves a new file does: uv links installed
    files to its cache, so writing into the same inode would change the cached wheel that later
    tests install from."""
    edited = installed.with_name(installed.name + ".edited")
    edited.write_text(text)
    edited.replace(installed)


def test_an_edited_installed_file_is_a_content_difference(
    tmp_path: Path, python312: Path, house: Path
) -> None:
    a = _venv(tmp_path / "a", python312, house, "fpalpha==1.0", "fpbeta")
    before = fingerprint(a)
    core = next((a / "lib").glob("python*/site-packages/fpalpha/core.py"))
    _edit(core, core.read_text().replace("return 1", "return 2"))  # same size, other bytes
    after = fingerprint(a)
    (found,) = diff(before, after)
    assert (found.what, found.subject, found.because) == (What.DISTRIBUTION_CONTENT, "fpalpha", "")
    assert found.left == before.distribution("fpalpha").content  # type: ignore[union-attr]
    core.unlink()  # a deleted file is a difference too
    assert [d.subject for d in diff(before, fingerprint(a))] == ["fpalpha"]


def test_round_trip_through_json(tmp_path: Path, python312: Path, house: Path) -> None:
    a = _venv(tmp_path / "a", python312, house, "fpalpha==2.0", "cext")
    found = fingerprint(a)
    text = json.dumps(found.to_dict())
    assert Fingerprint.from_dict(json.loads(text)) == found
    assert Fingerprint.from_json(found.to_json()) == found
    with pytest.raises(ValueError, match="schema"):
        Fingerprint.from_dict({**found.to_dict(), "schema": 99})
    broken = found.to_dict()
    del broken["distributions"][0]["version"]
    with pytest.raises(ValueError, match="malformed"):
        Fingerprint.from_dict(broken)


def test_another_interpreter_explains_rebuilt_wheels_not_moved_pins() -> None:
    """What follows from another interpreter or OS release is said to; a version is not."""
    compiled = InstalledDistribution("cext", "1.0", ("cp312-cp312-manylinux_2_17_x86_64",), "h1")
    pure = InstalledDistribution("pure", "1.0", ("py3-none-any",), "h2")
    here = Fingerprint(
        "cpython",
        "3.12.3",
        _platform("debian", "13"),
        (
            compiled,
            pure,
            InstalledDistribution("pinned", "1.0", ("py3-none-any",), "h3"),
            InstalledDistribution("newonly", "3.0", ("py3-none-any",), "h5", False, ">=3.12"),
        ),
        (SystemPackage("libpq5", "17.1-1"),),
    )
    there = replace(
        here,
        python="3.11.2",
        platform=_platform("debian", "12"),
        distributions=(
            replace(compiled, tags=("cp311-cp311-manylinux_2_17_x86_64",), content="h9"),
            pure,
            InstalledDistribution("pinned", "2.0", ("py3-none-any",), "h4"),
            InstalledDistribution("newonly", "1.3", ("py3-none-any",), "h6", False, ">=3.8"),
        ),
        system_packages=(SystemPackage("libpq5", "15.8-0"),),
    )
    by_what = {(d.what, d.subject): d for d in diff(here, there)}
    assert by_what[What.INTERPRETER, "version"].cause
    assert by_what[What.PLATFORM, "os"].right == "debian 12"
    assert "interpreter" in by_what[What.DISTRIBUTION_TAGS, "cext"].because
    assert by_what[What.DISTRIBUTION_CONTENT, "cext"].because
    assert "OS release" in by_what[What.SYSTEM_PACKAGE_VERSION, "libpq5"].because
    # a lock made for 3.11 cannot take a release that requires 3.12; nothing says why "pinned" moved
    assert by_what[What.DISTRIBUTION_VERSION, "newonly"].because == "3.0 requires Python >=3.12"
    assert [d.subject for d in diff(here, there) if d.unexplained] == ["pinned"]
    # read as lines: the cause first, the rebuilt wheel once with its reason, the rest each
    lines = difference_lines(diff(here, there))
    assert lines[0] == ("interpreter version: 3.12.3 -> 3.11.2", False)
    assert [text for text, _ in lines if "cext" in text] == [
        "1 wheel(s) built for other tags, other content with them "
        "(another interpreter (3.12 / 3.11)): cext"
    ]
    assert [text.split(":")[0] for text, odd in lines if odd] == ["distribution version pinned"]
    assert (What.DISTRIBUTION_CONTENT, "pure") not in by_what


def test_another_interpreter_explains_what_a_marker_adds_or_drops() -> None:
    """A distribution on one side only is explained when one there requires it with a marker
    that interpreter meets and the other does not, or is needed by one that is; one that
    nothing there requires that way is not (found by aiosignal's tools on 3.13 and 3.11)."""

    def pure(name: str, *requires: str) -> InstalledDistribution:
        return InstalledDistribution(name, "1.0", ("py3-none-any",), f"h-{name}", requires=requires)

    here = Fingerprint(
        "cpython",
        "3.13.0",
        _platform("debian", "13"),
        (
            pure("keyring", 'importlib-metadata>=4; python_version < "3.12"'),
            pure("coverage", 'tomli; python_full_version <= "3.11.0a6" and extra == "toml"'),
            pure("lost"),
        ),
        (),
    )
    there = replace(
        here,
        python="3.10.12",
        distributions=(
            pure("keyring", 'importlib-metadata>=4; python_version < "3.12"'),
            pure("coverage", 'tomli; python_full_version <= "3.11.0a6" and extra == "toml"'),
            pure("importlib-metadata", "zipp>=3.20"),
            pure("zipp"),
            pure("tomli"),
            pure("stray", 'zipp; python_version >= "3"'),  # met on both: no reason
        ),
    )
    by_name = {d.subject: d for d in diff(here, there) if d.what is not What.INTERPRETER}
    assert by_name["importlib-metadata"].what is What.DISTRIBUTION_ADDED
    assert by_name["importlib-metadata"].because == (
        'another interpreter: keyring requires it where python_version < "3.12"'
    )
    assert by_name["zipp"].because == (
        "another interpreter: needed by importlib-metadata, here only for it"
    )
    assert "coverage requires it where" in by_name["tomli"].because  # under an extra
    assert by_name["lost"].what is What.DISTRIBUTION_REMOVED
    assert {d for d, x in by_name.items() if x.unexplained} == {"lost", "stray"}
    # the other way round the same reasons hold: removed, each explained alike
    back = {d.subject: d for d in diff(there, here) if d.what is What.DISTRIBUTION_REMOVED}
    assert sorted(n for n, d in back.items() if not d.unexplained) == [
        "importlib-metadata",
        "tomli",
        "zipp",
    ]
    # the same interpreter on both sides: a marker explains nothing
    same = replace(there, python=here.python)
    assert not [d for d in diff(here, same) if d.because.startswith("another interpreter:")]


def test_requires_dist_is_read_and_kept(tmp_path: Path, python312: Path, house: Path) -> None:
    found = fingerprint(_venv(tmp_path / "a", python312, house, "fpbeta"))
    beta = found.distribution("fpbeta")
    assert beta is not None and beta.requires == ("fpalpha",)
    assert Fingerprint.from_dict(found.to_dict()).distribution("fpbeta") == beta


def test_a_system_update_on_the_same_release_is_explained_another_library_is_not() -> None:
    here = Fingerprint(
        "cpython",
        "3.12.3",
        _platform("debian", "12"),
        (),
        (SystemPackage("libc6", "2.36-9+deb12u9"), SystemPackage("libpq5", "15.8-0+deb12u1")),
    )
    there = replace(
        here,
        system_packages=(
            SystemPackage("libc6", "2.36-9+deb12u13"),
            SystemPackage("libpq5", "16.1-1"),
        ),
    )
    by_name = {d.subject: d for d in diff(here, there)}
    assert by_name["libc6"].because and not by_name["libc6"].unexplained
    assert by_name["libpq5"].unexplained


def _platform(os_id: str, version: str) -> Platform:
    return Platform("x86_64", "manylinux_2_36_x86_64", "glibc", "2.36", os_id, version)


@pytest.mark.usefixtures("local_index")
def test_the_json_report_of_setup_and_verify_carries_the_fingerprint(tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\ncext\n")
    report = tmp_path / "setup.json"
    assert main(["setup", str(project), "--python", "3.12", "-q", "--json", str(report)]) == 0
    taken = Fingerprint.from_dict(json.loads(report.read_text())["fingerprint"])
    assert taken == fingerprint((project / ".venv").resolve())
    assert taken.distribution("good") is not None and taken.distribution("cext") is not None
    good = next((project / ".venv").glob("lib/python*/site-packages/good/__init__.py"))
    _edit(good, good.read_text() + "# edited\n")
    report = tmp_path / "verify.json"
    assert main(["verify", str(project), "-q", "--json", str(report)]) == 1  # integrity
    again = Fingerprint.from_dict(json.loads(report.read_text())["fingerprint"])
    assert [(d.what, d.subject) for d in diff(taken, again)] == [
        (What.DISTRIBUTION_CONTENT, "good")
    ]
