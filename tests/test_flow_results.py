"""The flows called as the core is, with no terminal: each returns one frozen result, an error
inside it with what was learned before it, and its exit code is decided in one place."""

import dataclasses
from pathlib import Path

import pytest

from bulletproof.errors import ExitCode, InputError, ResolutionError
from bulletproof.flow.common import Options
from bulletproof.flow.doctor import doctor
from bulletproof.flow.results import closing
from bulletproof.flow.rollback import rollback
from bulletproof.flow.setup import setup
from bulletproof.flow.verify import verify_only
from bulletproof.reporter import Recorder, RunRecord
from bulletproof.verify.values import Verdict
from tests.conftest import write_project


@pytest.mark.usefixtures("local_index")
def test_setup_and_verify_return_frozen_results_and_say_their_steps_to_the_reporter(
    tmp_path: Path, python312: Path
) -> None:
    project = write_project(tmp_path / "p", "good==1.0\n")
    ui = Recorder(RunRecord("setup", project))
    result = setup(project, Options(python="3.12"), ui)
    assert result.error is None and result.changed
    assert result.verification is not None and result.verification.verdict is Verdict.VERIFIED
    assert result.generation is not None and result.generation.path.name == "gen-0001"
    assert closing(result) == (ExitCode.OK, f"verified: {project / '.venv'} switched to gen-0001")
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.changed = False  # type: ignore[misc]
    steps = [s.name for s in ui.record.steps]
    assert any(s.startswith("Locking for Python 3.12") for s in steps)
    assert any(s.startswith("Building environment gen-0001") for s in steps)
    assert ui.questions == []  # nothing needed consent

    again = verify_only(project, Options(), Recorder(RunRecord("verify", project)))
    assert again.error is None and again.stale == ()
    assert closing(again) == (ExitCode.OK, f"verified: {project / '.venv'}")


@pytest.mark.usefixtures("local_index")
def test_an_error_comes_back_in_the_result_with_what_was_learned_before_it(
    tmp_path: Path, python312: Path
) -> None:
    project = write_project(tmp_path / "p", "zq-no-such-package==1.0\n")
    result = setup(project, Options(python="3.12", strict=True), Recorder(RunRecord("s", project)))
    assert isinstance(result.error, ResolutionError)
    assert "zq-no-such-package" in result.error.message
    # learned before it: the project and the interpreter chosen
    assert result.project is not None and result.project.root == project.absolute()
    assert result.target is not None and result.target.interpreter.version.startswith("3.12")
    assert result.generation is None and not (project / ".venv").exists()


def test_a_missing_folder_is_an_input_error_in_every_flow(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    ui = Recorder(RunRecord("x", missing))
    for result in (
        setup(missing, Options(), ui),
        verify_only(missing, Options(), ui),
        doctor(missing, Options(), ui),
        rollback(missing, None, 1.0, ui),
    ):
        assert isinstance(result.error, InputError), result
        assert result.error.exit_code is ExitCode.USAGE
        assert f"{missing}: no such folder" in result.error.message
