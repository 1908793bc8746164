"""The repair's attempts as an append-only log: an attempt is never edited, its outcome is
settled by a later event, and final() is each attempt with the last outcome settled on it."""

from __future__ import annotations

import dataclasses

import pytest

from bulletproof.mitigate.attemptlog import AttemptLog
from bulletproof.mitigate.values import Attempt, Fix, Outcome
from bulletproof.model import FixKind, Stage


def _attempt(package: str, fix: Fix | None = None) -> Attempt:
    return Attempt(package, Stage.BUILD, "header-missing", "a header is missing", ("x.h",), fix)


def test_an_outcome_is_settled_by_a_later_event_and_the_attempt_is_never_edited() -> None:
    pin = Fix(FixKind.PIN, "qa==1.1", package="qa", was="1.0")
    made = _attempt("qa", pin)
    log = AttemptLog([_attempt("from-the-lock")])
    entry = log.add(made)
    log.settle(entry, Outcome.DID_NOT_HELP)
    log.settle(entry, Outcome.FIXED)  # judged again after a later round: the last one counts
    final = log.final()
    assert [(a.package, a.outcome) for a in final] == [
        ("from-the-lock", Outcome.PENDING),
        ("qa", Outcome.FIXED),
    ]
    assert made.outcome is Outcome.PENDING and entry.attempt is made  # as it was made
    assert log.outcome(entry) is Outcome.FIXED
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.outcome = Outcome.FIXED  # type: ignore[misc]


def test_a_declined_fix_settles_every_attempt_of_it_and_no_other() -> None:
    system = Fix(FixKind.SYSTEM, "libqa-dev")
    other = Fix(FixKind.SYSTEM, "libqb-dev")
    log = AttemptLog()
    log.add(_attempt("qa", system))
    log.add(_attempt("qb", other))
    log.add(_attempt("qc", system))  # one package the same fix was chosen for, too
    log.add_settled(_attempt("qd"), Outcome.NO_FIX)
    log.settle_fix(system, Outcome.DECLINED)
    assert [(a.package, a.outcome) for a in log.final()] == [
        ("qa", Outcome.DECLINED),
        ("qb", Outcome.PENDING),
        ("qc", Outcome.DECLINED),
        ("qd", Outcome.NO_FIX),
    ]


def test_an_entry_of_another_log_is_refused() -> None:
    mine, theirs = AttemptLog(), AttemptLog()
    mine.add(_attempt("qa"))
    foreign = theirs.add(_attempt("qb"))
    with pytest.raises(ValueError, match="not an attempt of this log"):
        mine.settle(foreign, Outcome.FIXED)
    assert [a.outcome for a in mine.final()] == [Outcome.PENDING]
