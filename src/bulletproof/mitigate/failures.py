"""What a failed build or verification gives the repair loop: the failures that are the
environment's (grouped per distribution; undeclared imports per module; an inconsistent set),
and the attempt and message made of each."""

from __future__ import annotations

import re

from packaging.utils import canonicalize_name

from bulletproof.analyze.signatures import Match
from bulletproof.mitigate.values import Attempt, Fix
from bulletproof.model import Failure, Stage
from bulletproof.verify.values import FailureKind, Verification

_MISSING = re.compile(r"No module named '([\w.]+)'")


def attempt_for(failure: Failure, hit: Match | None, fix: Fix | None) -> Attempt:
    return Attempt(
        package=failure.package,
        stage=failure.stage,
        signature=hit.signature.id if hit else "",
        cause=hit.cause
        if hit
        else (failure.text if failure.stage is Stage.UNDECLARED else "no known signature matched"),
        evidence=(hit.evidence if hit else tuple(tail(failure.text, 3).splitlines()))
        + ((f"could not load: {', '.join(failure.libraries)}",) if failure.libraries else ()),
        fix=fix,
        values=dict(hit.values) if hit else {},
    )


def verification_failures(v: Verification, strict: bool = False) -> list[Failure]:
    """The environment's failures (with ``strict``, every failure but an optional part of a
    dependency, which is never one): broken imports grouped per
    distribution, undeclared imports per module, an inconsistent set."""
    by_dist: dict[str, list[str]] = {}
    modules: dict[str, str] = {}
    libraries: dict[str, list[str]] = {}
    meaning = {j.module: j for j in v.judged}
    undeclared: dict[str, Failure] = {}
    intolerable: set[str] = set()  # distributions with a failure that is the environment's
    for check in v.failed_modules:
        judged = meaning.get(check.module)
        if judged is not None and judged.kind in (FailureKind.UNDECLARED, FailureKind.INTERPRETER):
            top = _MISSING.search(check.error)
            name = top.group(1).split(".")[0] if top else check.module.split(".")[0]
            undeclared.setdefault(name, Failure(name, Stage.UNDECLARED, judged.why, check.module))
            continue
        tolerated = judged is not None and judged.kind is FailureKind.INCOMPATIBLE
        if judged is not None and judged.kind.informational and "." in check.module:
            continue  # a part of a dependency the project does not use: never a reason to repair
        if judged is not None and judged.kind is FailureKind.CONTEXT:
            continue  # needs its framework's context: no environment change answers it
        if judged is not None and not judged.kind.environment and not tolerated and not strict:
            continue
        name = canonicalize_name(check.distribution)
        by_dist.setdefault(name, [])
        if check.error not in by_dist[name]:
            by_dist[name].append(check.error)
        modules.setdefault(name, check.module)
        libraries.setdefault(name, []).extend(check.libraries)
        if not tolerated:
            intolerable.add(name)
    failures = [
        Failure(
            d,
            Stage.IMPORT,
            "\n".join(e[:5]),
            modules[d],
            tolerated=d not in intolerable,
            libraries=tuple(dict.fromkeys(libraries[d])),
        )
        for d, e in by_dist.items()
    ]
    failures += undeclared.values()
    if not v.consistency_ok:
        failures.append(Failure("", Stage.VERIFY, v.consistency_output))
    return failures


def unfixable_message(failure: Failure, hit: Match | None) -> str:
    what = failure.package or "the environment"
    stage = {"build": "does not build", "import": "does not import", "verify": "is inconsistent"}
    why = f": {hit.cause}" if hit else " (no known signature matched its log)"
    return f"{what} {stage.get(failure.stage, 'failed')}{why}; no fix left to try"


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
