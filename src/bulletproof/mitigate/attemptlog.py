"""What the repair tried, as an append-only log: an attempt is added once, as it was made; what
came of it (fixed, did not help, declined, set aside) is settled later by an event appended after
it, never by editing it. The report and the troubleshooting history read ``final()``: each
attempt with the last outcome settled on it, in the order the attempts were made."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from bulletproof.mitigate.values import Attempt, Fix, Outcome


@dataclass(frozen=True)
class Logged:
    """An attempt as the log holds it: where it stands in the log, and the attempt as made."""

    at: int
    attempt: Attempt


@dataclass(frozen=True)
class Settled:
    """The event that an attempt's outcome is now known."""

    at: int
    outcome: Outcome


class AttemptLog:
    """Append-only: ``add`` an attempt, ``settle`` its outcome, read ``final()``."""

    def __init__(self, earlier: Iterable[Attempt] = ()) -> None:
        self._made: list[Attempt] = []
        self._settled: list[Settled] = []
        for attempt in earlier:
            self.add(attempt)

    def add(self, attempt: Attempt) -> Logged:
        self._made.append(attempt)
        return Logged(len(self._made) - 1, attempt)

    def add_settled(self, attempt: Attempt, outcome: Outcome) -> Logged:
        """An attempt whose outcome is known as it is made (no fix left, set aside)."""
        return self.add(replace(attempt, outcome=outcome))

    def settle(self, entry: Logged, outcome: Outcome) -> Settled:
        if not 0 <= entry.at < len(self._made) or self._made[entry.at] is not entry.attempt:
            raise ValueError(f"not an attempt of this log: {entry}")
        event = Settled(entry.at, outcome)
        self._settled.append(event)
        return event

    def settle_fix(self, fix: Fix, outcome: Outcome) -> None:
        """Settle every attempt of ``fix`` (a declined fix: each failure it was chosen for)."""
        for entry in self.entries():
            if entry.attempt.fix == fix:
                self.settle(entry, outcome)

    def outcome(self, entry: Logged) -> Outcome:
        """The last outcome settled on ``entry`` (its own, when none was)."""
        found = [e.outcome for e in self._settled if e.at == entry.at]
        return found[-1] if found else entry.attempt.outcome

    def entries(self) -> tuple[Logged, ...]:
        """Every attempt as made, with its place: for settling the ones a later event concerns."""
        return tuple(Logged(at, attempt) for at, attempt in enumerate(self._made))

    def final(self) -> tuple[Attempt, ...]:
        """Each attempt with the last outcome settled on it, in the order they were made."""
        last = {e.at: e.outcome for e in self._settled}
        return tuple(
            replace(attempt, outcome=last[at]) if at in last else attempt
            for at, attempt in enumerate(self._made)
        )

    def __len__(self) -> int:
        return len(self._made)
