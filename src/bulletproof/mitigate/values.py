"""The repair's fixes and attempts, as frozen values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bulletproof.lockfile.values import MovedPin
from bulletproof.model import (
    FixKind,
    Stage,
    _Named,
)


@dataclass(frozen=True)
class Fix:
    kind: FixKind
    value: str  # "libpq-dev", "cython<3", "UV_NATIVE_TLS=1", "numpy==2.1.0", an interpreter path
    package: str = ""  # for a pin: the distribution it moves
    was: str = ""  # for a pin: the version that failed
    reason: str = ""  # a pin: why it moved (recorded in the lock); a system package: found how
    library: str = ""  # a system package for a library a module could not load: that library

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", FixKind(self.kind))  # a plain string is accepted

    @property
    def level(self) -> int:
        return self.kind.level

    def moved_pin(self) -> MovedPin:
        """A pin fix as the lock records it."""
        return MovedPin(self.package, self.was, self.value.partition("==")[2], self.reason)

    def describe(self) -> str:
        return {
            "system": f"install the system package {self.value}"
            + (f" ({self.reason})" if self.reason else ""),
            "constraint": f"build with the constraint {self.value}"
            + (f" ({self.reason})" if self.reason else ""),
            "env": f"set {self.value} for uv and the builds",
            "requirement": f"add {self.value} for the import of {self.package} (in the lock only)",
            "pin": f"move {self.package} from {self.was} to {self.value.split('==')[-1]}",
            "interpreter": f"use the interpreter {self.value}",
        }[self.kind.value]


class Outcome(_Named):
    """What came of an attempt."""

    PENDING = "pending"
    FIXED = "fixed"
    DID_NOT_HELP = "did not help"
    NO_FIX = "no fix known"
    DECLINED = "declined"
    # no fix left for one requirement: it is left out and the rest delivered without it
    SET_ASIDE = "set aside"


@dataclass(frozen=True)
class Attempt:
    """One fix tried for one failure (or none, when none was left). Its outcome is settled by a
    new value in the repair's append-only log (mitigate/attemptlog.py), never in place."""

    package: str
    stage: str
    signature: str  # the matched signature's id; "" when nothing matched
    cause: str
    evidence: tuple[str, ...]  # the log lines it matched
    fix: Fix | None
    outcome: Outcome = Outcome.PENDING
    values: Mapping[str, str] = field(default_factory=dict)  # what the signature's groups caught

    def as_dict(self) -> dict[str, object]:
        return {
            "package": self.package,
            "stage": Stage(self.stage).value,
            "signature": self.signature,
            "cause": self.cause,
            "evidence": list(self.evidence),
            "fix": None
            if self.fix is None
            else {
                "kind": self.fix.kind.value,
                "value": self.fix.value,
                "what": self.fix.describe(),
            },
            "outcome": Outcome(self.outcome).value,
        }
