"""Import results kept per module, so that a repair round or another setup imports again only
what changed.

A module's result is reused when its distribution is the same (name, version and the hash and
size of every file its RECORD lists under site-packages) and so is every distribution it can
reach through its requirements (and its own extras' requirements, when installed), and so are
the system's package records and loader cache (a library an import found may be gone): a changed
file in a distribution invalidates its own modules and those of every distribution that depends
on it. The integrity check proves the files match their RECORD; a distribution it finds changed
has its reused modules, and those of its dependents, imported again (``invalidated``). A
failure is kept under what its import loaded (in a fresh interpreter: all it touched, required
or not), the top-level names installed (installing what it looked for mends it) and the
system's package records and loader cache; an import that works only after another
distribution's module, under every installed distribution. A crash or a hang is never kept,
nor is any module imported in the project's context (its own, and what its code imports). The
results are kept in the user's cache, per interpreter, tool version and environment variables:
the keys are made of the files themselves, so a new generation, another project or a setup
from an empty state reuses what is the same.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from platformdirs import user_cache_path

from bulletproof import __version__
from bulletproof.fsutil import write_json
from bulletproof.host.pkgmgr import SYSTEM_RECORDS
from bulletproof.verify.distributions import Distribution
from bulletproof.verify.imports import ImportJob
from bulletproof.verify.values import ImportStatus, ModuleCheck

_BOUND = 50_000  # results kept per interpreter: a few large projects' worth
_KEPT = (ImportStatus.OK, ImportStatus.ABSENT)


@dataclass(frozen=True)
class Keys:
    """What a module's result depends on, per distribution (canonical name)."""

    context: str  # interpreter, tool, the workers' path and variables, every .pth installed
    by_distribution: Mapping[str, str]  # itself and everything it reaches
    reaches: Mapping[str, frozenset[str]]  # the distributions each one reaches (itself too)
    # every installed distribution and the system's libraries and packages: what an import that
    # works only after another distribution's module depends on besides its own
    whole: str = ""
    # a failure: the top-level names installed and the system, and whichever distributions
    # provide what its import loaded (by top-level name)
    names: str = ""
    providers: Mapping[str, str] = field(default_factory=dict)

    def of(self, job: ImportJob) -> str | None:
        """The key a kept import of this job must have; None when it is never reused."""
        if job.in_context:
            return None
        return self.by_distribution.get(canonicalize_name(job.distribution))

    def of_failure(self, job: ImportJob) -> str | None:
        """The key a kept failure of this job must have: a failure can be mended by any other
        distribution (one installed that it looked for) or by the system (a library)."""
        own = self.of(job)
        return None if own is None else f"{own}:{self.whole}"

    def of_loaded(self, job: ImportJob, loaded: Iterable[str]) -> str | None:
        """The key a kept failure must have: its own distributions, the distributions that
        provide what its import loaded (in a fresh interpreter: all it touched), the names
        installed (what it looked for and did not find may be there now) and the system."""
        own = self.of(job)
        if own is None:
            return None
        touched = sorted(f"{n}={self.providers[n]}" for n in set(loaded) if n in self.providers)
        return hashlib.sha256("\0".join([own, self.names, *touched]).encode()).hexdigest()

    def for_result(
        self, job: ImportJob, check: ModuleCheck, loaded: Iterable[str] = ()
    ) -> str | None:
        """The key ``check`` is kept under; None when it is not kept (a crash, a hang)."""
        if check.status is ImportStatus.ABSENT or (
            check.status is ImportStatus.OK and not check.error
        ):
            return self.of(job)
        if check.status is ImportStatus.FAILED:
            return self.of_loaded(job, loaded)
        if check.status is ImportStatus.OK:  # after another distribution's module
            return self.of_failure(job)
        return None


def _own_key(dist: Distribution) -> tuple[str, bool] | None:
    """A digest of the distribution's files as RECORD lists them under site-packages (scripts
    outside it carry the generation's path in their first line, and are never imported), and
    whether it installs a .pth file (which changes every import)."""
    try:
        rows = dist.record()
    except (OSError, ValueError):
        return None
    h = hashlib.sha256(f"{canonicalize_name(dist.name)}\0{dist.version}".encode())
    pth = False
    for row in sorted(rows, key=lambda r: r.path):
        if row.path.startswith("../") or row.path.startswith("/"):
            continue
        pth = pth or ("/" not in row.path and row.path.endswith(".pth"))
        h.update(f"\0{row.path}\0{row.hash}\0{row.size}".encode())
    return h.hexdigest(), pth


