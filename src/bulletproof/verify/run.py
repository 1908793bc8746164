"""verify(env, project) -> Verification: imports, consistency and file integrity, all collected."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.utils import canonicalize_name

from bulletproof import proc
from bulletproof.code.codeimports import CodeImport, code_imports, local_names, python_files
from bulletproof.model import Project
from bulletproof.verify import cache, reuse, stdlib
from bulletproof.verify.accelerated import compiled_check
from bulletproof.verify.context import ImportContext, import_context
from bulletproof.verify.distributions import Distribution, dependency_depth, distributions
from bulletproof.verify.imports import ImportJob, import_traced
from bulletproof.verify.integrity import check_all
from bulletproof.verify.modules import (
    extension_files,
    importable_modules,
    not_modules,
    package_modules,
    public_submodules,
)
from bulletproof.verify.through import MAX_TRIES, loaded_through
from bulletproof.verify.values import ImportStatus, ModuleCheck, Skipped, Verification
from bulletproof.verify.verdict import judge

Progress = Callable[[int], None]

# what the loader says of a shared object without the init function its file name promises
_NO_INIT = "does not define module export function"


@dataclass(frozen=True)
class Jobs:
    jobs: list[ImportJob]
    provided: set[str]  # importable names the distributions provide
    skipped: list[Skipped]  # files with a module's name that are not modules
    extensions: dict[str, Skipped]  # every extension module's file, by module (for the net)


def import_jobs(
    dists: list[Distribution], project: Project, imports: Sequence[CodeImport] = ()
) -> Jobs:
    """Every module to import: each distribution's top-level modules and their first-level
    public submodules, dependencies before their dependents; then every module the project's
    code imports; the project's own last. What the project's code imports and its own modules
    are imported in the project's context. Also the importable names the distributions provide
    (top-level, and the first real ones inside namespace packages), and the files with an
    extension's name that are not modules, skipped."""
    jobs: dict[str, ImportJob] = {}
    own = set(project.own_packages)
    provided: set[str] = set()
    skipped: list[Skipped] = []
    extensions: dict[str, Skipped] = {}
    depth = dependency_depth(dists)
    for dist in sorted(dists, key=lambda d: (depth.get(canonicalize_name(d.name), 0), d.name)):
        try:
            paths = [row.path for row in dist.record()]
        except (OSError, ValueError):
            continue  # reported by the integrity check
        tops = importable_modules(paths)
        wanted = [m for m in [*tops, *public_submodules(paths, tops)] if m.split(".")[0] not in own]
        files = extension_files(paths)
        for module, raw in files.items():
            extensions.setdefault(module, Skipped(module, raw, dist.name, ""))
        libraries = not_modules(dist.site_packages, files, wanted)
        skipped += [Skipped(m, files[m], dist.name, why) for m, why in libraries.items()]
        provided.update(t for t in tops if t not in libraries)
        for module in wanted:
            if module not in libraries:
                jobs.setdefault(module, ImportJob(module, dist.name))
    local = local_names(project.root) if imports else set()
    provided_tops = {p.split(".")[0] for p in provided}
    for code in imports:
        if code.top in own or (code.top in local and code.top not in provided_tops):
            continue
        known = jobs.get(code.module)
        jobs[code.module] = (
            replace(known, in_context=True)
            if known is not None
            else ImportJob(code.module, f"{project.name} (its code)", in_context=True)
        )
    for root in project.source_roots:
        for package in project.own_packages:
            for module in package_modules(root, package):
                jobs[module] = ImportJob(module, project.name, in_context=True)
    return Jobs(list(jobs.values()), provided, skipped, extensions)


