"""No secret the run has seen leaves the process: distinct random secrets are planted in every
source (the environment, a URL's password, the project's .env, an index credential, a token in a
VCS URL, a dependency's import error, a test's failure message, a build log) and every output
and every file written is searched for them."""

from __future__ import annotations

import base64
import functools
import secrets
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest

from bulletproof.cli import main
from bulletproof.tomlcompat import tomllib
from tests.conftest import only_from
from tests.fixtures.wheels import make_wheel, write_sdist

_LEAKY = """
import os
from urllib.parse import urlsplit

url = os.environ.get("DATABASE_URL", "")
raise RuntimeError(
    "leaky cannot start: DATABASE_URL=" + url + " password=" + str(urlsplit(url).password)
    + " token=" + os.environ.get("ZQ_API_TOKEN", "")
    + " index=" + os.environ.get("UV_FIND_LINKS", "")
)
"""

_FAILING_BACKEND = """
import os, sys
from urllib.parse import urlsplit

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    print("with", os.environ.get("DATABASE_URL"), urlsplit(os.environ["DATABASE_URL"]).password)
    sys.stderr.write("error: could not download https://builder:{build}@127.0.0.1:9/blob\\n")
    raise SystemExit(1)
"""

_TESTS = """
import os
import unittest
from urllib.parse import urlsplit

class Leaks(unittest.TestCase):
    def test_signing(self):
        self.fail("signing secret is " + os.environ.get("ZQ_SIGNING_SECRET", "unset"))

    def test_database(self):
        url = os.environ["ZQ_DB_URL"]
        self.fail("database " + url + " password " + url.split(":")[2].split("@")[0])

    def test_passes(self):
        self.assertTrue(True)
"""


def _secret(tag: str) -> str:
    return f"zq{tag}{secrets.token_hex(8)}"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str, str]]:
    """A find-links folder served on loopback that answers only with its credentials:
    (folder, URL with the credentials, the password)."""
    house = tmp_path / "house"
    house.mkdir()
    password = _secret("index")
    expected = "Basic " + base64.b64encode(f"zq:{password}".encode()).decode()

    class Handler(SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="zq"')
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=house))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield house, f"http://zq:{password}@127.0.0.1:{server.server_port}/", password
    finally:
        server.shutdown()
        server.server_close()


def _leaks(root: Path, texts: list[str], planted: dict[str, str], inputs: set[Path]) -> list[str]:
    """Where each secret (raw or percent-encoded) occurs: in the texts, or in any file under
    root (the projects, their generations and the reports) but the inputs the test wrote."""
    found = []
    forms = {(what, f.encode()) for what, s in planted.items() for f in (s, quote(s, safe=""))}
    for i, text in enumerate(texts):
        found += [f"{what} in output {i}" for what, f in forms if f.decode() in text]
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink() and path not in inputs:
            data = path.read_bytes()
            found += [f"{what} in {path.relative_to(root)}" for what, f in forms if f in data]
    return found


