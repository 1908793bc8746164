"""What the engine works with: failures, fixes, attempts, and the plan of fixes in force."""

from __future__ import annotations

from dataclasses import dataclass, field

from bulletproof.model import AddedRequirement, MovedPin

# least intrusive first; "requirement" adds a package for an undeclared import
KINDS = ("system", "constraint", "env", "requirement", "pin", "interpreter")


@dataclass(frozen=True)
class Failure:
    package: str  # the distribution that failed ("" when none can be named)
    stage: str  # "build", "import", "resolve", "verify" or "undeclared" (module: the import)
    text: str  # the whole log or error
    module: str = ""  # for an import failure
    tolerated: bool = False  # not the environment's fault: tried, and left when nothing fixes it
    libraries: tuple[str, ...] = ()  # for an import failure: what it tried to load and could not


@dataclass(frozen=True)
class Fix:
    kind: str  # one of KINDS
    value: str  # "libpq-dev", "cython<3", "UV_NATIVE_TLS=1", "numpy==2.1.0", an interpreter path
    package: str = ""  # for a pin: the distribution it moves
    was: str = ""  # for a pin: the version that failed
    reason: str = ""  # a pin: why it moved (recorded in the lock); a system package: found how
    library: str = ""  # a system package for a library a module could not load: that library

    @property
    def level(self) -> int:
        return KINDS.index(self.kind)

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
        }[self.kind]


@dataclass
class Attempt:
    package: str
    stage: str
    signature: str  # the matched signature's id; "" when nothing matched
    cause: str
    evidence: tuple[str, ...]  # the log lines it matched
    fix: Fix | None
    outcome: str = "pending"  # "fixed", "did not help", "no fix known", "declined", "pending"
    values: dict[str, str] = field(default_factory=dict)  # what the signature's groups caught

    def as_dict(self) -> dict[str, object]:
        return {
            "package": self.package,
            "stage": self.stage,
            "signature": self.signature,
            "cause": self.cause,
            "evidence": list(self.evidence),
            "fix": None
            if self.fix is None
            else {"kind": self.fix.kind, "value": self.fix.value, "what": self.fix.describe()},
            "outcome": self.outcome,
        }


@dataclass
class Plan:
    """The fixes in force: the engine adds one per failure a round, undoes what did not help."""

    constraints: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    pins: dict[str, Fix] = field(default_factory=dict)  # by distribution
    interpreter: str | None = None
    added: dict[str, AddedRequirement] = field(default_factory=dict)  # by module

    def undo(self, fix: Fix) -> None:
        """Take a fix back out (an installed system package stays installed: it is noted)."""
        if fix.kind == "constraint" and fix.value in self.constraints:
            self.constraints.remove(fix.value)
        elif fix.kind == "env":
            self.env.pop(fix.value.partition("=")[0], None)
        elif fix.kind == "pin" and self.pins.get(fix.package) == fix:
            del self.pins[fix.package]
        elif fix.kind == "interpreter" and self.interpreter == fix.value:
            self.interpreter = None
        elif fix.kind == "requirement" and fix.package in self.added:
            del self.added[fix.package]
