"""The app check owns only what it made. A real WSGI app (a framework class of the project's own,
served by wsgiref) runs while a second real process writes into the project: every one of those
files is still there after, byte for byte, and none is called the app's; what the app writes
relative to its working directory lands in its scratch copy. A bulletproof killed with SIGKILL
while the app listens takes the app with it; a server an earlier run left is stopped at the next
start only while its recorded start time still matches. A module doing work at import is said."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulletproof.cli import main
from bulletproof.prove import applife, appscratch, promtext
from tests.conftest import only_from, verify_tests_report
from tests.fixtures.wheels import make_wheel

_FRAME = """
class Bottle:  # the smallest WSGI framework: one route table
    def __init__(self):
        self.routes = {}

    def get(self, path):
        def register(handler):
            self.routes[path] = handler
            return handler
        return register

    def __call__(self, environ, start_response):
        handler = self.routes.get(environ["PATH_INFO"])
        status = "200 OK" if handler else "404 Not Found"
        start_response(status, [("Content-Type", "text/plain")])
        return [(handler() if handler else "no").encode()]
"""

# work happens on request, not at import: the import check must not write or wait
_SITE = """
import time
from pathlib import Path

from zqframe import Bottle

app = Bottle()
GATE = Path({gate!r})
ASKED = GATE.with_name("asked")


@app.get("/metrics")
def metrics():  # says "# TYPE", as Prometheus text does, and is not: its value is a word
    return "# TYPE zqsite_hits counter\\nzqsite_hits five\\n"


@app.get("/healthz")
def health():
    ASKED.write_text("the app is being asked")
    Path("made-by-app.txt").write_text("relative to its working directory")
    Path(__file__).with_name("beside.txt").write_text("beside its module")
    Path("data.txt").write_text(Path("data.txt").read_text() + "changed by the app")
    deadline = time.monotonic() + 4
    while not GATE.exists() and time.monotonic() < deadline:
        time.sleep(0.05)  # the second process writes now
    return "ok"
"""

_JOB = """
import contextlib

from zqframe import Bottle

app = Bottle()
with contextlib.suppress(OSError):
    pass
"""

# a second process: once the app is being asked, it writes 24 files into the project
_WRITER = """
import sys, time
from pathlib import Path

root, gate = Path(sys.argv[1]), Path(sys.argv[2])
asked = gate.with_name("asked")
deadline = time.monotonic() + 60
while not asked.exists() and time.monotonic() < deadline:
    time.sleep(0.02)
(root / "notes").mkdir(exist_ok=True)
for i in range(24):
    folder = root / ("notes" if i % 2 else "")
    (folder / f"editor-{i}.txt").write_bytes(bytes(range(i, i + 50)) * (i + 1))
