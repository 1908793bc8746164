"""A plain `setup` or `verify` where nothing changed, answered from a stat of what it depends on.

A run that ended verified or usable, changed nothing and was asked with no option but -q leaves
a record in the generation it answered for (``fastrecord.py``): its exit code, what it printed,
and the stat of every file and folder its answer depends on (the project's inputs and sources,
the lock, the ``.venv`` link and the generation's marker, the installed tree's folders and
RECORDs, the tool's own code), with the environment variables, the working folder and the
command line. The next identical request compares those stats before anything heavy is
imported (this module imports only the standard library's smallest parts) and, when every one
matches, prints the same text and exits with the same code. Any difference, or anything it
cannot read, means the full path: this answer is an optimisation, never a different verdict.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from bulletproof import __version__

FORMAT = 1
RECORD_PREFIX = "bulletproof-answer-"  # + the command + .json, inside the current generation
VENV_NAME = ".venv"
_COMMANDS = ("setup", "verify")
_QUIET = ("-q", "--quiet")
# a shell changes these between two commands without changing what the run sees
_VOLATILE = frozenset({"_", "OLDPWD", "SHLVL"})
_GREEN, _RED = "\x1b[1;32m", "\x1b[1;31m"  # as the full path colours its closing line


def plain_request(argv: Sequence[str]) -> tuple[str, str, bool] | None:
    """(command, directory as typed, quiet) when ``argv`` is `setup` or `verify`, a directory
    at most, and no option but -q; None for anything else (every other option can change what
    is done or printed)."""
    command: str | None = None
    directory: str | None = None
    quiet = False
    for token in argv:
        if token in _QUIET:
            quiet = True
        elif token.startswith("-") or not token:
            return None
        elif command is None:
            if token not in _COMMANDS:
                return None
            command = token
        elif directory is None:
            directory = token
        else:
            return None
    if command is None:
        return None
    return command, directory or ".", quiet


def record_path(directory: str, command: str) -> Path | None:
    """Where the record of ``command`` for the generation ``DIR/.venv`` links to is kept."""
    try:
        target = (Path(directory) / VENV_NAME).readlink()
    except OSError:  # no link: no generation of ours, nothing recorded
        return None
    return Path(directory) / target / f"{RECORD_PREFIX}{command}.json"


def signature(path: str) -> str:
    """What a change to ``path`` changes: kind, size, times and inode ("-" when absent)."""
    try:
        st = os.lstat(path)
    except OSError:
        return "-"
    return f"{st.st_mode:o}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}"


def environment_digest(environ: Mapping[str, str]) -> str:
    """A digest of the environment variables (values never stored): any variable can change
    what the project's modules do when imported, so any change means the full path."""
    h = hashlib.sha256()
    for key in sorted(environ):
        if key not in _VOLATILE:
            h.update(f"{key}={environ[key]}\0".encode(errors="surrogateescape"))
    return h.hexdigest()


def request_key(command: str, directory: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """Everything besides the files that must be the same for a record to answer."""
    return {
        "format": FORMAT,
        "version": __version__,
        "executable": sys.executable,
        "argv": [command, directory],
        "cwd": str(Path.cwd()),
        "env": environment_digest(environ),
    }


def unchanged(stats: Iterable[tuple[str, str]]) -> bool:
    return all(signature(path) == recorded for path, recorded in stats)


@dataclass(frozen=True)
class Request:
    """What was asked, taken before the run: the command line, when, and the request's key
    (the run itself may set variables in its own environment; the next request will not)."""

    argv: tuple[str, ...]
    since_ns: int  # the clock file times are stamped with
    plain: tuple[str, str, bool] | None  # (command, directory, quiet) of a plain request
    key: dict[str, Any]

    @classmethod
    def of(cls, argv: Sequence[str] | None, environ: Mapping[str, str] | None = None) -> Request:
        args = tuple(sys.argv[1:] if argv is None else argv)
        plain = plain_request(args)
        key = (
            request_key(plain[0], plain[1], os.environ if environ is None else environ)
            if plain
            else {}
        )
        return cls(args, time.time_ns(), plain, key)

    def answer(self, out: TextIO | None = None, err: TextIO | None = None) -> int | None:
        """The recorded exit code after printing the recorded text, when the request and every
        file it depends on are as they were; None (print nothing) to take the full path."""
        if self.plain is None:
            return None
        command, directory, quiet = self.plain
        path = record_path(directory, command)
        if path is None:
            return None
        try:
            with path.open(encoding="utf-8") as handle:
                record = json.load(handle)
            if record["key"] != self.key or not unchanged(record["stats"]):
                return None
            code, before = int(record["code"]), str(record["text"])
            closing = str(record["closing"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        said = _printed(code, before, closing, out or sys.stdout)
        if said and not quiet:
            (err or sys.stderr).write(_SAID)
        return code if said else None


_SAID = "nothing changed since the last run: its answer (--full checks everything again)\n"


def _printed(code: int, before: str, closing: str, out: TextIO) -> bool:
    colour = out.isatty() and "NO_COLOR" not in os.environ
    last = f"{_GREEN if code == 0 else _RED}{closing}\x1b[0m" if colour else closing
    text = f"{before}{last}\n"
    try:  # a terminal that cannot show the text gets the full path's own handling of it
        text.encode(out.encoding or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    out.write(text)
    out.flush()
    return True
