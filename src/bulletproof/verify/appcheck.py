"""Start the project's own application in its environment on a free loopback port, wait for it,
request its health (or documentation) route and one GET route it declares, read its metrics
route when it has one, and stop it. ASGI apps are served by the environment's uvicorn (else
hypercorn); WSGI apps by the standard library's wsgiref, so nothing needs installing.

The app runs in the project's folder, as its developer runs it, so it may create files there (a
SQLite database opened on first use): what it created is removed when it stops, and said."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from bulletproof import proc
from bulletproof.fsutil import MAX_PROJECT_FILES, walk_project
from bulletproof.model import Answer, App, AppCheck

START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 5.0
_HEALTH = ("/health", "/healthz", "/health/", "/api/health", "/status", "/ping", "/livez")
_DOCS = ("/docs", "/openapi.json")
_METRICS = "/metrics"
_WSGIREF = (
    "import importlib, sys\n"
    "from wsgiref.simple_server import make_server, WSGIRequestHandler\n"
    "WSGIRequestHandler.log_message = lambda *a: None\n"
    "app = getattr(importlib.import_module(sys.argv[1]), sys.argv[2])\n"
    "make_server('127.0.0.1', int(sys.argv[3]), app).serve_forever()\n"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _command(app: App, python: Path, port: int) -> tuple[str, list[str]] | None:
    target = f"{app.module}:{app.attribute}"
    if app.interface == "wsgi":
        return "wsgiref", [str(python), "-c", _WSGIREF, app.module, app.attribute, str(port)]
    bin_dir = python.parent
    if (bin_dir / "uvicorn").exists():
        return "uvicorn", [str(python), "-m", "uvicorn", target, "--host", "127.0.0.1",
                           "--port", str(port), "--log-level", "warning"]  # fmt: skip
    if (bin_dir / "hypercorn").exists():
        return "hypercorn", [str(python), "-m", "hypercorn", target, "--bind", f"127.0.0.1:{port}"]
    return None


def check_app(app: App, python: Path, env: dict[str, str]) -> AppCheck:
    port = _free_port()
    chosen = _command(app, python, port)
    if chosen is None:
        return AppCheck(app, "", problem="no ASGI server in the environment (uvicorn, hypercorn)")
    server, argv = chosen
    child_env = proc.child_env(python.parent.parent, env)
    child_env["PYTHONPATH"] = str(app.root)
    before = _files(app.root)
    # a server runs until stopped, which proc.run (run to completion) is not for
    log = tempfile.TemporaryFile()  # noqa: SIM115  (closed in _stop)
    process = subprocess.Popen(
        argv,
        cwd=app.root,
        env=child_env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its workers are stopped with it
    )
    try:
        if not _wait(port, process):
            log.seek(0)
            lines = [line for line in log.read().decode(errors="replace").splitlines() if line]
            said = " ".join(lines[-2:])[-400:]  # a traceback ends with what was raised
            problem = f"it did not start on 127.0.0.1:{port}: {said}"
            return AppCheck(app, server, problem=problem, removed=_remove_new(app.root, before))
        answers = [_get(port, path) for path in _paths(app)]
        metrics = None
        if _METRICS in app.routes or _get(port, _METRICS).status == 200:
            metrics = _prometheus(port)
    finally:
        _stop(process)
        log.close()
    removed = _remove_new(app.root, before)
    return AppCheck(app, server, tuple(answers), metrics=metrics, removed=removed)


def _files(root: Path) -> set[Path] | None:
    """Every file and folder under the project's folder; None for a tree too large to watch."""
    found: set[Path] = set()
    for folder, dirs, files in walk_project(root):
        found.update(folder / name for name in [*dirs, *files])
        if len(found) > MAX_PROJECT_FILES:
            return None
    return found


def _remove_new(root: Path, before: set[Path] | None) -> tuple[str, ...]:
    """Remove the files and folders the app created while it ran; the names of the files."""
    after = _files(root) if before is not None else None
    if before is None or after is None:
        return ()
    created = sorted(after - before, reverse=True)  # a folder's contents before the folder
    files = [p for p in created if not p.is_dir() or p.is_symlink()]
    for path in created:
        if path in files:
            path.unlink(missing_ok=True)
        elif not any(path.iterdir()):
            path.rmdir()
    return tuple(sorted(str(p.relative_to(root)) for p in files))


def _paths(app: App) -> list[str]:
    """The first health or documentation route that answers is enough; plus one GET route."""
    health = [p for p in _HEALTH if p in app.routes] or [*(_HEALTH[:2]), *_DOCS]
    other = [p for p in app.routes if p not in health and p != _METRICS][:1] or ["/"]
    return [*health, *other]


def _wait(port: int, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def _get(port: int, path: str) -> Answer:
    start = time.monotonic()
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}{path}", timeout=REQUEST_TIMEOUT
        ) as response:
            status = response.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except (urllib.error.URLError, OSError):
        status = 0
    return Answer(path, status, round(time.monotonic() - start, 4))


def _prometheus(port: int) -> bool:
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}{_METRICS}", timeout=REQUEST_TIMEOUT
        ) as response:
            text = response.read(65536).decode(errors="replace")
    except (urllib.error.URLError, OSError):
        return False
    return "# TYPE" in text or "# HELP" in text


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
