"""Start the project's own application in its environment on a free loopback port, wait for it,
request its health (or documentation) route and one GET route it declares, read its metrics
route when it has one (checked line by line as Prometheus' text format: promtext.py), and stop
it. ASGI apps are served by the environment's uvicorn (else hypercorn); WSGI apps by the
standard library's wsgiref, so nothing needs installing.

The app runs as its developer runs it (its .env, its relative paths) but in a scratch copy of
the project (appscratch.py), so what it writes is ours to delete and the project's files are
never touched; files that appear in the project meanwhile are someone else's: said, left. The
server dies with us (applife.py)."""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

from bulletproof import proc
from bulletproof.apply.generations import STATE_DIR
from bulletproof.code.found import App
from bulletproof.prove import applife, appscratch, promtext
from bulletproof.prove.results import Answer, AppCheck

START_TIMEOUT = 30.0
REQUEST_TIMEOUT = 5.0
MAX_METRICS_BYTES = 4 * 1024 * 1024  # past this, the lines read whole are judged
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


def check_app(app: App, python: Path, env: dict[str, str], project: Path) -> AppCheck:
    """``project``: the folder the app's module path (``app.root``) and .env belong to."""
    pidfile = _pidfile(project)
    reaped = applife.reap(pidfile) if pidfile else ""
    port = _free_port()
    chosen = _command(app, python, port)
    if chosen is None:
        problem = "no ASGI server in the environment (uvicorn, hypercorn)"
        return AppCheck(app, "", problem=problem, reaped=reaped)
    place = appscratch.prepare(project)
    child_env = proc.child_env(python.parent.parent, env)
    # the copy's modules first, ahead of an editable install that points back at the project
    inside = app.root.is_relative_to(project)
    child_env["PYTHONPATH"] = str(
        place.folder / app.root.relative_to(project) if inside else app.root
    )
    try:
        check = _serve(app, chosen, port=port, folder=place.folder, env=child_env, pidfile=pidfile)
        discarded = appscratch.written(place)
    finally:
        appscratch.release(place)
    appeared, changed = appscratch.project_changes(project, place.before)
    ran_in = "a scratch copy" if place.copy else f"the project's folder ({place.why_in_place})"
    return replace(
        check, ran_in=ran_in, discarded=discarded, appeared=appeared, changed=changed, reaped=reaped
    )


def _serve(
    app: App,
    chosen: tuple[str, list[str]],
    *,
    port: int,
    folder: Path,
    env: dict[str, str],
    pidfile: Path | None,
) -> AppCheck:
    server, argv = chosen
    answers: list[Answer] = []
    metrics, metrics_problem = None, ""
    # a server runs until stopped, which proc.run (run to completion) is not for
    with tempfile.TemporaryFile() as log:
        process = applife.start(argv, folder, env, log, pidfile)
        try:
            up = _wait(port, process)
            if up:
                answers = [_get(port, path) for path in _paths(app)]
                if _METRICS in app.routes or _get(port, _METRICS).status == 200:
                    metrics_problem = _metrics_problem(port)
                    metrics = not metrics_problem
        finally:
            applife.stop(process, pidfile)
        if not up:
            log.seek(0)
            lines = [line for line in log.read().decode(errors="replace").splitlines() if line]
            said = " ".join(lines[-2:])[-400:]  # a traceback ends with what was raised
            return AppCheck(app, server, problem=f"it did not start on 127.0.0.1:{port}: {said}")
    return AppCheck(app, server, tuple(answers), metrics=metrics, metrics_problem=metrics_problem)


def _pidfile(project: Path) -> Path | None:
    """The server's record, in DIR/.bulletproof when it is a real folder (never through a link)."""
    state = project / STATE_DIR
    if state.is_symlink() or not state.is_dir():
        return None
    return state / applife.PIDFILE


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


def _metrics_problem(port: int) -> str:
    """Empty when the metrics route answers with Prometheus' text exposition format; else why
    not. A body longer than we read is judged on its whole lines."""
    # the text format asked for by name: a server that can also write OpenMetrics chooses by
    # it; the request goes over http to our own loopback port (S310: no file: or other scheme)
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{_METRICS}", headers={"Accept": "text/plain; version=0.0.4"}
    )
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as response:  # noqa: S310
            body = response.read(MAX_METRICS_BYTES + 1)
    except urllib.error.HTTPError as exc:
        return f"it answered {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return f"it did not answer: {exc}"
    if len(body) > MAX_METRICS_BYTES:
        body = body[: body.rfind(b"\n") + 1]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return "it is not UTF-8 text"
    return promtext.problem(text)
