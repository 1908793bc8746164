"""Run the project's tests in its environment and read the result of each test from the runner's
own machine-readable output (JUnit XML: pytest's ``--junitxml``, or unittest through
``unittest_junit.py``), never from its terminal text.

How the tests are run: ``[tool.bulletproof] tests`` when the project says; else pytest when it
configures pytest or has tests and pytest is in its environment; else unittest discovery. The
run gets the project's ``.env`` (as ``uv run --env-file`` would), the environment's ``bin`` first
on PATH, and a timeout."""

from __future__ import annotations

import configparser
import os
import shlex
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from bulletproof import proc
from bulletproof.code.codeimports import python_files
from bulletproof.errors import ToolError
from bulletproof.model import Project
from bulletproof.prove.results import CaseOutcome, CaseResult, ServiceCheck, SuiteReport
from bulletproof.prove.testclass import classify, raised_line
from bulletproof.tomlcompat import tomllib

UNITTEST_RUNNER = Path(__file__).with_name("unittest_junit.py")
_NO_TESTS_COLLECTED = 5  # pytest's exit code when it found nothing to run
_TEST_DIRS = ("tests", "test", "testing")


@dataclass(frozen=True)
class SuitePlan:
    runner: str  # "pytest", "unittest" or "command" (a command of the project's, results unread)
    words: tuple[str, ...]  # the command; "python" stands for the environment's interpreter
    found_by: str
    env: dict[str, str] = field(default_factory=dict)  # NAME=value words before the command
    problem: str = ""  # the tests cannot be run as found (pytest configured, not installed)
    start: str = "."  # unittest: the folder discovery starts in


def find_tests(project: Project, env: Path) -> SuitePlan | None:
    """How this project runs its tests, or None when it has none to run."""
    root = project.root
    has_pytest = any(env.glob("lib/python*/site-packages/pytest/__init__.py"))
    if project.config.tests:
        return _own_command(project.config.tests)
    configured = _pytest_config(root)
    if configured and not has_pytest:
        return SuitePlan(
            "pytest",
            (),
            configured,
            problem=f"the project configures pytest ({configured}) and its environment has no "
            "pytest: the extra or group that holds it was not installed",
        )
    if configured:
        return SuitePlan("pytest", ("python", "-m", "pytest"), configured)
    found = _test_files(root)
    if not found:
        return None
    if has_pytest:
        return SuitePlan("pytest", ("python", "-m", "pytest"), f"test files ({found})")
    # unittest does not look into a folder without __init__.py: discovery starts in it
    start = found.rstrip("/") if found.endswith("/") else "."
    return SuitePlan(
        "unittest", ("python", str(UNITTEST_RUNNER)), f"test files ({found})", start=start
    )


def _own_command(command: str) -> SuitePlan:
    """``[tool.bulletproof] tests``: "TZ=utc python -m pytest -q", "env A=1 pytest", "make test"."""
    words = shlex.split(command)
    if words[:1] == ["env"]:
        words.pop(0)
    env: dict[str, str] = {}
    while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    is_pytest = words[:1] == ["pytest"] or words[1:3] == ["-m", "pytest"]
    return SuitePlan(
        "pytest" if is_pytest else "command", tuple(words), "[tool.bulletproof] tests", env
    )


