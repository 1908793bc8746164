"""`diff A B`: what differs between two environments, each a JSON report (`setup`/`verify
--json`, or `prove --fresh --json`'s fresh system) or a project folder whose live `.venv` is
fingerprinted now. The rows come from `verify/envdiff.py`; this flow only finds the two sides.

A live DIR is read, never changed and never verified here (that would import every module):
its verdict is "not verified here". It is not taken under the project's run lock either: a
fingerprint reads `.venv` once, through the link resolved at the start, and a setup that switches
the link meanwhile leaves the generation it pointed at whole (the previous one is kept)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bulletproof.errors import BulletproofError, ExitCode, InputError
from bulletproof.reporter import Reporter
from bulletproof.verify.envdiff import (
    NOT_VERIFIED_HERE,
    Row,
    Side,
    compare,
    side_from_report,
    variable_states,
)
from bulletproof.verify.fingerprint import fingerprint


@dataclass(frozen=True)
class EnvDiff:
    """What `diff` came to; on an error, the sides read before it."""

    left: Side | None = None
    right: Side | None = None
    rows: tuple[Row, ...] = ()
    error: BulletproofError | None = None

    @property
    def unexplained(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.unexplained)

    @property
    def exit_code(self) -> ExitCode:
        """0: nothing differs that the interpreter, the platform or the release does not
        explain; 1: something does (a reader must look at it); an error's own code."""
        if self.error is not None:
            return ExitCode(self.error.exit_code)
        return ExitCode.FAILED if self.unexplained else ExitCode.OK

    @property
    def message(self) -> str:
        if self.error is not None:
            return self.error.message
        if not self.rows:
            return "the two environments are the same"
        if not self.unexplained:
            return f"{len(self.rows)} difference(s), each explained"
        return f"{len(self.unexplained)} of {len(self.rows)} difference(s) not explained"

    def to_dict(self) -> dict[str, Any]:
        return {
            "left": self.left.to_dict() if self.left else None,
            "right": self.right.to_dict() if self.right else None,
            "differences": [r.to_dict() for r in self.rows],
            "unexplained": len(self.unexplained),
        }


def diff_environments(a: Path, b: Path, ui: Reporter) -> EnvDiff:
    result = EnvDiff()
    try:
        result = replace(result, left=read_side(a, ui))
        result = replace(result, right=read_side(b, ui))
        assert result.left is not None and result.right is not None
        return replace(result, rows=compare(result.left, result.right))
    except BulletproofError as exc:
        return replace(result, error=exc)


def read_side(path: Path, ui: Reporter) -> Side:
    """A report file, or a project folder's live `.venv`; InputError when it is neither."""
    if path.is_dir():
        return live_side(path, ui)
    if not path.is_file():
        raise InputError(f"{path}: no such report file or project folder")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a JSON report ({exc})") from None
    try:
        return side_from_report(data, str(path))
    except ValueError as exc:
        raise InputError(
            f"{path}: {exc}",
            hint="a report of `bulletproof setup --json` or `verify --json` of a verified "
            "environment, or a project folder with a .venv",
        ) from None


def live_side(directory: Path, ui: Reporter) -> Side:
    venv = directory / ".venv"
    if not (venv / "bin" / "python").exists():
        raise InputError(
            f"no environment at {venv} to compare",
            hint=f"run: bulletproof setup {directory}",
        )
    with ui.step(f"Fingerprinting {venv}") as detail:
        found = fingerprint(venv.resolve())
        detail.append(f"{len(found.distributions)} distributions")
    return Side(
        label=str(directory),
        kind="live",
        fingerprint=found,
        verdict=NOT_VERIFIED_HERE,
        variables=variable_states(directory, os.environ),
    )
