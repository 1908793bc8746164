"""Faults named from a tool's output before any fix is proposed: a full disk, a package the
index does not have, a VCS source that could not be fetched. None of them is a build's failure,
so the repair engine must not answer them with build fixes, pins or another interpreter."""

from __future__ import annotations

import errno
import math
import re
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit

from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from bulletproof import proc
from bulletproof.analyze.indexes import index_locations
from bulletproof.errors import BulletproofError, DiskFull, FetchError, ResolutionError
from bulletproof.host.disks import Disk, disk_of
from bulletproof.model import Project
from bulletproof.tomlcompat import tomllib

# uv and Rust say "No space left on device (os error 28)", Python "[Errno 28] No space left on
# device"; a bare "ENOSPC" is not enough (a configure log checks for the constant)
_NO_SPACE = re.compile(r"no space left on device|os error 28\b|errno 28\b", re.I)
_PATH = re.compile(r"(/[^\s`'\":,]+)")
# uv's resolver: "Because NAME was not found in the package registry and …"; with --no-index
# (or only find-links) "… in the provided package locations"
_NOT_FOUND = re.compile(
    r"\b([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the "
    r"(?:package registry|provided package locations)"
)
# a failed git fetch, as uv reports it: "Git operation failed" / "failed to clone into" / "failed
# to fetch commit|branch|tag|ref" (a host that answers but with no such reference: also a fetch)
_GIT_FAILED = re.compile(
    r"git operation failed|failed to clone into|failed to fetch (?:commit|branch|tag|ref)", re.I
)
_VCS_REQUIREMENT = re.compile(r"`([A-Za-z0-9][A-Za-z0-9._-]*) @ ((?:git|hg|svn|bzr)\+[^`\s]+)`")
_VCS_URL = re.compile(r"((?:git|hg|svn|bzr)\+[a-z]+://[^`'\s]+)")


def named_fault(text: str, project: Project | None) -> BulletproofError | None:
    """A failed lock's fault that is no package's: a full disk (the machine's), a VCS source
    that could not be fetched (not a build failure), a name no index has (not a conflict
    between pins); None when it is none of these."""
    root = project.root if project else None
    stop = stopping_fault([text], lambda: scratch_places(root))
    if stop is not None:
        return stop
    missing = not_found(text)
    if not missing:
        return None
    looked = ", ".join(index_locations(project))
    were = "was" if len(missing) == 1 else "were"
    return ResolutionError(
        f"{', '.join(missing)} {were} not found on the index (looked in: {looked})",
        detail=proc.redact(text),
        hint="check the name's spelling, or the index settings (UV_INDEX_URL, UV_FIND_LINKS, "
        "--index-url in a requirements file)",
    )


def scratch_places(root: Path | None, *more: Path) -> list[Path]:
    """Where a run writes: ``more``, the project's state folder, uv's cache, the temporary
    folder."""
    cache = uv_cache_dir()
    state = [root / ".bulletproof"] if root else []
    return [*more, *state, *([cache] if cache else []), Path(tempfile.gettempdir())]


def stopping_fault(
    texts: Iterable[str],
    where: Callable[[], Sequence[Path]],
    needed: Callable[[], int | None] = lambda: None,
) -> BulletproofError | None:
    """A failure no fix to the packages can answer, in any stage's output: a full disk, a VCS
    source that could not be fetched. The repair loop stops on it before proposing anything.
    ``where`` and ``needed`` are asked only for a full disk (``where`` runs uv)."""
    for text in texts:
        if disk_full(text):
            return no_space(text, where(), needed())
        fetch = fetch_failure(text)
        if fetch is not None:
            return fetch
    return None


def os_error_fault(exc: OSError, where: Sequence[Path]) -> DiskFull | None:
    """bulletproof's own write that found the disk full (ENOSPC)."""
    if exc.errno != errno.ENOSPC:
        return None
    return no_space(f"{exc.filename or ''}: No space left on device", where)


def disk_full(text: str) -> bool:
    return bool(_NO_SPACE.search(text))


def no_space(text: str, where: Sequence[Path], needed: int | None = None) -> DiskFull:
    """The error for a full disk. The filesystem named is the one the failed write was on (the
    last path on the line that says so); when the output names none, the fullest of ``where``."""
    disk: Disk | None = None
    for line in text.splitlines():
        found = _NO_SPACE.search(line)
        paths = _PATH.findall(line[: found.start()]) if found else []
        if paths:
            disk = disk_of(Path(paths[-1]))
            break
    if disk is None:
        disk = min((disk_of(p) for p in where), key=lambda d: d.free)
    return DiskFull(
        _full_message(disk, needed),
        where=str(disk.mount_point),
        needed=needed,
        hint=f"free space on {disk.mount_point} (uv's cache: `uv cache prune`), then run again; "
        "the environment in .venv was left as it was",
        detail=proc.redact("\n".join(text.strip().splitlines()[-12:])),
    )


