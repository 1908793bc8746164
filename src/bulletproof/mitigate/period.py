"""The build tools of an sdist's own day: its [build-system] requires resolved as of when it was
uploaded (uv's --exclude-newer), for a build that fails with today's tools. The date is the
index's upload time from the lock, else the newest file time in the archive (what a local
wheelhouse has to go by)."""

from __future__ import annotations

from pathlib import Path

from packaging.utils import canonicalize_name

from bulletproof import proc
from bulletproof.analyze.sdist import inspect_sdist
from bulletproof.analyze.wheels import LockedPackage, rfc3339
from bulletproof.errors import ToolError
from bulletproof.requirements import exact_pin, requirement_name

TIMEOUT = 300.0
# PEP 517: what a source tree without a [build-system] table is built with
LEGACY_REQUIRES = ("setuptools>=40.8.0", "wheel")


def build_tools_of_its_day(package: LockedPackage, python: Path, cwd: Path) -> list[str]:
    """``name==version`` of each build requirement as it resolved when ``package``'s sdist was
    made; [] when that cannot be told (no sdist, no date, nothing resolves)."""
    if not package.sdist or package.local:
        return []
    try:
        facts = inspect_sdist(package)
    except ToolError:
        return []
    when = package.sdist_uploaded or rfc3339(facts.made)
    if not when:
        return []
    requires = facts.build_requires if facts.has_build_system else LEGACY_REQUIRES
    if not requires:
        return []
    done = proc.run(
        [
            proc.uv_bin(),
            "pip",
            "compile",
            "-",
            "--python",
            str(python),
            "--exclude-newer",
            when,
            "--no-header",
            "--no-annotate",
            "--quiet",
        ],
        stdin="\n".join(requires) + "\n",
        cwd=cwd,
        timeout=TIMEOUT,
    )
    if not done.ok:
        return []
    wanted = {canonicalize_name(requirement_name(r)) for r in requires}
    pins = (exact_pin(line) for line in done.stdout.splitlines())
    return [f"{name}=={version}" for name, version in filter(None, pins) if name in wanted]
