"""What proving the project's work comes to, as frozen values: one run of its tests
(``SuiteReport``), the services its settings name (``ServiceCheck``), its own application
started and asked (``AppCheck``), and all of it held to the gate (``ProofReport``). The readers
in ``code/`` make the ``Service`` and ``App`` values these start from."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bulletproof.code.found import App, AppSkip, Service


class CaseOutcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"  # an assertion or an exception in the test
    ERROR = "error"  # in a fixture or while collecting
    SKIPPED = "skipped"  # skipped or an expected failure: outside the pass rate


class FailureClass(enum.Enum):
    ENVIRONMENT = "environment"  # the environment lacks something: a module, a library, a service…
    CODE = "code"  # everything else: listed, never "fixed"


@dataclass(frozen=True)
class ServiceCheck:
    service: Service
    ok: bool
    client: str  # what probed it: "psycopg", "psycopg2", "redis", "tcp"
    cause: str = ""  # for a failure: what it is, in plain words
    hint: str = ""  # and what to do


@dataclass(frozen=True)
class Answer:
    path: str
    status: int  # 0: no answer
    seconds: float


@dataclass(frozen=True)
class AppCheck:
    app: App
    server: str  # "uvicorn", "hypercorn", "wsgiref"; "" when it could not be started
    answers: tuple[Answer, ...] = ()
    problem: str = ""  # why it did not start or answer
    # the metrics route's body is valid Prometheus text exposition (None: no metrics route);
    # when it is not, metrics_problem says which line breaks the format and how
    metrics: bool | None = None
    metrics_problem: str = ""
    ran_in: str = ""  # "a scratch copy", or the project's folder and why it was not copied
    discarded: tuple[str, ...] = ()  # files the app wrote in its scratch copy, deleted with it
    # files that appeared or changed in the project while the app ran: anyone's, left in place
    appeared: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    reaped: str = ""  # an app server an earlier run left running, stopped

    @property
    def ok(self) -> bool:
        return not self.problem and any(0 < a.status < 500 for a in self.answers)


@dataclass(frozen=True)
class CaseResult:
    id: str  # "tests/test_x.py::test_y", or the module for a collection error
    outcome: CaseOutcome
    seconds: float
    failure_class: FailureClass | None = None  # for a failure or an error
    needs: str = ""  # for an environment failure: "module foo", "service 127.0.0.1:5432"…
    message: str = ""  # the exception line


@dataclass(frozen=True)
class SuiteReport:
    """One run of the project's tests: what was run, why that command, each test's result."""

    command: tuple[str, ...]  # as run, in the environment
    found_by: str  # why this command: "[tool.bulletproof] tests", "pytest config in tox.ini"…
    cases: tuple[CaseResult, ...]
    seconds: float
    exit_code: int
    problem: str = ""  # the run itself did not give results (timed out, runner crashed)
    cached: bool = False  # an earlier passing run of the same environment and files

    def count(self, outcome: CaseOutcome) -> int:
        return sum(case.outcome is outcome for case in self.cases)

    @property
    def environment_failures(self) -> tuple[CaseResult, ...]:
        return tuple(c for c in self.cases if c.failure_class is FailureClass.ENVIRONMENT)

    @property
    def code_failures(self) -> tuple[CaseResult, ...]:
        return tuple(c for c in self.cases if c.failure_class is FailureClass.CODE)

    @property
    def pass_rate(self) -> float | None:
        """Passed over passed, failed and errors; skipped and xfailed tests stay out."""
        counted = [c for c in self.cases if c.outcome is not CaseOutcome.SKIPPED]
        if not counted:
            return None
        return sum(c.outcome is CaseOutcome.PASSED for c in counted) / len(counted)

    def meets(self, threshold: float) -> bool:
        """The run gave results, none of its failures is the environment's, and its pass rate
        is at least ``threshold`` (a run in which nothing was counted has no rate to miss)."""
        rate = self.pass_rate
        return (
            not self.problem
            and not self.environment_failures
            and (rate is None or rate >= threshold)
        )


@dataclass(frozen=True)
class ProofReport:
    """Whether the project's work works in its environment: its tests (None when it has none),
    the services its settings name, its application, the variables its code requires that
    nothing sets, and the gate the tests' pass rate is held to."""

    suite: SuiteReport | None
    threshold: float  # the pass rate the gate asks for, 0..1
    services: tuple[ServiceCheck, ...] = ()  # the services its settings name, probed
    app: AppCheck | None = None  # its own application, started and asked
    app_skipped: tuple[AppSkip, ...] = ()  # applications not started (or none found), and why
    missing_variables: tuple[str, ...] = ()  # required by the code, set neither here nor in .env

    @property
    def failed_services(self) -> tuple[ServiceCheck, ...]:
        """The services that did not answer and count against the gate (a URL only written as
        a literal in the code is said, not counted)."""
        return tuple(c for c in self.services if not c.ok and c.service.gates)

    @property
    def test_count(self) -> int:
        return len(self.suite.cases) if self.suite is not None else 0

    @property
    def ok(self) -> bool:
        return (
            (self.suite is None or self.suite.meets(self.threshold))
            and not self.missing_variables
            and not self.failed_services
            and (self.app is None or self.app.ok)
        )