def _top_names(dist: Distribution) -> set[str]:
    """The top-level names a distribution's files can be imported as (a module, a package, an
    extension); what its RECORD does not list is not counted."""
    try:
        rows = dist.record()
    except (OSError, ValueError):
        return set()
    names = set()
    for row in rows:
        top = row.path.split("/")[0]
        if top.endswith((".dist-info", ".data", ".pth")) or top in ("..", "__pycache__"):
            continue
        names.add(top.split(".")[0] if "/" not in row.path else top)
    return names


def distribution_keys(
    env: Path,
    dists: Sequence[Distribution],
    extras_of: Mapping[str, Mapping[str, set[str]]],
    extra_path: Sequence[str],
    environ: Mapping[str, str] | None = None,
) -> Keys:
    """The keys of every distribution of ``env``; ``extras_of`` adds what its extras need.
    ``environ`` (this process's, which the workers inherit) is part of every key: a module may
    read a variable when imported."""
    own: dict[str, str] = {}
    pth: list[str] = []
    requires: dict[str, set[str]] = {}
    optional: dict[str, set[str]] = {}
    seen: set[str] = set()
    for dist in dists:
        name = canonicalize_name(dist.name)
        found = _own_key(dist)
        if name in seen or found is None:  # twice installed, or unreadable: never reused
            own.pop(name, None)
            seen.add(name)
            continue
        seen.add(name)
        own[name], has_pth = found
        if has_pth:
            pth.append(own[name])
        optional[name] = {n for names in extras_of.get(name, {}).values() for n in names}
        requires[name] = {str(r) for r in dist.requires}
    # its own extras' requirements (what it may import when they are there) and what they
    # require, not the extras of those in turn: that would reach most of the environment
    reaches = {name: _reach({name, *optional[name]}, requires) for name in own}
    # the system too, for a success: an extension (or a ctypes load) that found a library
    # then may not find it once a package is removed; a system change imports everything again
    system = list(map(_stat, _SYSTEM))
    by_distribution = {
        name: hashlib.sha256(
            "\0".join(
                [*sorted(own.get(r, "unknown:" + r) for r in reach if r in seen), *system]
            ).encode()
        ).hexdigest()
        for name, reach in reaches.items()
        if all(r in own for r in reach if r in seen)
    }
    variables = _variables(os.environ if environ is None else environ)
    context = _context(env, [*extra_path, "env", variables], pth)
    every = [f"{name}={own.get(name, '-')}" for name in sorted(seen)]
    whole = hashlib.sha256("\0".join([*every, *system]).encode()).hexdigest()
    providers: dict[str, str] = {}
    for dist in dists:
        for top in _top_names(dist):
            mine = own.get(canonicalize_name(dist.name), "-")
            providers[top] = f"{providers[top]}+{mine}" if top in providers else mine
    names = hashlib.sha256("\0".join([*sorted(providers), *system]).encode()).hexdigest()
    return Keys(context, by_distribution, reaches, whole, names, providers)


_SYSTEM = SYSTEM_RECORDS  # a test points it at a file of its own


def _stat(path: str) -> str:
    try:
        st = os.stat(path)  # noqa: PTH116  (a string path, no Path needed)
    except OSError:
        return f"{path}:-"
    return f"{path}:{st.st_size}:{st.st_mtime_ns}"


# what a shell changes between two commands, and the folder it ran in (the workers run in one
# of their own)
_VOLATILE = frozenset({"_", "OLDPWD", "PWD", "SHLVL"})


def _variables(environ: Mapping[str, str]) -> str:
    h = hashlib.sha256()
    for key in sorted(environ):
        if key not in _VOLATILE:
            h.update(f"{key}={environ[key]}\0".encode(errors="surrogateescape"))
    return h.hexdigest()


def _reach(names: set[str], requires: Mapping[str, set[str]]) -> frozenset[str]:
    found = set(names)
    todo = list(names)
    while todo:
        for required in requires.get(todo.pop(), ()):
            if required not in found:
                found.add(required)
                todo.append(required)
    return frozenset(found)


