"""Asking before a fix that changes what the project resolves to (a moved pin, an added
requirement, another interpreter), and the error a run ends with when it cannot fix a failure."""

from __future__ import annotations

import sys

from bulletproof.errors import BulletproofError
from bulletproof.model import Attempt, Fix, Outcome
from bulletproof.reporter import Reporter


class Unfixable(BulletproofError):
    """Something failed that the engine could not fix; the environment is as it was."""

    def __init__(self, message: str, attempts: list[Attempt], **kw: str) -> None:
        super().__init__(message, **kw)
        self.attempts = attempts


def consent(ui: Reporter, assume_yes: bool, fix: Fix, attempts: list[Attempt]) -> None:
    """Return when the user agrees (``--yes``, or yes at a terminal); else the fix is declined
    and the run ends, with every attempt so far."""
    if assume_yes:
        return
    if sys.stdin.isatty() and ui.ask(f"{fix.describe()} (recorded in the lock only)?"):
        return
    for attempt in attempts:
        if attempt.fix == fix:
            attempt.outcome = Outcome.DECLINED
    raise Unfixable(
        f"setup would {fix.describe()}, and needs consent for that",
        attempts,
        hint="run again with --yes to let it (the lock records it; your files stay as they are)",
    )
