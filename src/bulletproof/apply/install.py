"""Build one environment from the lock: a venv through its real path, then an exact sync."""

from __future__ import annotations

from pathlib import Path

from bulletproof import proc
from bulletproof.errors import BuildError
from bulletproof.model import Project, Target

INSTALL_TIMEOUT = 3600.0


def _must(done: proc.Completed, what: str) -> None:
    if not done.ok:
        raise BuildError(what, detail=done.stderr.strip() or done.stdout.strip())


def build_environment(
    path: Path,
    lock_file: Path,
    project: Project,
    target: Target,
    build_constraints: tuple[str, ...] = (),
) -> None:
    """Create a venv at ``path`` (a real directory) and install exactly the lock into it;
    ``build_constraints`` apply to the isolated environments of source builds only."""
    uv = proc.uv_bin()
    real = path.resolve()  # shebangs and pyvenv.cfg must name the generation, never DIR/.venv
    python = str(real / "bin" / "python")
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
    )
    sync = [uv, "pip", "sync", "--require-hashes", str(lock_file), "--python", python, "--quiet"]
    if build_constraints:
        constraints = real / "bulletproof-build-constraints.txt"  # kept with what it built
        constraints.write_text("\n".join(build_constraints) + "\n", encoding="utf-8")
        sync += ["--build-constraints", str(constraints)]
    # Every artefact is pinned by hash in the lock, so uv's cache is as good as the index: try it
    # alone first and spare a revalidation request per package; go online only when it lacks one.
    done = proc.run([*sync, "--offline"], cwd=project.root, venv=real, timeout=INSTALL_TIMEOUT)
    if not done.ok:
        done = proc.run(sync, cwd=project.root, venv=real, timeout=INSTALL_TIMEOUT)
    _must(done, "could not install the locked packages")
    if project.installable:
        _must(
            proc.run(
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
                timeout=INSTALL_TIMEOUT,
            ),
            f"could not install the project {project.name} itself (editable)",
        )