def test_no_secret_leaves_the_process(
    tmp_path: Path,
    served: tuple[Path, str, str],
    python312: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    house, find_links, index_password = served
    planted = {
        "env token": _secret("token"),
        "URL password in env": _secret("dbpw"),
        ".env secret": _secret("signing"),
        ".env URL password": _secret("hash") + "#x",  # unencoded '#': the service is unprobed
        "index password": index_password,
        "VCS token": _secret("vcs"),
        "build log password": _secret("build"),
        "code default password": _secret("default"),
    }
    make_wheel(house, "good", "1.0", {"good/__init__.py": "VERSION = '1.0'\n"})
    make_wheel(house, "leaky", "1.0", {"leaky/__init__.py": _LEAKY})
    write_sdist(
        house,
        "zqbuild",
        "1.0",
        {
            "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\n'
            'backend-path = ["."]\n',
            "backend.py": _FAILING_BACKEND.format(build=planted["build log password"]),
        },
    )
    only_from(monkeypatch, find_links)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
    monkeypatch.setenv("ZQ_API_TOKEN", planted["env token"])
    db_url = f"postgresql://zq:{planted['URL password in env']}@127.0.0.1:9/zq"
    monkeypatch.setenv("DATABASE_URL", db_url)
    work = tmp_path / "work"
    outputs: list[str] = []
    inputs: set[Path] = set()

    def write(path: Path, text: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        inputs.add(path)

    def run(*argv: str) -> int:
        code = main([*argv, "--python", "3.12"] if argv[0] in ("setup",) else list(argv))
        captured = capsys.readouterr()
        outputs.extend((captured.out, captured.err))
        return code

    # a dependency whose import error carries the environment's secrets: setup fails, and its
    # report, attempts, troubleshooting page and env template are written
    leaky = work / "leaky"

    write(leaky / "requirements.txt", "leaky==1.0\n")
    default = f"postgresql://zq:{planted['code default password']}@127.0.0.1:9/zq"
    write(
        leaky / "app.py", f"import os\n\nimport leaky\n\nDSN = os.getenv('ZQ_DSN', {default!r})\n"
    )
    report = work / "leaky.json"
    # delivered incomplete: its one module does not import
    assert run("setup", str(leaky), "--no-system", "-v", "--json", str(report)) == 6
    assert run("generate", "troubleshooting", str(leaky)) == 0
    assert run("generate", "env", str(leaky)) == 0
    # the error is there, its secrets not: each went through the redactor, not around it
    said_by_leaky = report.read_text()
    assert "leaky cannot start: DATABASE_URL=postgresql://zq:***@127.0.0.1:9/zq" in said_by_leaky
    assert "password=*** token=*** index=http://zq:***@127.0.0.1:" in said_by_leaky

    # a project whose tests fail with the .env's secrets in their messages, installed from the
    # credentialed index through a lock that has no credentials
    tested = work / "tested"

    write(tested / "requirements.txt", "good==1.0\n")
    write(tested / "zqb.py", "import os\n\nDB = os.environ.get('ZQ_DB_URL')\n")
    write(tested / "tests" / "test_zqb.py", _TESTS)
    hashed = planted[".env URL password"]
    write(
        tested / ".env",
        f"ZQ_SIGNING_SECRET={planted['.env secret']}\nZQ_DB_URL=postgresql://zq:{hashed}@127.0.0.1:9/zq\n",
    )
    assert run("setup", str(tested), "--no-system") == 0
    lock = (tested / "pylock.toml").read_text()
    assert "zq:" not in lock and "127.0.0.1" in lock  # the index URL, without its credentials
    tests_report = work / "tests.json"
    assert run("verify", str(tested), "--tests", "--json", str(tests_report)) == 1
    data = tomllib.loads(lock)
    assert [p["name"] for p in data["packages"]] == ["good"]
    said = outputs[-1] + outputs[-2]
    assert "the password in ZQ_DB_URL (.env) contains an unencoded '#'" in said
    assert "signing secret is ***" in tests_report.read_text()

    # a token in a VCS URL (the host does not answer) and a build whose log prints credentials
    vcs = work / "vcs"

    token = planted["VCS token"]
    write(vcs / "requirements.txt", f"zqvcs @ git+https://{token}@127.0.0.1:9/zq/repo.git\n")
    assert run("setup", str(vcs), "--no-system", "-v") != 0
    # it got as far as fetching: the URL is named, without its token
    said = " ".join((outputs[-1] + outputs[-2]).split())
    assert "could not fetch zqvcs from git+https://127.0.0.1:9/zq/repo.git" in said, said
    build = work / "build"

    write(build / "requirements.txt", "zqbuild==1.0\n")
    build_report = work / "build.json"
    assert run("setup", str(build), "--no-system", "-v", "--json", str(build_report)) != 0
    assert "download https://builder:***@127.0.0.1:9/blob" in build_report.read_text()

    assert _leaks(work, outputs, planted, inputs) == []
