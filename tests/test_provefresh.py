"""`prove --fresh` on this host: what it refuses before building anything (an unknown release,
no local environment, no builder), the build context it makes, and what a failed build says.
The build itself is tests/test_fresh_prove.py's (a fresh system, minutes)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from bulletproof.cli import main
from bulletproof.errors import EnvironmentFault, ExitCode, InputError
from bulletproof.flow.provefresh import (
    FreshOptions,
    copy_project,
    failed_status,
    prove_fresh,
    prove_stages,
    said_of_tests,
)
from bulletproof.proc import uv_bin
from bulletproof.reporter import Recorder, RunRecord
from tests.conftest import write_project


def _ui(project: Path) -> Recorder:
    return Recorder(RunRecord(command="prove", project_dir=project))


def _with_venv(project: Path, python312: Path) -> Path:
    venv = project / ".venv"
    subprocess.run([uv_bin(), "venv", str(venv), "--python", str(python312), "-q"], check=True)
    return venv


def test_an_unknown_release_is_refused_before_anything(tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj", "")
    result = prove_fresh(project, FreshOptions("sid"), _ui(project))
    assert isinstance(result.error, InputError)
    assert "sid" in result.error.message and "bookworm" in result.error.message
    assert result.exit_code is ExitCode.USAGE
    assert main(["prove", str(project), "--fresh", "buster", "-q"]) == ExitCode.USAGE
    assert main(["prove", str(project), "-q"]) == ExitCode.USAGE  # --fresh is required


def test_no_local_environment_is_an_error_that_says_setup_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "")
    result = prove_fresh(project, FreshOptions("bookworm"), _ui(project))
    assert isinstance(result.error, InputError)
    assert ".venv" in result.error.message
    assert result.error.hint is not None and "bulletproof setup" in result.error.hint
    report = tmp_path / "r.json"
    code = main(["prove", str(project), "--fresh", "bookworm", "--json", str(report)])
    assert code == ExitCode.USAGE
    assert "no local environment" in capsys.readouterr().err
    assert json.loads(report.read_text())["result"]["exit_code"] == ExitCode.USAGE


def test_no_builder_on_path_is_a_clear_error(
    tmp_path: Path, python312: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_project(tmp_path / "proj", "")
    _with_venv(project, python312)
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = prove_fresh(project, FreshOptions("trixie"), _ui(project))
    assert isinstance(result.error, EnvironmentFault)
    assert "buildah" in result.error.message
    assert result.error.hint is not None and "apt-get install buildah" in result.error.hint
    assert result.exit_code is ExitCode.FAILED
    assert result.local is None  # nothing was read or built before the refusal


def test_the_build_context_is_a_copy_without_what_was_made_here(tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    (project / "pkg").mkdir()
    (project / "pkg" / "__init__.py").write_text("X = 1\n")
    (project / "link").symlink_to("pkg")
    for made in (".venv/bin", ".venv-old", ".bulletproof/generations", "pkg/__pycache__"):
        (project / made).mkdir(parents=True)
    (project / "env").mkdir()
    (project / "env" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    # build output made for this machine: cargo's target (it names this machine's rustc), a
    # tagged cache folder; a folder merely called target is the project's
    (project / "core" / "target").mkdir(parents=True)
    (project / "core" / "target" / ".rustc_info.json").write_text("{}")
    (project / "cache").mkdir()
    (project / "cache" / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55")
    (project / "pkg" / "target").mkdir()
    (project / "pkg" / "target" / "data.txt").write_text("x")
    context = tmp_path / "context"
    copy_project(project, context)
    copied = {str(p.relative_to(context)) for p in context.rglob("*")}
    assert copied == {
        "requirements.txt",
        "pkg",
        "pkg/__init__.py",
        "pkg/target",
        "pkg/target/data.txt",
        "link",
        ".git",
        ".git/HEAD",
        "core",
    }
    assert (context / "link").is_symlink()
    assert [p.name for p in (project / ".venv").iterdir()] == ["bin"]  # the user's, as it was


def test_the_prove_stages_keep_verify_s_exit_code_and_export_the_report() -> None:
    stages = prove_stages()
    assert "FROM runtime AS prove" in stages and "FROM scratch AS report" in stages
    assert "verify /project --tests --json /out/report.json" in stages
    assert "echo $? > /out/exit-code" in stages  # a failed verify is reported, not a failed build
    assert ".env" not in stages
    # the project's settings reach the tests of this scratch image only when it has them
    assert "COPY .env /project/.env" in prove_stages(settings=True)


def test_a_failed_build_step_s_exit_status_is_the_exit_code() -> None:
    log = (
        "STEP 9/12: RUN bulletproof setup /project --locked --yes\n...\n"
        'error building at STEP "RUN bulletproof setup /project": exit status 6\n'
    )
    assert failed_status(log) == 6
    assert failed_status("error: no space left on device") == 1


def test_what_the_tests_did_there_is_said_and_none_is_not_a_pass() -> None:
    assert said_of_tests(None) == "no tests found there"
    assert said_of_tests({"found": False, "counts": {"passed": 0}}) == "no tests found there"
    found = {"found": True, "counts": {"passed": 5, "failed": 1, "skipped": 0}}
    assert said_of_tests(found) == "tests there: 5 passed, 1 failed"
    assert said_of_tests({"found": True, "counts": {"passed": 0}}) == "tests there: none ran"
