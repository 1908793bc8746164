"""doctor's predictions: wheel or build, what an sdist needs, known breakage, consent in setup."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from bulletproof.analyze.compat import compat_findings
from bulletproof.analyze.doctor import collect_needs, diagnose
from bulletproof.analyze.sdist import inspect_sdist
from bulletproof.analyze.sysdeps import COMPILER, PYTHON_HEADERS
from bulletproof.analyze.values import Severity
from bulletproof.analyze.wheels import LockedPackage, has_wheel, source_builds, target_tags
from bulletproof.cli import main
from bulletproof.host.osinfo import read_os_info
from bulletproof.host.pkgmgr import installed
from bulletproof.host.values import Interpreter, Target
from bulletproof.knowledge.mappings import ecosystem_for, load_mapping
from bulletproof.model import OsInfo
from bulletproof.project import discover
from tests.conftest import not_here, snapshot, write_project


def _interp(version: str, headers: bool = True) -> Interpreter:
    return Interpreter(Path("/usr/bin/python3"), version, "cpython", headers, "given")


def _pkg(name: str, version: str = "1.0", wheels: tuple[str, ...] = ()) -> LockedPackage:
    return LockedPackage(name, version, wheels, f"/nowhere/{name}-{version}.tar.gz", None)


def test_wheel_or_build_follows_the_targets_tags() -> None:
    py312, py311 = target_tags(_interp("3.12.1")), target_tags(_interp("3.11.7"))
    native = _pkg("x", wheels=("x-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",))
    abi3 = _pkg("y", wheels=("y-1.0-cp38-abi3-manylinux_2_17_x86_64.whl",))
    pure = _pkg("z", wheels=("z-1.0-py3-none-any.whl",))
    windows = _pkg("w", wheels=("w-1.0-cp312-cp312-win_amd64.whl",))
    assert has_wheel(native, py312) and not has_wheel(native, py311)
    assert has_wheel(abi3, py312) and has_wheel(abi3, py311)
    assert has_wheel(pure, py311)
    assert not has_wheel(windows, py312)
    builds = source_builds((native, abi3, pure, windows, _pkg("s")), _interp("3.11.7"))
    assert [p.name for p in builds] == ["x", "w", "s"]


def _sdist(path: Path, pyproject: str, files: tuple[str, ...]) -> LockedPackage:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in {"pyproject.toml": pyproject, **dict.fromkeys(files, "")}.items():
            data = text.encode()
            member = tarfile.TarInfo(f"pkg-1.0/{name}")
            member.size = len(data)
            archive.addfile(member, io.BytesIO(data))
    return LockedPackage("pkg", "1.0", (), str(path), None)


def test_sdist_external_table_and_sources_are_read(tmp_path: Path) -> None:
    pyproject = (
        '[build-system]\nrequires = ["setuptools", "setuptools-rust>=1"]\n'
        '[external]\nbuild-requires = ["dep:virtual/compiler/c"]\n'
        'build-host-requires = ["dep:generic/libpq"]\ndependencies = ["dep:generic/libmagic"]\n'
    )
    package = _sdist(tmp_path / "pkg-1.0.tar.gz", pyproject, ("src/a.c", "src/b.cpp", "src/c.pyx"))
    facts = inspect_sdist(package, cache=tmp_path / "cache")
    assert facts.languages == {"c", "cxx", "rust"}
    assert facts.external.host_requires == ("dep:generic/libpq",)  # the older key is accepted
    assert facts.external.dependencies == ("dep:generic/libmagic",)
    needs = collect_needs(
        discover(write_project(tmp_path / "p", "pkg\n")), (package,), (package,), {"pkg": facts}
    )
    got = {(n.identifier, n.role) for n in needs}
    assert {
        (COMPILER + "c", "build"),
        (COMPILER + "rust", "build"),
        (PYTHON_HEADERS, "host"),
        ("dep:generic/libpq", "host"),
        ("dep:generic/libmagic", "run"),
    } <= got


def test_known_needs_apply_to_builds_and_run_time_needs_to_wheels(tmp_path: Path) -> None:
    project = discover(write_project(tmp_path, "x\n"))
    psycopg2, magic = (
        _pkg("psycopg2", "2.9.9"),
        _pkg("python-magic", "0.4.27", ("m-1-py3-none-any.whl",)),
    )
    needs = collect_needs(project, (psycopg2, magic), (psycopg2,), {})
    assert ("dep:generic/libpq", "host", "psycopg2") in {
        (n.identifier, n.role, n.package) for n in needs
    }
    assert ("dep:generic/libmagic", "run", "python-magic") in {
        (n.identifier, n.role, n.package) for n in needs
    }
    # a wheel of psycopg2 needs nothing; psycopg with its binary variant locked needs no libpq
    wheel = _pkg("psycopg2", "2.9.9", ("p-1-cp312-cp312-manylinux_2_17_x86_64.whl",))
    assert collect_needs(project, (wheel,), (), {}) == []
    pure, binary = (
        _pkg("psycopg", "3.2.3", ("psycopg-3.2.3-py3-none-any.whl",)),
        _pkg("psycopg-binary"),
    )
    assert collect_needs(project, (pure, binary), (), {}) == []
    assert collect_needs(project, (pure,), (), {})[0].identifier == "dep:generic/libpq"


def test_known_breakage_is_fixed_by_setup_a_pin_with_consent_a_constraint_by_itself() -> None:
    locked = (_pkg("wrapt", "1.12.1"), _pkg("pyyaml", "5.4.1"), _pkg("numpy", "1.24.4"))
    findings, constraints = compat_findings(locked, frozenset({"pyyaml"}), _interp("3.12.1"))
    by_id = {f.id: f for f in findings}
    assert by_id["compat:wrapt-formatargspec"].severity is Severity.ACTION
    assert "in the lock only" in by_id["compat:wrapt-formatargspec"].fix
    assert by_id["compat:pyyaml-cython3"].severity is Severity.ACTION
    assert "compat:numpy-distutils" not in by_id  # numpy is not built here
    assert constraints == ["cython<3"]
    findings, constraints = compat_findings(locked, frozenset(), _interp("3.10.12"))
    assert findings == [] and constraints == []
    otel = (_pkg("opentelemetry-instrumentation", "0.46b0"), _pkg("setuptools", "82.0.0"))
    assert (
        compat_findings(otel, frozenset(), _interp("3.12.1"))[0][0].id
        == "compat:pkg-resources-gone"
    )
    otel = (otel[0], _pkg("setuptools", "81.0.0"))
    assert compat_findings(otel, frozenset(), _interp("3.12.1"))[0] == []


@pytest.mark.usefixtures("local_index")
def test_doctor_predicts_a_source_build_and_changes_nothing(
    tmp_path: Path, python312: Path
) -> None:
    project = write_project(tmp_path / "p", "fromsource\ngood\n")
    before = snapshot(project)
    report = tmp_path / "doctor.json"
    assert main(["doctor", str(project), "--python", "3.12", "--json", str(report)]) == 0
    data = json.loads(report.read_text())["diagnosis"]
    assert data["source_builds"] == ["fromsource==1.0"]
    finding = next(f for f in data["findings"] if f["id"] == "build:fromsource")
    assert finding["severity"] == "info" and "no wheel for CPython 3.12" in finding["title"]
    assert snapshot(project) == before


def test_an_unknown_distro_gets_a_clear_message_not_a_crash(tmp_path: Path) -> None:
    lock = tmp_path / "pylock.toml"
    lock.write_text('lock-version = "1.0"\n[[packages]]\nname = "psycopg2"\nversion = "2.9.9"\n')
    project = discover(write_project(tmp_path / "p", "psycopg2\n"))
    target = Target(_interp("3.12.1", headers=False), "test")
    diagnosis = diagnose(project, target, lock, OsInfo(id="gentoo", pretty_name="Gentoo"), ())
    ids = {f.id: f for f in diagnosis.findings}
    assert "Gentoo" in ids["host:no-mapping"].title
    assert ids["build:psycopg2"].severity is not Severity.ACTION  # nothing setup could install
    assert diagnosis.system.ecosystem is None and diagnosis.system.commands == ()


def _apt_host_without(package: str) -> bool:
    ecosystem = ecosystem_for(read_os_info())
    if ecosystem != "debian-12" or shutil.which("dpkg-query") is None:
        return False
    return package not in installed(load_mapping(ecosystem).manager, (package,))


@pytest.mark.usefixtures("local_index")
def test_setup_never_prompts_without_a_terminal_and_changes_nothing(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not _apt_host_without("libzbar0"):
        not_here("needs a Debian 12 host without libzbar0")
    project = write_project(
        tmp_path / "p",
        "good\n",
        pyproject='[external]\ndependencies = ["dep:generic/zbar"]\n',
    )
    before = snapshot(project)
    assert main(["setup", str(project), "--python", "3.12"]) == 1  # pytest's stdin is no TTY
    err = capsys.readouterr().err
    assert "system packages are missing: libzbar0" in err
    assert "apt-get install --yes --no-install-recommends libzbar0" in err and "--yes" in err
    assert not (project / ".venv").exists()
    assert {
        k: v for k, v in snapshot(project).items() if not k.startswith((".bulletproof", "pylock"))
    } == before
    assert main(["setup", str(project), "--python", "3.12", "--no-system"]) == 0
    assert "--no-system: not installing libzbar0" in capsys.readouterr().err


def test_a_bad_external_table_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_project(tmp_path, "good\n", pyproject='[external]\nhost-requires = ["libpq"]\n')
    assert main(["doctor", str(tmp_path)]) == 2
    assert (
        "[external] host-requires[0] 'libpq' is not a PEP 725 identifier" in capsys.readouterr().err
    )


def test_a_failing_install_command_stops_with_its_output_and_is_not_marked_done(
    tmp_path: Path,
) -> None:
    from bulletproof.analyze.values import SystemPlan
    from bulletproof.apply.system import install_missing
    from bulletproof.errors import ToolError
    from bulletproof.reporter import Recorder, RunRecord

    ui = Recorder(RunRecord("setup", tmp_path))
    plan = SystemPlan(
        "debian-12", "apt", ("libx",), ("libx",), (("sh", "-c", "echo no >&2; exit 3"),)
    )
    with pytest.raises(ToolError) as caught:
        install_missing(plan, ui, assume_yes=True)
    assert "failed (exit 3)" in caught.value.message and caught.value.detail == "no\n"
    assert ui.record.steps == []  # no step recorded as done
