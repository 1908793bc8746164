"""The mitigation engine end to end on the test wheelhouse, with real uv and interpreters:
a moved pin (with and without consent), another interpreter, and a failure nothing fixes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulletproof.cli import main
from tests.conftest import need_python, snapshot, write_project

pytestmark = pytest.mark.usefixtures("local_index")


def _report(path: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def test_a_removed_api_moves_the_pin_in_the_lock_only(tmp_path: Path) -> None:
    project = write_project(tmp_path / "proj", "oldapi==1.0\n")
    report = tmp_path / "r.json"
    assert main(["setup", str(project), "--python", "3.12", "--yes", "--json", str(report)]) == 0
    attempts = _report(report)["mitigation"]
    assert [(a["package"], a["signature"], a["fix"]["value"], a["outcome"]) for a in attempts] == [
        ("oldapi", "stdlib-api-removed", "oldapi==1.1", "fixed")
    ]
    assert "cannot import name 'formatargspec' from 'inspect'" in attempts[0]["evidence"][0]
    lock = (project / "pylock.toml").read_text()
    assert 'name = "oldapi"\nversion = "1.1"' in lock
    assert 'from = "1.0"\nto = "1.1"' in lock  # recorded with its reason
    assert (project / "requirements.txt").read_text() == "oldapi==1.0\n"
    # the moved pin is carried: the next run changes nothing
    assert main(["setup", str(project), "--json", str(report)]) == 0
    assert _report(report)["lock"]["reused"] and not _report(report)["environment"]["changed"]


def test_a_moved_pin_needs_consent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without consent the pin is not moved: the environment as declared is delivered (its
    failure is one a pin would answer: usable, exit 4), and the run says how to allow it."""
    project = write_project(tmp_path / "proj", "oldapi==1.0\n")
    before = snapshot(project)
    report = tmp_path / "r.json"
    # stdin is not a terminal: no consent
    assert main(["setup", str(project), "--python", "3.12", "--json", str(report)]) == 4
    out = capsys.readouterr().out
    assert "move oldapi from 1.0 to 1.1" in out and "--yes" in out
    attempts = _report(report)["mitigation"]
    assert [(a["package"], a["outcome"]) for a in attempts] == [("oldapi", "declined")]
    lock = (project / "pylock.toml").read_text()
    assert 'name = "oldapi"\nversion = "1.0"' in lock  # not moved
    after = snapshot(project)
    kept = {k: v for k, v in after.items() if not k.startswith((".bulletproof", ".venv"))}
    assert kept == {**before, "pylock.toml": kept["pylock.toml"]}


def test_another_interpreter_when_no_version_works(tmp_path: Path) -> None:
    """distutils is gone from 3.12 on (the removed-modules data says so): from 3.13 the engine
    goes straight to 3.11, passing over 3.12, which has no distutils either."""
    for minor in ("3.11", "3.12", "3.13"):
        need_python(minor)
    project = write_project(tmp_path / "proj", "distlegacy==1.0\n")
    report = tmp_path / "r.json"
    assert main(["setup", str(project), "--python", "3.13", "--yes", "--json", str(report)]) == 0
    result = _report(report)
    assert result["target"]["version"].startswith("3.11.")
    steps = [
        (a["signature"], a["fix"]["kind"], a["outcome"]) for a in result["mitigation"] if a["fix"]
    ]
    assert steps == [("distutils-removed", "interpreter", "fixed")]
    assert "3.11" in result["mitigation"][0]["fix"]["value"]


def test_an_unfixable_failure_names_package_evidence_and_attempts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = write_project(tmp_path / "proj", "good==1.0\n")
    assert main(["setup", str(project), "--python", "3.12"]) == 0
    before = snapshot(project / ".bulletproof" / "generations")
    lock_before = (project / "pylock.toml").read_bytes()
    (project / "requirements.txt").write_text("good==1.0\nbroken==1.0\n")
    report = tmp_path / "r.json"
    # with --strict nothing short of verified: the environment and the lock stay as they were
    assert main(["setup", str(project), "--yes", "--strict", "--json", str(report)]) == 1
    out = capsys.readouterr().out
    assert "broken does not import" in out and "no fix known" in out
    attempts = _report(report)["mitigation"]
    assert attempts[-1]["package"] == "broken" and attempts[-1]["outcome"] == "no fix known"
    assert "not_installed_anywhere" in "\n".join(attempts[-1]["evidence"])
    assert snapshot(project / ".bulletproof" / "generations") == before
    assert (project / "pylock.toml").read_bytes() == lock_before  # as it was
    # without it, the best environment built is delivered, incomplete, with what fails named
    assert main(["setup", str(project), "--yes", "--json", str(report)]) == 6
    out = capsys.readouterr().out
    assert "broken does not import" in out and "incomplete:" in out
    result = _report(report)
    assert result["verification"]["verdict"] == "broken"
    assert result["incomplete"]["why"].startswith("broken does not import")
    # and the project's troubleshooting page lists it first
    assert main(["generate", "troubleshooting", str(project)]) == 0
    page = (project / "TROUBLESHOOTING.md").read_text()
    assert page.index("### broken") < page.index("## General failures")
