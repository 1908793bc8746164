"""The plan of fixes in force: the engine adds one per failure a round, undoes what did not help."""

from __future__ import annotations

from dataclasses import dataclass, field

from bulletproof.lockfile.values import AddedRequirement
from bulletproof.mitigate.values import Fix
from bulletproof.model import FixKind


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
        if fix.kind is FixKind.CONSTRAINT and fix.value in self.constraints:
            self.constraints.remove(fix.value)
        elif fix.kind is FixKind.ENV:
            self.env.pop(fix.value.partition("=")[0], None)
        elif fix.kind is FixKind.PIN and self.pins.get(fix.package) == fix:
            del self.pins[fix.package]
        elif fix.kind is FixKind.INTERPRETER and self.interpreter == fix.value:
            self.interpreter = None
        elif fix.kind is FixKind.REQUIREMENT and fix.package in self.added:
            del self.added[fix.package]