gate.write_text("written")
"""


def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gate: Path) -> Path:
    house = tmp_path / "house"
    make_wheel(house, "zqdep", "1.0", {"zqdep/__init__.py": ""})
    only_from(monkeypatch, str(house))
    root = tmp_path / "zqsite"
    root.mkdir()
    (root / "requirements.txt").write_text("zqdep==1.0\n")
    (root / "zqframe.py").write_text(_FRAME)
    (root / "zqsite.py").write_text(_SITE.format(gate=str(gate)))
    (root / "zqjob.py").write_text(_JOB)
    (root / "data.txt").write_text("the project's own\n")
    assert main(["setup", str(root), "--python", "3.12", "-q"]) == 0
    return root


def test_files_others_write_while_the_app_runs_are_left_and_its_own_stay_in_its_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gate = tmp_path / "gate"
    root = _project(tmp_path, monkeypatch, gate)
    writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(root), str(gate)])
    try:
        code, tests = verify_tests_report(root)
    finally:
        writer.wait(timeout=60)
    assert writer.returncode == 0 and gate.exists()  # it wrote while the app was being asked
    for i in range(24):
        path = root / ("notes" if i % 2 else "") / f"editor-{i}.txt"
        assert path.read_bytes() == bytes(range(i, i + 50)) * (i + 1), path
    app = tests["app"]
    assert (code, app["ok"], app["target"], app["ran_in"]) == (
        0,
        True,
        "zqsite:app",
        "a scratch copy",
    )
    assert "removed" not in app
    # a project with no tests: the app and the gate, and no run stands in for the missing suite
    assert (tests["found"], tests["command"], tests["cases"], tests["pass_rate"]) == (
        False,
        [],
        [],
        None,
    )
    # its metrics route is read by the format's grammar, not searched for "# TYPE"
    assert (app["metrics"], app["metrics_problem"]) == (
        False,
        "line 2: the value is not a number: 'zqsite_hits five'",
    )
    written = [f"editor-{i}.txt" if i % 2 == 0 else f"notes/editor-{i}.txt" for i in range(24)]
    assert app["appeared"] == sorted(written)  # said, as anyone's, and left
    assert app["discarded"] == ["beside.txt", "data.txt", "made-by-app.txt"]
    assert not (root / "made-by-app.txt").exists() and not (root / "beside.txt").exists()
    assert (root / "data.txt").read_text() == "the project's own\n"
    assert not (root / ".bulletproof" / applife.PIDFILE).exists()
    # (c) the module that runs a `with` at import was not started, and that is said
    assert app["skipped"] == [
        {
            "where": "zqjob.py:7",
            "reason": "app (line 6) not started: the module runs a top-level `with` when "
            "imported, and serving it would run that work",
        }
    ]


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
    except OSError:
        return False
    return True


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_killed_bulletproof_takes_its_app_server_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path, monkeypatch, tmp_path / "never")  # its health route hangs
    pidfile = root / ".bulletproof" / applife.PIDFILE
    run = subprocess.Popen(
        [sys.executable, "-m", "bulletproof", "verify", str(root), "--tests", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not pidfile.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        record = json.loads(pidfile.read_text())
        server, port = record["pid"], int(record["argv"][-1])
        while not _listening(port) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _listening(port)
        run.send_signal(signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 5
        while (_listening(port) or _group_alive(server)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _listening(port)
        assert not _group_alive(server)
    finally:
        run.kill()
        run.wait()
    assert pidfile.exists()  # the killed run could not remove it; the next run does
    _, tests = verify_tests_report(root)
    assert not pidfile.exists()
    assert tests["app"]["reaped"] == ""  # the server was already gone: nothing to stop


@pytest.fixture
def sleeper() -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(["sleep", "60"], start_new_session=True)
    yield process
    process.kill()
    process.wait()


def test_a_leftover_server_is_stopped_only_while_its_record_still_names_it(
    tmp_path: Path, sleeper: subprocess.Popen[bytes]
) -> None:
    pidfile = tmp_path / applife.PIDFILE
    stat = Path(f"/proc/{sleeper.pid}/stat").read_text()
    started = stat[stat.rfind(")") + 2 :].split()[19]
    # a reused pid: the same number, another start time → left alone
    pidfile.write_text(json.dumps({"pid": sleeper.pid, "start": "1", "argv": ["sleep"]}))
    assert applife.reap(pidfile) == ""
    assert sleeper.poll() is None and not pidfile.exists()
    pidfile.write_text(json.dumps({"pid": sleeper.pid, "start": started, "argv": ["sleep"]}))
    assert f"pid {sleeper.pid}" in applife.reap(pidfile)
    assert sleeper.wait(timeout=5) == -signal.SIGKILL
    assert not pidfile.exists()


def test_a_project_too_large_to_copy_runs_in_place_and_nothing_is_deleted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    gate = tmp_path / "gate"
    gate.write_text("open")  # no second process here: the app's own writes are the point
    root = _project(tmp_path, monkeypatch, gate)
    monkeypatch.setattr(appscratch, "MAX_COPY_FILES", 2)
    capsys.readouterr()
    code, tests = verify_tests_report(root)
    app = tests["app"]
    assert (code, app["ok"], app["discarded"]) == (0, True, [])
    assert app["ran_in"].startswith("the project's folder (6 files, 0.0 MB: too large")
    # the app's own writes, left where it made them, and said as what appeared or changed
    assert app["appeared"] == ["beside.txt", "made-by-app.txt"]
    assert app["changed"] == ["data.txt"]
    assert (root / "made-by-app.txt").exists() and (root / "beside.txt").exists()
    out = capsys.readouterr().out
    assert "beside.txt, made-by-app.txt appeared in the project while the app ran" in out
    assert "app check skipped (zqjob.py:7)" in out
    assert "metrics: not Prometheus text (line 2: the value is not a number" in out


# what prometheus_client writes (a counter with its _created gauge, an info gauge, a histogram,
# a summary) and the corners of the format: escapes, NaN, -Inf, a timestamp, free comments
_VALID = r"""# HELP python_gc_objects_collected_total Objects collected during gc
# TYPE python_gc_objects_collected_total counter
python_gc_objects_collected_total{generation="0"} 217.0
python_gc_objects_collected_total{generation="1"} 12.0
# HELP python_info Python platform information
# TYPE python_info gauge
python_info{implementation="CPython",major="3",minor="12",version="3.12.1"} 1.0
# HELP zq_request_seconds Time spent "answering"\nby path, in C:\\ seconds
# TYPE zq_request_seconds histogram
zq_request_seconds_bucket{le="0.005",path="/items"} 0.0
zq_request_seconds_bucket{le="+Inf",path="/items"} 3.0
zq_request_seconds_count{path="/items"} 3.0
zq_request_seconds_sum{path="/items"} 0.042
# HELP zq_request_seconds_created Time spent answering
# TYPE zq_request_seconds_created gauge
zq_request_seconds_created{path="/items"} 1.7330256e+09
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# a free comment, not HELP or TYPE
	queue_depth { queue = "a \"quoted\" name\\n" , } NaN 1395066363000