def _pytest_config(root: Path) -> str:
    """Where the project configures pytest ("" when it does not)."""
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            tool = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
        except (tomllib.TOMLDecodeError, OSError, UnicodeDecodeError):
            tool = {}
        if isinstance(tool, dict) and "pytest" in tool:
            return "[tool.pytest] in pyproject.toml"
    if (root / "pytest.ini").is_file():
        return "pytest.ini"
    for name, section in (("setup.cfg", "tool:pytest"), ("tox.ini", "pytest")):
        parser = configparser.RawConfigParser()
        try:
            parser.read(root / name, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_section(section):
            return f"[{section}] in {name}"
    if (root / "conftest.py").is_file():
        return "conftest.py"
    return ""


def _test_files(root: Path) -> str:
    """Where the project's tests are: a tests folder, else test files anywhere in its tree
    (``reader/parse_test.py``), as pytest's default discovery finds them."""
    for name in _TEST_DIRS:
        folder = root / name
        if folder.is_dir() and (any(folder.rglob("test*.py")) or any(folder.rglob("*_test.py"))):
            return f"{name}/"
    for path in python_files(root):
        if path.name.startswith("test_") or path.name.endswith("_test.py"):
            return path.relative_to(root).as_posix()
    return ""


def run_tests(
    project: Project,
    env: Path,
    plan: SuitePlan,
    *,
    timeout: float,
    variables: tuple[str, ...] = (),
    failed_services: tuple[ServiceCheck, ...] = (),
) -> SuiteReport:
    """Run the plan and read every test's outcome; ``variables``: what the code reads from the
    environment (a failure that names one is the environment's); ``failed_services``: the
    services whose probe failed (a failure that came through one is the environment's)."""
    python = str(env / "bin" / "python")
    words = tuple(python if w == "python" else w for w in plan.words)
    if plan.runner == "pytest" and words[:1] == ("pytest",):
        words = (python, "-m", "pytest", *words[1:])

    def report(
        cases: tuple[CaseResult, ...], seconds: float, code: int, problem: str
    ) -> SuiteReport:
        return SuiteReport(words, plan.found_by, cases, round(seconds, 3), code, problem)

    if plan.problem:
        return report((), 0.0, -1, plan.problem)
    with tempfile.TemporaryDirectory(prefix="bulletproof-tests-") as scratch:
        junit = Path(scratch) / "junit.xml"
        argv = list(words)
        if plan.runner == "pytest":
            argv += ["-p", "no:cacheprovider", f"--junitxml={junit}", "-o", "junit_family=xunit2"]
        elif plan.runner == "unittest":
            argv += [str(junit), plan.start]
        run_env = {
            **dotenv_of(project.root),
            **plan.env,
            "PATH": f"{env / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        start = time.monotonic()
        try:
            done = proc.run(argv, cwd=project.root, venv=env, env=run_env, timeout=timeout)
        except ToolError as exc:
            return report((), time.monotonic() - start, -1, exc.message)
        seconds = time.monotonic() - start
        if plan.runner == "command":
            return report((_whole_command(done, failed_services),), seconds, done.returncode, "")
        if not junit.is_file():
            tail = (done.stdout + done.stderr).strip()[-1500:]
            return report((), seconds, done.returncode, f"the test run gave no results:\n{tail}")
        cases = read_junit(junit, project.own_packages, variables, failed_services)
    problem = ""
    if done.returncode not in (0, 1, _NO_TESTS_COLLECTED) and not cases:
        problem = f"the test runner stopped with exit {done.returncode}"
    return report(cases, seconds, done.returncode, problem)


def _whole_command(done: proc.Completed, failed_services: tuple[ServiceCheck, ...]) -> CaseResult:
    """A command whose results cannot be read one by one: one case, its exit code."""
    if done.ok:
        return CaseResult(shlex.join(done.args), CaseOutcome.PASSED, done.seconds)
    text = done.stdout + done.stderr
    kind, needs = classify(text, (), (), failed_services)
    return CaseResult(
        shlex.join(done.args), CaseOutcome.FAILED, done.seconds, kind, needs, text.strip()[-300:]
    )


def dotenv_of(root: Path) -> dict[str, str]:
    """The variables the project's .env sets (empty when it has none)."""
    path = root / ".env"
    if not path.is_file():
        return {}
    from dotenv import dotenv_values  # noqa: PLC0415  (only when the project has a .env)

    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def read_junit(
    path: Path,
    own_modules: tuple[str, ...],
    variables: tuple[str, ...],
    failed_services: tuple[ServiceCheck, ...] = (),
) -> tuple[CaseResult, ...]:
    """Every <testcase> of a JUnit XML file, each failure and error classified."""
    try:
        tree = ET.parse(path)  # noqa: S314  (written by the runner we just ran, in our scratch)
    except ET.ParseError:
        return ()
    cases = []
    for element in tree.iter("testcase"):
        classname = element.get("classname", "")
        name = element.get("name", "")
        test_id = f"{classname}::{name}" if classname else name
        seconds = float(element.get("time", "0") or 0)
        outcome, detail = CaseOutcome.PASSED, None
        for child in element:
            if child.tag in ("failure", "error"):
                outcome = CaseOutcome.FAILED if child.tag == "failure" else CaseOutcome.ERROR
                detail = child
                break
            if child.tag == "skipped":
                outcome = CaseOutcome.SKIPPED
        if detail is None:
            cases.append(CaseResult(test_id, outcome, seconds))
            continue
        message = detail.get("message", "")
        text = f"{message}\n{detail.text or ''}"
        kind, needs = classify(text, own_modules, variables, failed_services)
        # pytest's message for a collection error is only "collection failure"
        first = raised_line(text) or (message.strip().splitlines() or [""])[0]
        cases.append(CaseResult(test_id, outcome, seconds, kind, needs, first[:300]))
    return tuple(cases)
