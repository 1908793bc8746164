"""The project's own application, found in its code, started in its environment on a free
loopback port and asked for its health, one GET route and its metrics; then one that does not
start. A real Flask app served by the standard library's wsgiref."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bulletproof.cli import main
from bulletproof.code.apps import find_app

pytestmark = [pytest.mark.registry]

_APP = """
import os

from flask import Flask

app = Flask(__name__)
NAME = os.environ["ZQSHOP_NAME"]


@app.get("/healthz")
def health():
    return {"ok": True, "name": NAME}


@app.route("/items", methods=["GET"])
def items():
    return {"items": []}


@app.get("/items/<int:item>")
def item(item):
    return {"item": item}


@app.get("/metrics")
def metrics():
    text = "# TYPE zqshop_requests counter\\nzqshop_requests 1\\n"
    return text, 200, {"Content-Type": "text/plain"}
"""


def _report(root: Path) -> tuple[int, dict[str, Any]]:
    out = root.parent / "r.json"
    code = main(["verify", str(root), "--tests", "-q", "--json", str(out)])
    tests: dict[str, Any] = json.loads(out.read_text())["tests"]
    return code, tests


def test_the_app_is_started_and_answers_then_one_that_does_not_start(tmp_path: Path) -> None:
    root = tmp_path / "zqshop"
    (root / "zqshop").mkdir(parents=True)
    (root / "requirements.txt").write_text("flask>=3\n")
    (root / "zqshop" / "__init__.py").write_text("")
    (root / "zqshop" / "web.py").write_text(_APP)
    (root / ".env").write_text("ZQSHOP_NAME=corner\n")
    app = find_app(root, (root,))
    assert app is not None
    assert (app.module, app.attribute, app.interface, app.routes) == (
        "zqshop.web",
        "app",
        "wsgi",
        ("/healthz", "/items", "/metrics"),
    )
    # its module reads ZQSHOP_NAME when imported, which the import check does not set: usable
    assert main(["setup", str(root), "--python", "3.12", "-q"]) == 4

    code, tests = _report(root)
    assert code == 4, tests  # the app answers with .env; the import check is still what it was
    started = tests["app"]
    assert (started["ok"], started["server"], started["metrics"]) == (True, "wsgiref", True)
    assert [(a["path"], a["status"]) for a in started["answers"]] == [
        ("/healthz", 200),
        ("/items", 200),
    ]

    (root / ".env").write_text("")  # the app reads ZQSHOP_NAME at import: it cannot start
    code, tests = _report(root)
    assert code == 1
    assert "did not start" in tests["app"]["problem"]
    assert "ZQSHOP_NAME" in tests["app"]["problem"]
    assert tests["missing_variables"] == ["ZQSHOP_NAME"]


def test_a_script_that_works_at_import_is_not_started(tmp_path: Path) -> None:
    (tmp_path / "zqjob.py").write_text(
        "from flask import Flask\n\napp = Flask(__name__)\nwith app.app_context():\n    pass\n"
    )
    assert find_app(tmp_path, (tmp_path,)) is None
    (tmp_path / "zqweb.py").write_text("from zqfactory import make\n\napp = make()\n")
    found = find_app(tmp_path, (tmp_path,))  # the conventional name, Flask imported beside it
    assert found is not None
    assert (found.module, found.interface) == ("zqweb", "wsgi")
