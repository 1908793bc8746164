"""`rollback` and `generate`: a command that changes one thing and says what (`Done`)."""

from __future__ import annotations

from pathlib import Path

from bulletproof.apply.generations import Store
from bulletproof.code.envvars import env_vars
from bulletproof.errors import BulletproofError, InputError
from bulletproof.flow.common import locked_run
from bulletproof.flow.results import Done
from bulletproof.generate.envtemplate import find_example, render, write_template
from bulletproof.generate.troubleshooting import write as write_troubleshooting
from bulletproof.lockfile.lock import LOCK_NAME, read_lock_meta
from bulletproof.project import discover
from bulletproof.reporter import Reporter


def rollback(directory: Path, to: str | None, lock_timeout: float, ui: Reporter) -> Done:
    try:
        project = discover(directory)
        store = Store(project.root)
        with locked_run(store, ui, lock_timeout):
            done = store.rollback(to)
        said: list[str] = []
        if done.moved:
            said.append(done.moved)
        lock_meta = read_lock_meta(project.root / LOCK_NAME)
        if done.generation.meta().get("packages-hash") != lock_meta.packages_hash:
            said.append(
                f"it was built from an earlier lock than {LOCK_NAME}: verify says 'out of date' "
                "until setup brings it back to the lock"
            )
        return Done(
            f"{directory / '.venv'} now points at {done.generation.path.name}",
            said=tuple(said),
            moved_aside=done.moved or "",
            project=project,
        )
    except BulletproofError as exc:
        return Done("", error=exc)


def generate(what: str, directory: Path, output: Path | None, *, force: bool) -> Done:
    try:
        if what == "env":  # reads only the code: any folder of Python files will do
            root = directory.resolve()
            if not root.is_dir():
                raise InputError(f"{directory}: no such folder")
            variables = env_vars(root)
            text = render(root.name, variables, find_example(root))
            path = write_template(root, text, output=output, force=force)
            required = sum(v.required for v in variables)
            return Done(f"wrote {path}: {len(variables)} variables, {required} required")
        project = discover(directory)
        path = write_troubleshooting(project.root, project.name, output=output, force=force)
        return Done(f"wrote {path}", project=project)
    except BulletproofError as exc:
        return Done("", error=exc)