temperature -Inf
"""


# written by prometheus_client 0.21.1 (generate_latest): a counter whose help and label value
# need every escape, a gauge at -Inf and one at NaN, a histogram, a summary, an info, an enum
_WRITTEN = r"""# HELP zq_requests_total Requests "served"\nby path \\ here
# TYPE zq_requests_total counter
zq_requests_total{method="GET",path="/a\"b\\c\nd"} 3.0
# HELP zq_requests_created Requests "served"\nby path \\ here
# TYPE zq_requests_created gauge
zq_requests_created{method="GET",path="/a\"b\\c\nd"} 1.796392761756885e+09
# HELP zq_temp Temperature
# TYPE zq_temp gauge
zq_temp -Inf
# HELP zq_seconds Latency
# TYPE zq_seconds histogram
zq_seconds_bucket{le="0.005",path="/x"} 0.0
zq_seconds_bucket{le="0.01",path="/x"} 0.0
zq_seconds_bucket{le="0.025",path="/x"} 0.0
zq_seconds_bucket{le="0.05",path="/x"} 0.0
zq_seconds_bucket{le="0.075",path="/x"} 0.0
zq_seconds_bucket{le="0.1",path="/x"} 0.0
zq_seconds_bucket{le="0.25",path="/x"} 0.0
zq_seconds_bucket{le="0.5",path="/x"} 1.0
zq_seconds_bucket{le="0.75",path="/x"} 1.0
zq_seconds_bucket{le="1.0",path="/x"} 1.0
zq_seconds_bucket{le="2.5",path="/x"} 1.0
zq_seconds_bucket{le="5.0",path="/x"} 1.0
zq_seconds_bucket{le="7.5",path="/x"} 1.0
zq_seconds_bucket{le="10.0",path="/x"} 1.0
zq_seconds_bucket{le="+Inf",path="/x"} 1.0
zq_seconds_count{path="/x"} 1.0
zq_seconds_sum{path="/x"} 0.3
# HELP zq_seconds_created Latency
# TYPE zq_seconds_created gauge
zq_seconds_created{path="/x"} 1.7963927617569518e+09
# HELP zq_size Size
# TYPE zq_size summary
zq_size_count 1.0
zq_size_sum 4.0
# HELP zq_size_created Size
# TYPE zq_size_created gauge
zq_size_created 1.796392761757013e+09
# HELP zq_build_info Build
# TYPE zq_build_info gauge
zq_build_info{version="1.2"} 1.0
# HELP zq_state State
# TYPE zq_state gauge
zq_state{zq_state="a"} 1.0
zq_state{zq_state="b"} 0.0
# HELP zq_nan nan
# TYPE zq_nan gauge
zq_nan NaN
"""


def test_a_valid_exposition_body_is_accepted() -> None:
    assert promtext.problem(_VALID) == ""
    assert promtext.problem(_WRITTEN) == ""
    assert promtext.problem("zq_up 1\n# EOF\n") == ""  # OpenMetrics' closing line


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ("<!DOCTYPE html>\n<html></html>\n", "line 1: not a comment and not a sample"),
        ('{"requests": 5}', "line 1: not a comment and not a sample"),
        ("# TYPE zq_hits counter\nzq_hits five\n", "line 2: the value is not a number"),
        ("zq_hits 1_000\n", "line 1: the value is not a number"),
        ("zq_hits 1 12.5\n", "line 1: the timestamp is not an integer"),
        ("zq_hits 1 12 more\n", "line 1: more after the value and timestamp"),
        ("zq-hits 1\n", "line 1: a metric name with a character it cannot have"),
        ("# TYPE zq_hits countr\nzq_hits 1\n", "line 1: TYPE is not one of"),
        ("# TYPE zq_hits counter\n# TYPE zq_hits gauge\n", "line 2: a second TYPE for zq_hits"),
        ("# HELP zq_hits a\n# HELP zq_hits b\n", "line 2: a second HELP for zq_hits"),
        ("zq_hits 1\n# TYPE zq_hits counter\n", "line 2: TYPE after the samples of zq_hits"),
        ("zq_a 1\nzq_b 1\nzq_a 2\n", "line 3: the lines of zq_a are not together"),
        ('zq_hits{path="/"} 1\nzq_hits{path="/"} 2\n', "line 2: the same sample of zq_hits"),
        ('zq_hits{path="/",path="/a"} 1\n', "line 1: label path twice"),
        ("zq_hits{path=/} 1\n", "line 1: label path without a quoted value"),
        ('zq_hits{path="/" code="200"} 1\n', "line 1: labels not separated by ','"),
        ('zq_hits{path="\\d"} 1\n', "line 1: an escape the format does not have"),
        ('zq_hits{2xx="a"} 1\n', "line 1: a label without a valid name"),
        ("# HELP zq_hits a \\t tab\nzq_hits 1\n", "line 1: an escape the format does not"),
        ('# TYPE zq_h histogram\nzq_h_bucket{path="/"} 1\n', "line 2: a histogram sample"),
        ('# TYPE zq_s summary\nzq_s{quantile="median"} 1\n', "line 2: a summary sample"),
        ("zq_up 1\n# EOF\nzq_more 1\n", "line 2: '# EOF' before the last line"),
        ("", "no metric in it"),
        ("# only a comment\n\n", "no metric in it"),
    ],
)
def test_a_body_that_breaks_the_exposition_format_is_refused_with_its_line(
    body: str, said: str
) -> None:
    assert promtext.problem(body).startswith(said)
