"""Build one environment from the lock: a venv through its real path, then an exact sync."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bulletproof import proc
from bulletproof.analyze.faults import disk_full, scratch_places, stopping_fault, unpacked_size
from bulletproof.analyze.wheels import target_tags
from bulletproof.apply.locksplit import split_local
from bulletproof.errors import BuildError
from bulletproof.fsutil import write_text
from bulletproof.host.values import Target
from bulletproof.model import Project

INSTALL_TIMEOUT = 3600.0


def _must(done: proc.Completed, what: str, real: Path, lock_file: Path, target: Target) -> None:
    """A failed step is a build failure for the repair engine, unless it is a full disk or a
    source that could not be fetched: no build fix answers those, so they are raised as such."""
    if done.ok:
        return
    text = done.stderr.strip() or done.stdout.strip()
    stop = stopping_fault(
        [done.stdout + done.stderr],
        lambda: scratch_places(None, real),
        lambda: unpacked_size(lock_file, target_tags(target.interpreter)),
    )
    raise stop or BuildError(what, detail=text)


def build_environment(
    path: Path,
    lock_file: Path,
    project: Project,
    target: Target,
    *,
    build_constraints: tuple[str, ...] = (),
    env: Mapping[str, str] | None = None,
    own_build_failed: bool = False,
) -> None:
    """Create a venv at ``path`` (a real directory) and install exactly the lock into it;
    ``build_constraints`` apply to the isolated environments of source builds only, ``env`` (the
    variables the repair set) to every build."""
    uv = proc.uv_bin()
    real = path.resolve()  # shebangs and pyvenv.cfg must name the generation, never DIR/.venv
    python = str(real / "bin" / "python")
    where = (real, lock_file, target)  # what a full disk is named and measured by
    _must(
        proc.run(
            [
                uv,
                "venv",
                str(real),
                "--python",
                str(target.interpreter.path),
                "--prompt",
                project.name,
                "--no-project",
                "--quiet",
                "--allow-existing",
            ],
            cwd=project.root,
            timeout=120,
        ),
        f"could not create a virtual environment with Python {target.interpreter.version}",
        *where,
    )
    sync_lock, local = split_local(lock_file, real)
    sync = [uv, "pip", "sync", "--require-hashes", str(sync_lock), "--python", python, "--quiet"]
    if build_constraints:
        constraints = real / "bulletproof-build-constraints.txt"  # kept with what it built
        constraints.write_text("\n".join(build_constraints) + "\n", encoding="utf-8")
        sync += ["--build-constraints", str(constraints)]
    # Every artefact is pinned by hash in the lock, so uv's cache is as good as the index: try it
    # alone first and spare a revalidation request per package; go online only when it lacks one.
    done = proc.run(
        [*sync, "--offline"], cwd=project.root, venv=real, env=env, timeout=INSTALL_TIMEOUT
    )
    if not done.ok:
        done = proc.run(sync, cwd=project.root, venv=real, env=env, timeout=INSTALL_TIMEOUT)
    _must(done, "could not install the locked packages", *where)
    for entry in local:
        if entry.path is not None and entry.path.resolve() == project.root.resolve():
            continue  # the project itself, installed below with its own build
        _must(
            proc.run(
                [
                    uv,
                    "pip",
                    "install",
                    "--no-deps",
                    *entry.install_args(),
                    "--python",
                    python,
                    "--quiet",
                ],
                cwd=project.root,
                venv=real,
                env=env,
                timeout=INSTALL_TIMEOUT,
            ),
            f"could not install {entry.name} from {entry.where}",
            *where,
        )
    own_error = ""
    if project.installable and not own_build_failed:
        done = proc.run(
            [
                uv,
                "pip",
                "install",
                "--no-deps",
                "--editable",
                str(project.root),
                "--python",
                python,
                "--quiet",
            ],
            cwd=project.root,
            venv=real,
            env={**(env or {}), **dict(project.build_env)},
            timeout=INSTALL_TIMEOUT,
        )
        own_error = "" if done.ok else (done.stderr.strip() or done.stdout.strip())
        if disk_full(own_error):  # not the project's packaging: the disk
            _must(done, "could not install the project itself", *where)
    if not project.installable or own_build_failed or own_error:
        _source_roots_on_path(real, project)
    if own_error:
        write_text(real / OWN_BUILD_ERROR, own_error + "\n")


OWN_BUILD_ERROR = "bulletproof-own-build-error.txt"


def _source_roots_on_path(env: Path, project: Project) -> None:
    """A project that is run from its folder, or whose own build failed: its source roots on
    the environment's path, so its code imports as it would from a working install."""
    roots = project.source_roots or (project.root,)
    for site in (env / "lib").glob("python*/site-packages"):
        (site / "_bulletproof_project.pth").write_text(
            "".join(f"{r}\n" for r in dict.fromkeys(str(p) for p in (*roots, project.root))),
            encoding="utf-8",
        )
