"""--tests: failures classified by what was raised, from a real pytest run's JUnit XML. The tests
below raise for real (a closed loopback port, a library that is not there, a command that is not
there) with names nothing in bulletproof knows; the client library's error type is made up."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bulletproof.cli import main
from bulletproof.prove.results import CaseOutcome, FailureClass
from bulletproof.prove.testrun import read_junit
from tests.conftest import only_from


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends


_SUITE = """
import ctypes, os, socket, subprocess
import pytest
import zqown

PORT = {port}

class ZqClientConnectionError(Exception):  # a client library's own error type, made up here
    pass

def test_passes():
    assert zqown.VALUE == 1

def test_missing_module():
    import zq_not_installed_anywhere  # noqa: F401

def test_missing_library():
    ctypes.CDLL("libzqnothere.so.7")

def test_missing_executable():
    subprocess.run(["zq-no-such-tool", "--version"], check=True)

def test_refused():
    socket.create_connection(("127.0.0.1", PORT), timeout=2)

def test_client_library_error():
    raise ZqClientConnectionError("the cluster said no")

def test_missing_variable():
    os.environ["ZQ_UNSET_TOKEN"]

def test_assertion():
    assert zqown.VALUE == 2

def test_value_error():
    int("zq")

def test_own_module_gone():
    import zqown.nothere  # noqa: F401

@pytest.mark.skip(reason="not today")
def test_skipped():
    pass

@pytest.mark.xfail(reason="known")
def test_xfail():
    assert False
"""


def test_each_failure_is_classified_by_what_was_raised(tmp_path: Path) -> None:
    (tmp_path / "zqown").mkdir()
    (tmp_path / "zqown" / "__init__.py").write_text("VALUE = 1\n")
    (tmp_path / "test_zq.py").write_text(textwrap.dedent(_SUITE.format(port=_closed_port())))
    junit = tmp_path / "junit.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}", "-q"],
        cwd=tmp_path,
        capture_output=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path)},
    )
    cases = {c.id.rsplit("::", 1)[-1]: c for c in read_junit(junit, ("zqown",), ())}

    def seen(name: str) -> tuple[CaseOutcome, FailureClass | None, str]:
        return cases[name].outcome, cases[name].failure_class, cases[name].needs

    env, code, failed = FailureClass.ENVIRONMENT, FailureClass.CODE, CaseOutcome.FAILED
    assert seen("test_passes") == (CaseOutcome.PASSED, None, "")
    assert seen("test_missing_module") == (failed, env, "module zq_not_installed_anywhere")
    assert seen("test_missing_library") == (failed, env, "library libzqnothere.so.7")
    assert seen("test_missing_executable") == (failed, env, "executable zq-no-such-tool")
    assert seen("test_refused")[:2] == (failed, env)
    assert seen("test_refused")[2].startswith("service ")
    assert seen("test_client_library_error")[:2] == (failed, env)
    assert seen("test_missing_variable") == (failed, env, "variable ZQ_UNSET_TOKEN")
    assert seen("test_assertion") == (failed, code, "")
    assert seen("test_value_error") == (failed, code, "")
    assert seen("test_own_module_gone") == (failed, code, "")
    assert seen("test_skipped")[0] is CaseOutcome.SKIPPED
    assert seen("test_xfail")[0] is CaseOutcome.SKIPPED
    assert "ZqClientConnectionError" in cases["test_client_library_error"].message


_UNITTESTS = """
import os
import unittest

import zqapp

class ZqTests(unittest.TestCase):
    def test_one(self):
        self.assertEqual(zqapp.double(2), 4)

    def test_two(self):
        self.assertEqual(zqapp.double(3), 6)

    def test_three(self):
        self.assertEqual(zqapp.double(0), 0)

    def test_four(self):
        self.assertEqual(zqapp.double(4), {four})

    def test_token_is_read(self):
        self.assertTrue(zqapp.token())
"""


@pytest.fixture
def unittest_project(tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with a unittest suite (no pytest in its environment), set up for real."""
    only_from(monkeypatch, str(wheelhouse))
    root = tmp_path / "zqproj"
    (root / "tests").mkdir(parents=True)
    (root / "requirements.txt").write_text("good==1.0\n")
    (root / "zqapp.py").write_text(
        "import os\n\ndef double(x):\n    return 2 * x\n\n"
        'def token():\n    return os.environ["ZQAPP_TOKEN"]\n'
    )
    (root / "tests" / "test_zqapp.py").write_text(textwrap.dedent(_UNITTESTS.format(four=8)))
    assert main(["setup", str(root), "--python", "3.12", "-q"]) == 0
    return root


