"""What locking comes to, and the moves recorded in the lock, as frozen values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class LockResult:
    path: Path
    input_hash: str
    reused: bool
    packages: int
    seconds: float
    packages_hash: str  # of what uv locked, without bulletproof's own [tool.bulletproof] table
    notes: tuple[str, ...] = ()  # what the lock was made from: the team's lock used or stale
    own_build_error: str = ""  # the project's own metadata did not build: its packaging's fault


@dataclass(frozen=True)
class MovedPin:
    """A pin the mitigation engine moved: a uv override in the lock, never the user's files."""

    package: str
    was: str  # the version that failed
    to: str
    reason: str

    @classmethod
    def from_dict(cls, raw: Any) -> MovedPin | None:
        """From the lock's [tool.bulletproof] moved-pins; None when the entry is malformed."""
        keys = ("package", "from", "to", "reason")
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in keys):
            return None
        return cls(raw["package"], raw["from"], raw["to"], raw["reason"])

    def as_dict(self) -> dict[str, str]:
        return {"package": self.package, "from": self.was, "to": self.to, "reason": self.reason}


@dataclass(frozen=True)
class AddedRequirement:
    """A requirement added for a module the project's code imports and does not declare: in
    the lock only, never the user's files."""

    module: str
    requirement: str
    reason: str

    @classmethod
    def from_dict(cls, raw: Any) -> AddedRequirement | None:
        keys = ("module", "requirement", "reason")
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in keys):
            return None
        return cls(raw["module"], raw["requirement"], raw["reason"])

    def as_dict(self) -> dict[str, str]:
        return {"module": self.module, "requirement": self.requirement, "reason": self.reason}


@dataclass(frozen=True)
class SetAside:
    """A requirement left out so that the rest could be delivered: it could not be fetched,
    locked or built, and no fix was left. Retried on every setup; never written to the user's
    files."""

    package: str
    stage: str  # "lock" (fetched or resolved) or "build"
    cause: str

    def as_dict(self) -> dict[str, str]:
        return {"package": self.package, "stage": self.stage, "cause": self.cause}
