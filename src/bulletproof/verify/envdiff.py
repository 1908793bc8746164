"""What differs between two environments, as values any renderer can show (the terminal's
table, the JSON report, an HTML section): each side (its fingerprint, its verdicts, which of the
variables the project's code reads are set there) and one `Row` per difference.

The fingerprint's differences come from `fingerprintdiff.diff`, with what explains them; the
variables and the verdicts are added here. A variable is only ever a name and whether it is
set: its value never enters a side, a row or a report (it may be a secret)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulletproof.code.envvars import env_vars
from bulletproof.verify.fingerprint import Fingerprint
from bulletproof.verify.fingerprintdiff import Difference, What, diff

FROM_ENVIRONMENT = "the environment"
FROM_DOTENV = ".env"
NOT_VERIFIED_HERE = "not verified here"


@dataclass(frozen=True)
class VariableState:
    name: str
    set: bool
    source: str  # FROM_ENVIRONMENT, FROM_DOTENV, or "" when unset; never the value

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "set": self.set, "source": self.source}


@dataclass(frozen=True)
class Side:
    """One environment as compared: a JSON report's or a project folder's live `.venv`."""

    label: str  # the report file or DIR, as given
    kind: str  # "report", "live"
    fingerprint: Fingerprint
    verdict: str  # "verified", "usable", "broken"; NOT_VERIFIED_HERE for a live DIR
    tests: str = ""  # "passed", "failed"; "" when the tests were not run
    variables: tuple[VariableState, ...] | None = None  # None: the report does not say

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "kind": self.kind,
            "verdict": self.verdict,
            "tests": self.tests,
            "variables": None if self.variables is None else [v.to_dict() for v in self.variables],
            "fingerprint": self.fingerprint.to_dict(),
        }


@dataclass(frozen=True)
class Row:
    """One difference: its section ("interpreter", "platform", "distribution", "system
    package", "library", "variable", "verdict"), what differs, both sides' values and what
    explains it ("" when nothing does)."""

    section: str
    what: str  # "distribution version", "variable", "verdict"...
    subject: str  # the field, the distribution's, package's or variable's name
    left: str
    right: str
    because: str = ""
    cause: bool = False  # the interpreter or the platform: what other rows follow from

    @property
    def unexplained(self) -> bool:
        return not self.cause and not self.because

    def to_dict(self) -> dict[str, Any]:
        return {
            "section": self.section,
            "what": self.what,
            "subject": self.subject,
            "left": self.left,
            "right": self.right,
            "because": self.because,
            "unexplained": self.unexplained,
        }


_SECTIONS = {
    What.INTERPRETER: "interpreter",
    What.PLATFORM: "platform",
    What.SYSTEM_PACKAGE_ADDED: "system package",
    What.SYSTEM_PACKAGE_REMOVED: "system package",
    What.SYSTEM_PACKAGE_VERSION: "system package",
    What.LIBRARY_UNRESOLVED: "library",
}


def compare(a: Side, b: Side) -> tuple[Row, ...]:
    """Every difference from ``a`` to ``b``: the fingerprint's (causes first), then the
    variables by name, then the verdicts; empty when nothing differs."""
    return (
        *(_row(d) for d in diff(a.fingerprint, b.fingerprint)),
        *_variables(a, b),
        *_verdicts(a, b),
    )


def _row(d: Difference) -> Row:
    section = _SECTIONS.get(d.what, "distribution")
    return Row(section, d.what.value, d.subject, d.left, d.right, d.because, d.cause)


def _variables(a: Side, b: Side) -> list[Row]:
    if a.variables is None or b.variables is None:
        return []  # an older report: which variables were set there is not known
    left = {v.name: v for v in a.variables}
    right = {v.name: v for v in b.variables}
    rows = []
    for name in sorted(left.keys() | right.keys()):
        x, y = _state(left.get(name)), _state(right.get(name))
        if x != y:
            because = "" if name in left and name in right else "the code reads it on one side only"
            rows.append(Row("variable", "variable", name, x, y, because))
    return rows


def _state(v: VariableState | None) -> str:
    if v is None:
        return "not read"
    return f"set ({v.source})" if v.set else "unset"


def _verdicts(a: Side, b: Side) -> list[Row]:
    rows = []
    for field, x, y in (("verification", a.verdict, b.verdict), ("tests", a.tests, b.tests)):
        # tests run on one side only say nothing about the other, and a live DIR was not
        # verified by diff: its side's line says so, a row would only repeat it
        if x == y or not x or not y or NOT_VERIFIED_HERE in (x, y):
            continue
        rows.append(Row("verdict", "verdict", field, x, y))
    return rows


def variable_states(
    root: Path, environ: Mapping[str, str] | None = None
) -> tuple[VariableState, ...]:
    """Each variable the project's code (not its tests) reads, by name, with whether this
    process's environment or the project's .env sets it."""
    environ = os.environ if environ is None else environ
    dotenv = _dotenv_names(root)
    states = []
    for name in sorted({v.name for v in env_vars(root)}):
        if name in environ:
            states.append(VariableState(name, set=True, source=FROM_ENVIRONMENT))
        elif name in dotenv:
            states.append(VariableState(name, set=True, source=FROM_DOTENV))
        else:
            states.append(VariableState(name, set=False, source=""))
    return tuple(states)


def _dotenv_names(root: Path) -> frozenset[str]:
    path = root / ".env"
    if not path.is_file():
        return frozenset()
    from dotenv import dotenv_values  # noqa: PLC0415  (only when the project has a .env)

    try:
        values = dotenv_values(path)
    except (OSError, UnicodeDecodeError):  # unreadable: the tests' run would not see it either
        return frozenset()
    return frozenset(k for k, v in values.items() if v is not None)


def side_from_report(data: object, label: str) -> Side:
    """The side a setup/verify JSON report describes (its `fingerprint`), or the fresh system
    of a `prove --fresh` report; ValueError when it describes no environment."""
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ValueError("not a bulletproof JSON report (no schema_version)")
    found = data.get("fingerprint")
    verdict = _report_verdict(data)
    prove = data.get("prove")
    if found is None and isinstance(prove, dict) and prove.get("fresh_fingerprint"):
        found = prove["fresh_fingerprint"]  # the fresh system's environment
        fresh = prove.get("fresh") or {}
        verdict = _verdict_of_exit(fresh.get("exit_code"))
    if found is None:
        raise ValueError(
            "the report has no fingerprint: it describes no verified environment "
            f"(command {data.get('command')!r}, exit code {_exit_code(data)})"
        )
    return Side(
        label=label,
        kind="report",
        fingerprint=Fingerprint.from_dict(found),
        verdict=verdict,
        tests=_report_tests(data),
        variables=_report_variables(data.get("variables")),
    )


def _exit_code(data: dict[str, Any]) -> object:
    result = data.get("result")
    return result.get("exit_code") if isinstance(result, dict) else None


def _report_verdict(data: dict[str, Any]) -> str:
    verification = data.get("verification")
    if isinstance(verification, dict) and verification.get("verdict"):
        return str(verification["verdict"])
    return _verdict_of_exit(_exit_code(data))


def _verdict_of_exit(code: object) -> str:
    known = {0: "verified", 4: "usable"}
    if isinstance(code, int):
        return known.get(code, f"exit {code}")
    return ""


def _report_tests(data: dict[str, Any]) -> str:
    tests = data.get("tests")
    if not isinstance(tests, dict):
        return ""
    return "passed" if tests.get("ok") else "failed"


def _report_variables(data: object) -> tuple[VariableState, ...] | None:
    if not isinstance(data, list):
        return None
    return tuple(
        VariableState(str(v["name"]), bool(v.get("set")), str(v.get("source", "")))
        for v in data
        if isinstance(v, dict) and "name" in v
    )
