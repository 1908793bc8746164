"""Asking before a fix that changes what the project resolves to (a moved pin, an added
requirement, another interpreter), and the error a run ends with when it cannot fix a failure.
The answer is returned: recording a declined fix is the caller's (its attempt log)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bulletproof.errors import BulletproofError
from bulletproof.mitigate.values import Attempt, Fix
from bulletproof.reporter import Reporter
from bulletproof.verify.values import Verification


class Unfixable(BulletproofError):
    """Something failed that the engine could not fix; the environment is as it was. Carries
    every attempt made, and the verification of the last generation that failed it (None when
    none was built or verified)."""

    def __init__(
        self,
        message: str,
        attempts: Sequence[Attempt] = (),
        *,
        verification: Verification | None = None,
        hint: str | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint, detail=detail)
        self.attempts = tuple(attempts)
        self.verification = verification


def consents(ui: Reporter, assume_yes: bool, fix: Fix) -> bool:
    """Whether the user agrees to ``fix``: ``--yes``, or yes at a terminal (never a prompt
    without one)."""
    if assume_yes:
        return True
    return sys.stdin.isatty() and ui.ask(f"{fix.describe()} (recorded in the lock only)?")


def declined(fix: Fix, attempts: Sequence[Attempt]) -> Unfixable:
    """The error a declined fix ends the run with, with every attempt so far (the caller has
    settled the fix's own as declined)."""
    return Unfixable(
        f"setup would {fix.describe()}, and needs consent for that",
        attempts,
        hint="run again with --yes to let it (the lock records it; your files stay as they are)",
    )
