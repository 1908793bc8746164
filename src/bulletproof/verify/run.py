"""verify(env, project) -> Verification: imports, consistency and file integrity, all collected."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from packaging.utils import canonicalize_name

from bulletproof import proc
from bulletproof.model import Project, Verification
from bulletproof.verify import cache
from bulletproof.verify.distributions import Distribution, dependency_depth, distributions
from bulletproof.verify.imports import ImportJob, import_all
from bulletproof.verify.integrity import check_all
from bulletproof.verify.modules import importable_modules, package_modules


def import_jobs(dists: list[Distribution], project: Project) -> list[ImportJob]:
    """Every module to import: dependencies before their dependents, the project's own last."""
    jobs: dict[str, ImportJob] = {}
    own = set(project.own_packages)
    depth = dependency_depth(dists)
    for dist in sorted(dists, key=lambda d: (depth.get(canonicalize_name(d.name), 0), d.name)):
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
    dists = distributions(env)
    own_sources = cache.own_source_files(project.source_roots, project.own_packages)
    print_ = cache.fingerprint(env, dists, own_sources) if cache_results else ""
    if cache_results and not full and (cached := cache.load(env, print_)) is not None:
        return cached
    python = env / "bin" / "python"
    jobs = import_jobs(dists, project)
    # consistency and file checks run beside the imports: they wait on disk, the imports on CPU
    with ThreadPoolExecutor(max_workers=2) as pool:
        checking = pool.submit(
            proc.run,
            [proc.uv_bin(), "pip", "check", "--python", str(python)],
            venv=env,
            timeout=300,
        )
        hashing = pool.submit(check_all, dists)
        extra_path = [] if project.installable else [str(r) for r in project.source_roots]
        modules = import_all(
            python,
            jobs,
            extra_path=extra_path,
            timeout=timeout,
            progress=on_imports(len(jobs)) if on_imports else None,
        )
        check = checking.result()
        problems, files_checked = hashing.result()
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
