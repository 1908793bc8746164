"""Try each source build of the lock on its own, in parallel, so that one pass finds every build
that fails (uv stops at the first), each with its whole log. A build that succeeds here lands in
uv's cache, so the environment's install does not build it again."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bulletproof import proc
from bulletproof.analyze.buildlogs import build_failure
from bulletproof.analyze.wheels import LockedPackage
from bulletproof.model import Failure

BUILD_TIMEOUT = 3600.0


def failing_builds(
    builds: Sequence[LockedPackage],
    python: Path,
    cwd: Path,
    constraints: Sequence[str],
    env: Mapping[str, str] | None = None,
) -> list[Failure]:
    """One Failure per source build that does not build alone, in the lock's order, with the
    variables the engine's fixes set (``env``)."""
    with tempfile.TemporaryDirectory(prefix="bulletproof-trials-") as tmp:
        constraint_args: list[str] = []
        if constraints:
            path = Path(tmp) / "build-constraints.txt"
            path.write_text("\n".join(constraints) + "\n", encoding="utf-8")
            constraint_args = ["--build-constraints", str(path)]

        def attempt(package: LockedPackage) -> Failure | None:
            done = proc.run(
                [
                    proc.uv_bin(),
                    "pip",
                    "install",
                    "--no-deps",
                    "--target",
                    str(Path(tmp) / package.name),
                    "--python",
                    str(python),
                    *constraint_args,
                    package.pin,
                ],
                cwd=cwd,
                env=env,
                timeout=BUILD_TIMEOUT,
            )
            if done.ok:
                return None
            return build_failure(package.name, done.stdout + done.stderr)

        workers = max(1, min(len(builds), os.cpu_count() or 1))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(attempt, builds))
    return [f for f in results if f is not None]