def _context(env: Path, extra_path: Sequence[str], pth: Iterable[str]) -> str:
    python = (env / "bin" / "python").resolve()
    try:
        st = python.stat()
        stat = f"{st.st_size}:{st.st_mtime_ns}"
    except OSError:
        stat = "-"
    try:
        cfg = (env / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        cfg = ""
    # the lines that change what imports (not the home or prompt a generation's path is in)
    settings = sorted(
        line.replace(" ", "")
        for line in cfg.splitlines()
        if line.split("=")[0].strip() in ("version", "version_info", "include-system-site-packages")
    )
    parts = [__version__, str(python), stat, *settings, "path", *extra_path, "pth", *sorted(pth)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _file(keys: Keys, cache: Path | None) -> Path:
    return (cache or user_cache_path("bulletproof")) / "imports" / f"{keys.context[:40]}.json"


Kept = dict[tuple[str, str], tuple[ModuleCheck, tuple[str, ...]]]


def load(keys: Keys, cache: Path | None = None) -> Kept:
    """Kept results, with what their import loaded, by (module, key), for this interpreter and
    tool (any project, any generation: the keys are made of the files themselves)."""
    kept: Kept = {}
    for entry in _entries(keys, cache):
        try:
            check = _check(entry)
            if check is not None:
                loaded = tuple(map(str, entry.get("loaded", ())))
                kept.setdefault((check.module, str(entry["key"])), (check, loaded))
        except (ValueError, KeyError, TypeError):
            continue
    return kept


def _entries(keys: Keys, cache: Path | None) -> list[dict[str, Any]]:
    try:
        data = json.loads(_file(keys, cache).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("context") != keys.context:
            return []
        return [e for e in data["modules"] if isinstance(e, dict)]
    except (OSError, ValueError, KeyError, TypeError):
        return []


def _check(entry: dict[str, Any]) -> ModuleCheck | None:
    status = ImportStatus(entry["status"])
    if status not in (*_KEPT, ImportStatus.FAILED):
        return None
    return ModuleCheck(
        str(entry["module"]),
        str(entry["distribution"]),
        status,
        float(entry["seconds"]),
        str(entry["error"]),
        tuple(entry.get("libraries", ())),
    )


Traced = tuple[ModuleCheck, tuple[str, ...]]  # a result and what its import loaded


def split(jobs: Sequence[ImportJob], keys: Keys, kept: Kept) -> tuple[dict[int, Traced], list[int]]:
    """The results reused (with what their import loaded when it was kept), by the job's
    index, and the indices of the jobs to import."""
    failures: dict[str, list[tuple[str, tuple[str, ...], ModuleCheck]]] = {}
    for (module, key), (check, loaded) in kept.items():
        if check.status is ImportStatus.FAILED:
            failures.setdefault(module, []).append((key, loaded, check))
    reused: dict[int, Traced] = {}
    todo: list[int] = []
    for index, job in enumerate(jobs):
        found: Traced | None = None
        for wanted in (keys.of(job), keys.of_failure(job)):
            if wanted is not None and (job.module, wanted) in kept:
                found = found or kept[job.module, wanted]
        for kept_as, loaded, check in failures.get(job.module, ()):
            if found is None and kept_as == keys.of_loaded(job, loaded):
                found = (check, loaded)
        if found is not None and found[0].distribution == job.distribution:
            reused[index] = found
        else:
            todo.append(index)
    return reused, todo


def invalidated(
    jobs: Sequence[ImportJob], reused: Iterable[int], keys: Keys, changed: Iterable[str]
) -> list[int]:
    """The reused jobs whose distribution is, or reaches, one whose files no longer match its
    RECORD: their kept result cannot be trusted."""
    bad = {canonicalize_name(name) for name in changed}
    if not bad:
        return []
    return [
        i
        for i in reused
        if keys.reaches.get(canonicalize_name(jobs[i].distribution), frozenset(bad)) & bad
    ]


def store(
    keys: Keys,
    jobs: Sequence[ImportJob],
    results: Sequence[ModuleCheck],
    loaded: Mapping[str, tuple[str, ...]],
    cache: Path | None = None,
) -> None:
    """Keep every result (as judged in the end: one that imports after another distribution's
    module is kept as such) with its key and what its import loaded (by module), beside those
    kept before (the newest first, up to a bound)."""
    by_module = {job.module: job for job in jobs}
    modules = []
    for check in results:
        job = by_module.get(check.module)
        touched = loaded.get(check.module, ())
        key = keys.for_result(job, check, touched) if job is not None else None
        if key is not None:
            modules.append({**_entry(check, key), "loaded": list(touched)})
    path = _file(keys, cache)
    fresh = {(m["module"], m["key"]) for m in modules}
    older = [e for e in _entries(keys, cache) if (e.get("module"), e.get("key")) not in fresh]
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"context": keys.context, "modules": [*modules, *older][:_BOUND], "pid": os.getpid()}
    write_json(path, data)


def _entry(check: ModuleCheck, key: str) -> dict[str, Any]:
    return {
        "module": check.module,
        "distribution": check.distribution,
        "key": key,
        "status": check.status.value,
        "seconds": round(check.seconds, 4),
        "error": check.error,
        "libraries": list(check.libraries),
    }
