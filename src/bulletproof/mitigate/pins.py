"""The nearest version of a package, newer or older than the one that failed, that has a working
artefact for the target: asked of uv (the same index settings as the lock), a wheel first."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from packaging.utils import canonicalize_name

from bulletproof import proc
from bulletproof.requirements import exact_pin

TIMEOUT = 300.0


def nearest(
    package: str,
    than: str,
    direction: str,
    *,
    python: Path,
    cwd: Path,
    skip: Iterable[str] = (),
) -> str | None:
    """The version nearest ``than`` in ``direction`` ("newer" or "older") that uv can install
    for ``python``: one with a wheel for it if any, else one that builds from source. Versions
    in ``skip`` were tried already."""
    operator = ">" if direction == "newer" else "<"
    spec = ",".join([f"{operator}{than}", *(f"!={v}" for v in skip)])
    requirement = f"{package}{spec}"
    for wheel_only in (True, False):
        args = [
            proc.uv_bin(),
            "pip",
            "compile",
            "-",
            "--python",
            str(python),
            "--no-deps",
            "--no-header",
            "--no-annotate",
            "--quiet",
        ]
        if direction == "newer":
            args += ["--resolution", "lowest-direct"]
        if wheel_only:
            args += ["--only-binary", package]
        done = proc.run(args, stdin=requirement + "\n", cwd=cwd, timeout=TIMEOUT)
        if done.ok:
            version = _version(done.stdout, package)
            if version:
                return version
    return None


def _version(output: str, package: str) -> str | None:
    wanted = canonicalize_name(package)
    pins = (exact_pin(line) for line in output.splitlines())
    return next((version for name, version in filter(None, pins) if name == wanted), None)
