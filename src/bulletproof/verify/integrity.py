"""Every installed file still matches the size and hash its RECORD promised.

``uv pip check`` only compares metadata: an environment whose files were deleted or changed after
install passes it. This reads every file back.
"""

from __future__ import annotations

import base64
import hashlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bulletproof.verify.distributions import Distribution
from bulletproof.verify.values import IntegrityProblem


def _digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            h.update(chunk)
    return base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()


def check_distribution(dist: Distribution) -> tuple[list[IntegrityProblem], int]:
    """Problems found and the number of files checked."""
    try:
        rows = dist.record()
    except (OSError, ValueError) as exc:
        return [IntegrityProblem(dist.name, "RECORD", f"RECORD unreadable: {exc}")], 0
    problems = []
    checked = 0
    for row in rows:
        if not row.hash:
            continue
        algorithm, _, expected = row.hash.partition("=")
        path = dist.site_packages / row.path
        checked += 1
        try:
            if row.size is not None and path.stat().st_size != row.size:
                problems.append(IntegrityProblem(dist.name, row.path, "size differs"))
            elif algorithm in hashlib.algorithms_available and _digest(path, algorithm) != expected:
                problems.append(IntegrityProblem(dist.name, row.path, "hash differs"))
        except FileNotFoundError:
            problems.append(IntegrityProblem(dist.name, row.path, "missing"))
        except OSError as exc:
            problems.append(IntegrityProblem(dist.name, row.path, f"unreadable: {exc.strerror}"))
    return problems, checked


def check_all(dists: list[Distribution]) -> tuple[list[IntegrityProblem], int]:
    # hashlib releases the GIL on large buffers, so threads do spread the reading over cores
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(check_distribution, dists))
    problems = [p for found, _ in results for p in found]
    return problems, sum(n for _, n in results)