def _verify_tests(root: Path, *extra: str) -> tuple[int, Any]:  # the report's tests, or None
    report = root.parent / "report.json"
    code = main(["verify", str(root), "--tests", "-q", "--json", str(report), *extra])
    return code, json.loads(report.read_text())["tests"]


def test_a_required_variable_unset_fails_the_gate_and_dotenv_sets_it(
    unittest_project: Path,
) -> None:
    code, tests = _verify_tests(unittest_project)
    assert code == 1
    assert tests["missing_variables"] == ["ZQAPP_TOKEN"]
    assert (tests["found"], tests["found_by"]) == (True, "test files (tests/)")
    assert tests["counts"]["passed"] == 4
    failing = [c for c in tests["cases"] if c["outcome"] != "passed"]
    assert [(c["class"], c["needs"]) for c in failing] == [("environment", "variable ZQAPP_TOKEN")]

    (unittest_project / ".env").write_text("ZQAPP_TOKEN=zq-secret\n")
    code, tests = _verify_tests(unittest_project)
    assert (code, tests["counts"]["passed"], tests["missing_variables"]) == (0, 5, [])
    assert tests["cached"] is False
    # nothing changed: the passing run is remembered; a changed test file runs them again
    code, tests = _verify_tests(unittest_project)
    assert (code, tests["cached"]) == (0, True)
    test_file = unittest_project / "tests" / "test_zqapp.py"
    test_file.write_text(textwrap.dedent(_UNITTESTS.format(four=9)))
    code, tests = _verify_tests(unittest_project)
    assert tests["cached"] is False
    assert (tests["counts"]["passed"], tests["counts"]["failed"], tests["pass_rate"]) == (4, 1, 0.8)
    assert (code, tests["threshold"]) == (0, 0.8)  # one code failure of five: the default gate
    # the same run under a gate above its rate fails on the rate alone (no environment failure)
    code, tests = _verify_tests(unittest_project, "--pass-rate", "0.9")
    assert (code, tests["pass_rate"], tests["threshold"]) == (1, 0.8, 0.9)
    assert tests["missing_variables"] == []
    assert [c["class"] for c in tests["cases"] if c["outcome"] != "passed"] == ["code"]


def test_a_project_without_tests_says_so(
    tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    only_from(monkeypatch, str(wheelhouse))
    root = tmp_path / "notests"
    root.mkdir()
    (root / "requirements.txt").write_text("good==1.0\n")
    assert main(["setup", str(root), "--python", "3.12", "-q"]) == 0
    code, tests = _verify_tests(root)
    assert (code, tests) == (0, None)


def test_a_bad_pass_rate_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a project folder, so that the exit 2 can only come from the rate (an empty folder is one)
    (tmp_path / "requirements.txt").write_text("good==1.0\n")
    for rate in ("80", "1.5", "-0.1", "eighty"):
        assert main(["verify", str(tmp_path), "--tests", "--pass-rate", rate]) == 2, rate
        err = capsys.readouterr().err
        assert f"argument --pass-rate: {rate!r} is not a number from 0 to 1" in err, err
    # a rate in range is taken: the run goes on to the project, which has no environment yet
    assert main(["verify", str(tmp_path), "--tests", "--pass-rate", "0.8"]) == 2
    err = capsys.readouterr().err
    assert "--pass-rate" not in err and f"no environment at {tmp_path / '.venv'}" in err, err


def test_the_projects_own_command_and_its_variables() -> None:
    from bulletproof.prove.testrun import _own_command

    plan = _own_command("env TZ=utc PDNS_PORT=8081 python -m pytest -q tests/unit")
    assert (plan.runner, plan.words, plan.env) == (
        "pytest",
        ("python", "-m", "pytest", "-q", "tests/unit"),
        {"TZ": "utc", "PDNS_PORT": "8081"},
    )
    assert _own_command("make check").runner == "command"


def test_pytest_configured_but_not_installed_is_a_problem(tmp_path: Path) -> None:
    from bulletproof.project import discover
    from bulletproof.prove.testrun import find_tests

    (tmp_path / "requirements.txt").write_text("good==1.0\n")
    (tmp_path / "tox.ini").write_text("[pytest]\naddopts = -q\n")
    env = tmp_path / "env"
    (env / "lib" / "python3.12" / "site-packages").mkdir(parents=True)
    plan = find_tests(discover(tmp_path), env)
    assert plan is not None
    assert "[pytest] in tox.ini" in plan.problem
