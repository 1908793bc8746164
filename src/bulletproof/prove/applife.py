"""The app server's lifetime is bounded by ours. It runs in a session and process group of its
own (so its workers are stopped with it), asks the kernel to kill it when the thread that started
it dies (Linux' parent-death signal: a kill -9 of bulletproof takes the server with it), and is
recorded in a pidfile in DIR/.bulletproof, so a server that outlived a run anyway (another
system, workers the signal does not reach) is stopped at the next app check: only when the
recorded process is still the one we started (same start time), never a reused pid."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO

from bulletproof.fsutil import atomic_write

PIDFILE = "app-server.json"
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def start(
    argv: list[str], cwd: Path, env: dict[str, str], log: IO[bytes], pidfile: Path | None
) -> subprocess.Popen[bytes]:
    """Start the server and record it; ``pidfile`` None when DIR/.bulletproof is not ours."""
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own group: stopped whole, and no terminal's signals
        preexec_fn=_dies_with_us(),  # noqa: PLW1509  (only async-signal-safe calls in it)
    )
    if pidfile is not None:
        record = {"pid": process.pid, "start": _start_time(process.pid), "argv": argv}
        with contextlib.suppress(OSError):  # the recording is a backstop, not a condition
            atomic_write(pidfile, json.dumps(record).encode())
    return process


def stop(process: subprocess.Popen[bytes], pidfile: Path | None) -> None:
    """The whole group: a server's workers and anything it spawned; then the record."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        os.killpg(process.pid, signal.SIGKILL)  # workers that outlived their leader
    process.wait()
    if pidfile is not None:
        pidfile.unlink(missing_ok=True)


def reap(pidfile: Path) -> str:
    """Stop the server an earlier run left behind, if the record still names it; what was done."""
    try:
        record = json.loads(pidfile.read_text())
        pid, started, argv = int(record["pid"]), str(record["start"]), record["argv"]
    except FileNotFoundError:
        return ""
    except (OSError, ValueError, KeyError, TypeError):
        pidfile.unlink(missing_ok=True)
        return ""
    said = ""
    now = _start_time(pid)
    # a pid (and so a group id) is never reused while its group has a member: a group without
    # its leader is still ours when its members started after the leader we recorded
    ours = now == started if now else _members(pid, started)
    if ours and pid > 1:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
            said = f"stopped the app server an earlier run left running (pid {pid}: {argv[0]})"
    pidfile.unlink(missing_ok=True)
    return said


def _start_time(pid: int) -> str:
    """Field 22 of /proc/PID/stat (clock ticks since boot); "" when there is no such process."""
    fields = _stat(pid)
    return fields[19] if fields else ""


def _stat(pid: int) -> list[str]:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text[text.rfind(")") + 2 :].split()  # the name may hold spaces and parentheses


def _members(group: int, started: str) -> bool:
    """Any process left in the group and the session we made, started after its leader."""
    if not started.isdigit():
        return False
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat(int(entry.name))
        # state, ppid, pgrp, session, …: pgrp and session are the third and fourth
        if fields[2:4] == [str(group), str(group)] and int(fields[19]) >= int(started):
            return True
    return False


def _dies_with_us() -> Callable[[], None] | None:
    """A function run in the child before exec that asks for SIGKILL when its parent dies.

    The signal follows the *thread* that forked, so the server must be started from a thread
    that outlives it: the main thread."""
    if (
        not sys.platform.startswith("linux")
        or threading.current_thread() is not threading.main_thread()
    ):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: not after the fork
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # we died between the fork and the prctl
            os._exit(1)

    return preexec
