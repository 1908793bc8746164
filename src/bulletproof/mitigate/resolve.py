"""Locking, with the resolve-stage signatures: an environment fix (the system trust store for an
intercepted TLS connection) is tried once; otherwise the error says what its output means."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

from bulletproof.analyze.lock import lock
from bulletproof.analyze.signatures import match
from bulletproof.errors import ResolutionError, ToolError
from bulletproof.mitigate.plan import Attempt, Fix
from bulletproof.model import AddedRequirement, LockResult, MovedPin, Project, Target


def lock_with_retry(
    project: Project,
    target: Target,
    previous: Mapping[str, Any],
    pins: Sequence[MovedPin],
    attempts: list[Attempt],
    *,
    added: Sequence[AddedRequirement] = (),
) -> LockResult:
    try:
        return lock(project, target, previous, pins=pins, added=added)
    except (ToolError, ResolutionError) as exc:
        text = exc.detail or exc.message
        hits = match(text, "resolve")
        for hit in hits:
            for remedy in hit.remedies():
                key, _, value = remedy.get("env", "").partition("=")
                if not key or os.environ.get(key) == value:
                    continue
                attempt = Attempt(
                    "",
                    "resolve",
                    hit.signature.id,
                    hit.cause,
                    hit.evidence,
                    Fix("env", f"{key}={value}"),
                )
                attempts.append(attempt)
                os.environ[key] = value
                try:
                    result = lock(project, target, previous, pins=pins, added=added)
                except (ToolError, ResolutionError):
                    attempt.outcome = "did not help"
                    del os.environ[key]
                    break
                attempt.outcome = "fixed"
                return result
        if hits:
            attempts.append(
                Attempt(
                    "",
                    "resolve",
                    hits[0].signature.id,
                    hits[0].cause,
                    hits[0].evidence,
                    None,
                    "no fix known",
                )
            )
            exc.hint = f"{hits[0].cause}: {hits[0].fix}"
        raise
