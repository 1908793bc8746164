"""A pin on a release its authors withdrew (yanked on the index) is said by setup as well as by
doctor: the lock's record of it reaches setup's prediction. A real local index over HTTP, with
the release marked yanked in its simple page, and real uv."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulletproof.cli import main
from tests.fixtures.wheels import make_wheel


@pytest.fixture
def yanking_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    root = tmp_path / "index"
    wheel = make_wheel(root / "files", "zqwithdrawn", "1.0", {"zqwithdrawn/__init__.py": ""})
    page = root / "simple" / "zqwithdrawn"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        "<!DOCTYPE html><html><body>"
        f'<a href="../../files/{wheel.name}" data-yanked="a broken build">{wheel.name}</a>'
        "</body></html>\n"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("UV_INDEX_URL", f"http://127.0.0.1:{server.server_address[1]}/simple")
    monkeypatch.delenv("UV_FIND_LINKS", raising=False)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    try:
        yield "zqwithdrawn==1.0"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.usefixtures("python312")
def test_setup_says_a_pinned_release_is_yanked(yanking_index: str, tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text(f"{yanking_index}\n")
    report = tmp_path / "r.json"
    assert main(["setup", str(project), "--python", "3.12", "--json", str(report)]) == 0
    findings = json.loads(report.read_text())["diagnosis"]["findings"]
    assert [f["id"] for f in findings if f["id"].startswith("yanked:")] == [
        f"yanked:{yanking_index}"
    ]
