"""`verify`: the current DIR/.venv verified again against the project as it is now, and (with
--tests) proved by its tests, under the run lock; one `EnvResult` back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bulletproof.apply.generations import Store
from bulletproof.errors import BulletproofError, InputError
from bulletproof.flow.common import Options, locked_run, with_proof
from bulletproof.flow.results import EnvResult
from bulletproof.lockfile.lock import LOCK_NAME, read_lock_meta
from bulletproof.project import discover
from bulletproof.reporter import Reporter
from bulletproof.verify.run import verify
from bulletproof.verify.uptodate import out_of_date


def verify_only(directory: Path, options: Options, ui: Reporter) -> EnvResult:
    """Verify DIR/.venv; an error is returned in the result with what was learned before it."""
    result = EnvResult("verify", directory)
    try:
        # the extras and groups setup was asked for, so the inputs compared are the same ones
        meta = read_lock_meta(directory / LOCK_NAME)
        result = replace(result, set_aside=meta.set_aside)
        project = discover(directory, meta.selection)
        result = replace(result, project=project)
        env = project.root / ".venv"
        if not (env / "bin" / "python").exists():
            raise InputError(f"no environment at {env}", hint=f"run: bulletproof setup {directory}")
        store = Store(project.root)
        with locked_run(store, ui, options.lock_timeout):
            current = store.current()
            result = replace(result, generation=current)
            # a foreign .venv is checked as it is: there is no lock it was made from; an
            # out-of-date one is still verified (and its tests run): what it breaks is worth
            # seeing
            if current is not None:
                result = replace(
                    result, stale=tuple(out_of_date(project, current.meta(), env.resolve()))
                )
            with (
                ui.step("Verifying the environment", spinner=False),
                ui.import_progress() as progress,
            ):
                # someone else's venv is checked as it is and nothing is written into it
                verification = verify(
                    env.resolve(),
                    project,
                    full=options.full or current is None,
                    timeout=options.import_timeout,
                    on_imports=progress,
                    cache_results=current is not None,
                )
            result = replace(result, verification=verification)
            # a broken environment's tests still run: they show which of them its breakage reaches
            return with_proof(result, options, ui)
    except BulletproofError as exc:
        return replace(result, error=exc)
