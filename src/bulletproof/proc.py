"""The one place where bulletproof runs other programs.

Every command is logged quoted with credentials redacted, always has a timeout, runs with
``PYTHONPATH``/``PYTHONHOME`` scrubbed (a stray one silently changes what a venv imports) and with
``VIRTUAL_ENV`` set explicitly when it targets an environment.
"""

from __future__ import annotations

import logging
import os
import shlex
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bulletproof import redaction
from bulletproof.errors import ToolError

log = logging.getLogger("bulletproof.proc")

_SCRUBBED = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "PIP_REQUIRE_VIRTUALENV",
)


@dataclass(frozen=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def ok(self) -> bool:
        return self.returncode == 0


def redact(text: str) -> str:
    """Every secret the run has seen, and every URL's credentials, hidden (redaction.py)."""
    return redaction.redact(text)


def quote(args: Sequence[str]) -> str:
    return redact(shlex.join(args))


def child_env(venv: Path | None = None, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a child process gets: ours, scrubbed, with the venv made explicit."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    # Managed interpreter downloads do not come from the package registry and fail on closed
    # networks; the user opts in by setting the variable themselves.
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    env.pop("VIRTUAL_ENV", None)
    if venv is not None:
        env["VIRTUAL_ENV"] = str(venv)
    if extra:
        env.update(extra)
    return env


def run(
    args: Sequence[str],
    *,
    timeout: float,
    cwd: Path | None = None,
    venv: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
) -> Completed:
    """Run a command to completion and capture its output; never raises for a non-zero exit.

    Raises ToolError when the program is missing or the timeout passes (the child is killed).
    """
    argv = tuple(str(a) for a in args)
    log.info("$ %s", quote(argv))
    start = time.monotonic()
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=child_env(venv, env),
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise ToolError(f"cannot run {argv[0]}: program not found") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolError(
            f"{quote(argv)} did not finish within {timeout:.0f} s and was stopped",
            detail=_text(exc.stderr),
        ) from exc
    seconds = time.monotonic() - start
    result = Completed(argv, done.returncode, done.stdout, done.stderr, seconds)
    if not result.ok:
        log.info("exit %d after %.1fs: %s", done.returncode, seconds, redact(done.stderr[-2000:]))
    return result


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode(errors="replace")


def uv_bin() -> str:
    """The uv binary that ships in the ``uv`` wheel this tool depends on."""
    import uv  # noqa: PLC0415  (import on use: finding uv is only needed when running it)

    return str(uv.find_uv_bin())