def _set_aside(
    modules: list[ModuleCheck], found: Jobs, imported: set[str]
) -> tuple[list[ModuleCheck], list[Skipped]]:
    """The net under the check before importing (a file it could not read): an extension file
    whose import says it has no init function is not a module either, unless the project's code
    imports it by name (then it is a failure like any other)."""
    kept: list[ModuleCheck] = []
    skipped: list[Skipped] = []
    for m in modules:
        file = found.extensions.get(m.module)
        if (
            m.status is ImportStatus.FAILED
            and _NO_INIT in m.error
            and file is not None
            and m.module not in imported
        ):
            symbol = re.search(r"\((Py\w+)\)", m.error)
            why = f"not a Python module (no {symbol.group(1) if symbol else 'init function'})"
            skipped.append(replace(file, why=f"{why}: a shared library shipped in the package"))
        else:
            kept.append(m)
    return kept, skipped


def _extras_of(dists: list[Distribution]) -> dict[str, dict[str, set[str]]]:
    """Per distribution, its extras and the names each one requires (from METADATA)."""
    out: dict[str, dict[str, set[str]]] = {}
    for dist in dists:
        try:
            text = (dist.dist_info / "METADATA").read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        extras: dict[str, set[str]] = {}
        for line in text.splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            found = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", line)
            name = re.match(r"Requires-Dist:\s*([A-Za-z0-9._-]+)", line)
            if found and name:
                extras.setdefault(found.group(1), set()).add(canonicalize_name(name.group(1)))
        out[canonicalize_name(dist.name)] = extras
    return out


def verify(
    env: Path,
    project: Project,
    *,
    full: bool = False,
    timeout: float = 60.0,
    on_imports: Callable[[int], Callable[[int], None]] | None = None,
    cache_results: bool = True,
    reuse_imports: bool | None = None,
) -> Verification:
    """Check the environment at ``env``; reuse the last result when nothing changed and not full.

    With ``cache_results``, every module's import result is kept (``reuse.py``) and, with
    ``reuse_imports`` (by default: when not ``full``), a module whose distribution and what it
    reaches are unchanged is not imported again. ``on_imports(total)`` returns a progress
    callback for the import phase; ``total`` is the number of modules imported.
    """
    start = time.monotonic()
    dists = distributions(env)
    context = import_context(project.root, project.source_roots, os.environ)
    # every file whose imports are verified: a new import in a script must not be answered
    # from the cache of a run that never saw it
    own_sources = sorted(
        {
            *cache.own_source_files(project.source_roots, project.own_packages),
            *python_files(project.root),
            *context.files,  # the pytest configuration the context was read from
        }
    )
    compiled = compiled_check(env, project, context, timeout)  # a bad benchmark name: first
    print_ = cache.fingerprint(env, dists, own_sources) if cache_results else ""
    if cache_results and not full and (cached := cache.load(env, print_)) is not None:
        now = compiled.refresh(cached.accelerated)  # a compiled file is not in the fingerprint
        if now != cached.accelerated:
            cached = replace(cached, accelerated=now)
            cache.store(env, print_, cached)
        return cached
    python = env / "bin" / "python"
    imports, _ = code_imports(project.root)
    found = import_jobs(dists, project, imports)
    jobs, provided = found.jobs, found.provided
    extras_of = _extras_of(dists)
    extra_path = [] if project.installable else [str(r) for r in project.source_roots]
    keys = reuse.distribution_keys(env, dists, extras_of, extra_path) if cache_results else None
    reused, todo = (
        reuse.split(jobs, keys, reuse.load(keys))
        if keys is not None and (not full if reuse_imports is None else reuse_imports)
        else ({}, list(range(len(jobs))))
    )
    importing = Importing(python, extra_path, timeout, context)
    # consistency and file checks run beside the imports: they wait on disk, the imports on CPU
    with ThreadPoolExecutor(max_workers=2) as pool:
        checking = pool.submit(
            proc.run,
            [proc.uv_bin(), "pip", "check", "--python", str(python)],
            venv=env,
            timeout=300,
        )
        hashing = pool.submit(check_all, dists)
        fresh = importing.run(jobs, todo, on_imports(len(todo)) if on_imports else None)
        check = checking.result()
        problems, files_checked = hashing.result()
    if keys is not None:  # a distribution whose files changed: what was reused over it is not
        changed = {p.distribution for p in problems}
        fresh |= importing.run(jobs, reuse.invalidated(jobs, reused, keys, changed), None)
    traced = reused | fresh
    results = {i: done for i, (done, _) in traced.items()}
    modules = [results[i] for i in range(len(jobs))]
    modules, also_skipped = _set_aside(modules, found, {i.module for i in imports})
    # a kept failure was given its second try when it was kept
    as_kept = {jobs[i].module for i, (m, _) in reused.items() if results[i] is m}
    tried = [m for m in modules if m.module not in as_kept or m.status is not ImportStatus.FAILED]
    through = _through(python, tried, dists, extras_of, timeout)
    modules = [
        replace(m, status=ImportStatus.OK, error=f"imports after {through[m.module]}, as meant")
        if m.module in through
        else m
        for m in modules
    ]
    if keys is not None:
        reuse.store(
            keys, jobs, modules, {jobs[i].module: loaded for i, (_, loaded) in traced.items()}
        )
    accelerated = compiled.run()
    result = Verification(
        modules=tuple(modules),
        consistency_ok=check.ok,
        consistency_output=(check.stdout + check.stderr).strip(),
        integrity_problems=tuple(problems),
        files_checked=files_checked,
        distributions=len(dists),
        seconds=time.monotonic() - start,
        judged=judge(
            [m for m in modules if m.status not in (ImportStatus.OK, ImportStatus.ABSENT)],
            project,
            provided,
            {i.module: i for i in imports},
            extras_of,
            local_names(project.root),
            python_minor=_minor(env),
            stdlib=_stdlib(python, any(m.status is not ImportStatus.OK for m in modules)),
            context=context,
        ),
        skipped=(*found.skipped, *also_skipped),
        accelerated=accelerated,
    )
    if cache_results:
        cache.store(env, print_, result)
    return result


