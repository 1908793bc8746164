"""verify(env, project) -> Verification: imports, consistency and file integrity, all collected."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from bulletproof import proc
from bulletproof.model import Project, Verification
from bulletproof.verify import cache
from bulletproof.verify.distributions import Distribution, distributions
from bulletproof.verify.imports import ImportJob, import_all
from bulletproof.verify.integrity import check_all
from bulletproof.verify.modules import importable_modules, package_modules


def import_jobs(dists: list[Distribution], project: Project) -> list[ImportJob]:
    jobs: dict[str, ImportJob] = {}
    own = set(project.own_packages)
    for dist in dists:
        try:
            paths = [row.path for row in dist.record()]
        except (OSError, ValueError):
            continue  # reported by the integrity check
        for module in importable_modules(paths):
            if module.split(".")[0] not in own:
                jobs.setdefault(module, ImportJob(module, dist.name))
    for root in project.source_roots:
        for package in project.own_packages:
            for module in package_modules(root, package):
                jobs[module] = ImportJob(module, project.name)
    return list(jobs.values())


def verify(
    env: Path,
    project: Project,
    *,
    full: bool = False,
    timeout: float = 60.0,
    on_imports: Callable[[int], Callable[[int], None]] | None = None,
    cache_results: bool = True,
) -> Verification:
    """Check the environment at ``env``; reuse the last result when nothing changed and not full.

    ``on_imports(total)`` returns a progress callback for the import phase.
    """
    start = time.monotonic()
    own_sources = cache.own_source_files(project.source_roots, project.own_packages)
    print_ = cache.fingerprint(env, own_sources) if cache_results else ""
    if cache_results and not full and (cached := cache.load(env, print_)) is not None:
        return cached
    python = env / "bin" / "python"
    dists = distributions(env)
    check = proc.run(
        [proc.uv_bin(), "pip", "check", "--python", str(python)], venv=env, timeout=300
    )
    problems, files_checked = check_all(dists)
    jobs = import_jobs(dists, project)
    extra_path = [] if project.installable else [str(r) for r in project.source_roots]
    modules = import_all(
        python,
        jobs,
        extra_path=extra_path,
        timeout=timeout,
        progress=on_imports(len(jobs)) if on_imports else None,
    )
    result = Verification(
        modules=tuple(modules),
        consistency_ok=check.ok,
        consistency_output=(check.stdout + check.stderr).strip(),
        integrity_problems=tuple(problems),
        files_checked=files_checked,
        distributions=len(dists),
        seconds=time.monotonic() - start,
    )
    if cache_results:
        cache.store(env, print_, result)
    return result
