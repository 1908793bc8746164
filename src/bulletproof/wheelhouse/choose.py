"""Which artefact of each locked package the wheelhouse carries: the wheel the target prefers
among those it accepts, else the sdist (to be built here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from packaging import tags
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from bulletproof.host.values import Interpreter


@dataclass(frozen=True)
class Artefact:
    name: str  # normalized
    version: str
    file: str  # the file name
    url: str  # as the lock names it (a URL, or a path relative to the lock)
    sha256: str
    tag: str  # the tag the target takes it by; "" for an sdist


def ranked_tags(interpreter: Interpreter) -> dict[tags.Tag, int]:
    """The tags the target accepts on this machine, most preferred first (as an installer ranks
    them); the same set as `analyze.wheels.target_tags`."""
    major, minor = (int(x) for x in interpreter.minor.split("."))
    platforms = list(tags.platform_tags())
    if interpreter.implementation != "cpython":
        found = list(tags.compatible_tags((major, minor), platforms=platforms))
    else:
        abi = f"cp{major}{minor}"
        found = [
            *tags.cpython_tags((major, minor), abis=[abi], platforms=platforms),
            *tags.compatible_tags((major, minor), interpreter=abi, platforms=platforms),
        ]
    ranks: dict[tags.Tag, int] = {}
    for tag in found:
        ranks.setdefault(tag, len(ranks))
    return ranks


def best_tag(file: str, ranks: dict[tags.Tag, int]) -> str | None:
    """The most preferred tag of a wheel the target accepts; None when it accepts none."""
    try:
        wheel_tags = parse_wheel_filename(file)[3]
    except InvalidWheelFilename:
        return None
    taken = [t for t in wheel_tags if t in ranks]
    return str(min(taken, key=ranks.__getitem__)) if taken else None


def _file_name(entry: dict[str, Any]) -> str:
    where = str(entry.get("name") or entry.get("url") or entry.get("path") or "")
    return where.rsplit("/", 1)[-1]


def choose(raw: dict[str, Any], ranks: dict[tags.Tag, int]) -> Artefact | None:
    """The wheel the target prefers, else the sdist; None when the package has neither with a
    hash (nothing the wheelhouse can check)."""
    name = canonicalize_name(str(raw["name"]))
    version = str(raw.get("version", ""))
    candidates = []
    for wheel in raw.get("wheels", []):
        file, sha = _file_name(wheel), wheel.get("hashes", {}).get("sha256")
        tag = best_tag(file, ranks)
        if tag is not None and sha:
            where = str(wheel.get("url") or wheel.get("path") or "")
            candidates.append(
                (
                    min(ranks[t] for t in tags.parse_tag(tag)),
                    Artefact(name, version, file, where, sha, tag),
                )
            )
    if candidates:
        return min(candidates, key=lambda c: c[0])[1]
    sdist = raw.get("sdist") or {}
    sha = sdist.get("hashes", {}).get("sha256")
    where = str(sdist.get("url") or sdist.get("path") or "")
    if sha and where:
        return Artefact(name, version, _file_name(sdist), where, sha, "")
    return None


def is_local(raw: dict[str, Any]) -> bool:
    """A directory, VCS checkout or archive: the project's own, or built where it is."""
    return any(key in raw for key in ("directory", "vcs", "archive"))