@dataclass(frozen=True)
class Importing:
    """How the modules of one verification are imported."""

    python: Path
    extra_path: list[str]
    timeout: float
    context: ImportContext

    def run(
        self,
        jobs: Sequence[ImportJob],
        indices: Sequence[int],
        progress: Callable[[int], None] | None,
    ) -> dict[int, tuple[ModuleCheck, tuple[str, ...]]]:
        """The jobs at ``indices`` imported, their results (and what each loaded) by index."""
        if not indices:
            return {}
        done = import_traced(
            self.python,
            [jobs[i] for i in indices],
            extra_path=self.extra_path,
            timeout=self.timeout,
            progress=progress,
            context=self.context,
        )
        return dict(zip(indices, done, strict=True))


def _through(
    python: Path,
    modules: Sequence[ModuleCheck],
    dists: list[Distribution],
    extras_of: dict[str, dict[str, set[str]]],
    timeout: float,
) -> dict[str, str]:
    """``loaded_through`` with its failures shared between the cores: each try is a fresh
    interpreter of its own, and they are as many as the failures."""
    failed = [m for m in modules if m.status is ImportStatus.FAILED][:MAX_TRIES]
    others = [m for m in modules if m.status is not ImportStatus.FAILED]
    shares = max(1, min(os.cpu_count() or 1, len(failed)))
    with ThreadPoolExecutor(max_workers=shares) as pool:
        parts = pool.map(
            lambda n: loaded_through(
                python, [*others, *failed[n::shares]], dists, extras_of, timeout
            ),
            range(shares),
        )
        return {module: top for part in parts for module, top in part.items()}


def _stdlib(python: Path, needed: bool) -> frozenset[str]:
    """The interpreter's standard-library names, asked only when an import failed."""
    if not needed:
        return frozenset()
    found = stdlib.ask(python)
    return found.names if found is not None else frozenset()


def _minor(env: Path) -> str:
    """The environment's Python as major.minor, from its pyvenv.cfg ("" when it does not say)."""
    try:
        text = (env / "pyvenv.cfg").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    found = re.search(r"^version(?:_info)?\s*=\s*(\d+\.\d+)", text, re.MULTILINE)
    return found.group(1) if found else ""