def measured_again(exc: DiskFull) -> DiskFull:
    """The same fault with the room left once the half-built generation was removed: what the
    user has to free is what is missing then, not at the moment the write failed."""
    return DiskFull(
        _full_message(disk_of(Path(exc.where)), exc.needed),
        where=exc.where,
        needed=exc.needed,
        hint=exc.hint or "",
        detail=exc.detail or "",
    )


def _full_message(disk: Disk, needed: int | None) -> str:
    room = f"{_mb(disk.free)} MB free"
    return f"no space left on {disk.describe()} " + (
        f"(needed about {_mb(needed)} MB, {room})" if needed else f"({room})"
    )


def _mb(size: int) -> str:
    return str(max(1, math.ceil(size / 2**20)))


def uv_cache_dir() -> Path | None:
    """Where uv keeps its cache (its own answer: the variable, its settings, the default)."""
    done = proc.run([proc.uv_bin(), "cache", "dir"], timeout=30)
    return Path(done.stdout.strip()) if done.ok and done.stdout.strip() else None


def unpacked_size(lock_file: Path, accepted: frozenset[Tag]) -> int | None:
    """About how much installing the lock writes: per package, the unpacked size of a wheel the
    target accepts when the wheel is a local file, else its archive size (a lower bound)."""
    try:
        with lock_file.open("rb") as handle:
            packages = tomllib.load(handle).get("packages", [])
    except (OSError, tomllib.TOMLDecodeError):
        return None
    total = 0
    for package in packages:
        sizes = [_wheel_size(w) for w in _accepted(package.get("wheels", []), accepted)]
        total += max((s for s in sizes if s), default=0)
    return total or None


def _accepted(
    wheels: Iterable[dict[str, object]], accepted: frozenset[Tag]
) -> list[dict[str, object]]:
    out = []
    for wheel in wheels:
        where = str(wheel.get("url") or wheel.get("path") or wheel.get("name") or "")
        try:
            tags = parse_wheel_filename(where.rsplit("/", 1)[-1])[3]
        except InvalidWheelFilename:
            continue
        if not tags.isdisjoint(accepted):
            out.append(wheel)
    return out


def _wheel_size(wheel: dict[str, object]) -> int:
    url = str(wheel.get("url") or "")
    local = unquote(urlsplit(url).path) if url.startswith("file://") else wheel.get("path")
    if local:
        try:
            with zipfile.ZipFile(str(local)) as archive:
                return sum(i.file_size for i in archive.infolist())
        except (OSError, zipfile.BadZipFile):
            pass
    size = wheel.get("size")
    return size if isinstance(size, int) else 0


def not_found(text: str) -> list[str]:
    """The packages uv's resolver says no index or find-links location has."""
    return list(dict.fromkeys(_NOT_FOUND.findall(text)))


def fetch_failure(text: str) -> FetchError | None:
    """A VCS source that could not be fetched, named with git's own reason; None otherwise."""
    if not _GIT_FAILED.search(text):
        return None
    requirement = _VCS_REQUIREMENT.search(text)
    url_found = _VCS_URL.search(text)
    url = requirement.group(2) if requirement else url_found.group(1) if url_found else ""
    name = requirement.group(1) if requirement else "a VCS requirement"
    where = f" from {without_credentials(url)}" if url else ""
    error = FetchError(
        f"could not fetch {name}{where}: {_git_reason(text)}",
        hint="check that the host is reachable and the repository exists (and that you may "
        "read it); nothing was built, so no build fix was tried",
        detail=proc.redact(text.strip()),
    )
    error.package = requirement.group(1) if requirement else ""
    return error


def _git_reason(text: str) -> str:
    """git's own words: ssh's line first (it says why the remote could not be read), else
    git's fatal line, else uv's last cause."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for prefix in ("ssh:", "fatal:", "error:"):
        for line in lines:
            if line.startswith(prefix) and "could not read from remote" not in line.lower():
                reason = line.removeprefix("fatal:").removeprefix("error:").strip()
                return proc.redact(reason)
    causes = [line.removeprefix("cause:").strip() for line in lines if line.startswith("cause:")]
    return proc.redact(causes[-1] if causes else "the fetch failed")


def without_credentials(url: str) -> str:
    """An http(s) URL without its user info (uv masks only the password: a token in the user
    name would remain); ssh keeps its user name, which is no secret (git@)."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return url
    host_part, slash, path = rest.partition("/")
    user, _, host = host_part.rpartition("@")
    if scheme.endswith("ssh") and ":" not in user and "*" not in user:
        return url
    return f"{scheme}://{host}{slash}{path}"
