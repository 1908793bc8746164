"""Services found from the settings the code reads and probed for real: a PostgreSQL server
started here on a free loopback port (the machine's own PostgreSQL binaries, run as the postgres
user), probed through psycopg from the project's environment. Then a wrong password, a database
that does not exist and a stopped server, each named precisely, the environment untouched."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulletproof.cli import main
from bulletproof.code.found import EnvVar, Service
from bulletproof.code.services import services
from bulletproof.prove.results import FailureClass, ServiceCheck
from bulletproof.prove.testclass import classify
from tests.conftest import need_postgresql, verify_tests_report

pytestmark = [pytest.mark.registry]

PASSWORD = "zq-right-horse"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pg(program: str) -> str:
    return str(need_postgresql() / program)


def _as_postgres(args: list[str], *, check: bool = True, **kwargs: Any) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=check, **kwargs)


@pytest.fixture
def postgres() -> Iterator[tuple[int, Path]]:
    need_postgresql()  # skipped where it is missing, a failure under CI
    folder = Path(tempfile.mkdtemp(prefix="bp-pg-"))
    folder.chmod(0o755)
    shutil.chown(folder, "postgres", "postgres")
    data, pwfile, port = folder / "data", folder / "pw", _free_port()
    pwfile.write_text(PASSWORD + "\n")
    shutil.chown(pwfile, "postgres", "postgres")
    _as_postgres(
        [_pg("initdb"), "-D", str(data), "-U", "zquser", "--auth=scram-sha-256",
         f"--pwfile={pwfile}"],
        capture_output=True,
    )  # fmt: skip
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    pg_ctl = [_pg("pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w"]
    _as_postgres([*pg_ctl, "-o", options, "start"], capture_output=True)
    try:
        _as_postgres(
            [_pg("createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "zquser", "zqdb"],
            env={**os.environ, "PGPASSWORD": PASSWORD},
            capture_output=True,
        )
        yield port, folder
    finally:
        # the test may have stopped it already
        _as_postgres([*pg_ctl, "-m", "immediate", "stop"], check=False, capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


_TEST = """
import os
import unittest

import psycopg


class DatabaseTests(unittest.TestCase):
    def test_it_answers(self):
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            self.assertEqual(conn.execute("SELECT 2").fetchone()[0], 2)
"""


def test_postgresql_is_probed_and_each_failure_named(
    postgres: tuple[int, Path], tmp_path: Path
) -> None:
    port, folder = postgres
    root = tmp_path / "zqdbapp"
    (root / "tests").mkdir(parents=True)
    (root / "requirements.txt").write_text("psycopg[binary]>=3.1\n")
    (root / "zqdbapp.py").write_text('import os\n\nDATABASE_URL = os.environ["DATABASE_URL"]\n')
    (root / "tests" / "test_db.py").write_text(_TEST)
    url = f"postgresql://zquser:{PASSWORD}@127.0.0.1:{port}/zqdb"
    (root / ".env").write_text(f"DATABASE_URL={url}\n")
    assert main(["setup", str(root), "--python", "3.12", "-q"]) == 0
    generation = (root / ".venv").readlink()

    code, tests = verify_tests_report(root)
    assert code == 0, tests
    assert [(s["setting"], s["source"], s["ok"], s["client"]) for s in tests["services"]] == [
        ("DATABASE_URL", ".env", True, "psycopg")
    ]
    assert PASSWORD not in json.dumps(tests["services"])  # the report never shows it
    assert tests["counts"]["passed"] == 1

    wrong = {
        url.replace(PASSWORD, "zq-wrong"): "authentication failed for user zquser",
        url.replace("/zqdb", "/zqnodb"): "database zqnodb does not exist",
    }
    for setting, cause in wrong.items():
        (root / ".env").write_text(f"DATABASE_URL={setting}\n")
        code, tests = verify_tests_report(root)
        assert code == 1
        assert tests["services"][0]["cause"].startswith(cause), tests["services"]
        assert "DATABASE_URL (.env)" in tests["services"][0]["hint"]
        # the test fails with the server's own words, which no rule names: it failed through
        # the service whose probe failed, so it is the environment's, with the probe's cause
        [case] = tests["cases"]
        assert case["class"] == "environment", case
        assert case["needs"] == f"service 127.0.0.1:{port} ({tests['services'][0]['cause']})"

    (root / ".env").write_text(f"DATABASE_URL={url}\n")
    _as_postgres(
        [_pg("pg_ctl"), "-D", str(folder / "data"), "-m", "fast", "-w", "stop"],
        capture_output=True,
    )
    code, tests = verify_tests_report(root)
    assert code == 1
    assert (
        tests["services"][0]["cause"] == f"connection refused: nothing listens on 127.0.0.1:{port}"
    )
    # the test that needed it is the environment's failure, and the environment is as it was
    assert [c["class"] for c in tests["cases"]] == ["environment"]
    assert (root / ".venv").readlink() == generation


def test_settings_that_name_services_whatever_they_are_called() -> None:
    def var(name: str, default: str = "") -> EnvVar:
        return EnvVar(name, not default, default, "", False, ("app.py:1",), "os.environ")

    found = services(
        [
            var("ZQ_STORE", "redis://127.0.0.1/0"),
            var("ZQ_PRIMARY"),
            var("ZQ_LOCAL_FILE", "sqlite:///x.db"),
            var("ZQ_REMOTE_API", "https://api.example.invalid/v1"),
            var("ZQ_SIDECAR", "http://127.0.0.1:8125"),
        ],
        {"ZQ_PRIMARY": "postgresql+psycopg://u:p@db.internal/app"},
        environ={},
    )
    assert [(s.setting, s.source, s.scheme, s.host, s.port) for s in found] == [
        ("ZQ_STORE", "the code's default", "redis", "127.0.0.1", 6379),
        ("ZQ_PRIMARY", ".env", "postgresql", "db.internal", 5432),
        ("ZQ_SIDECAR", "the code's default", "http", "127.0.0.1", 8125),
    ]
    assert found[1].redacted == "postgresql+psycopg://u:***@db.internal/app"


def test_a_failure_that_came_through_a_failed_service_is_the_environments() -> None:
    """Words no rule names: the link is the failed probe's client or address in the report."""
    service = Service("ZQ_STORE_URL", ".env", "postgresql://u:p@127.0.0.1:6543/d", "postgresql",
                      "127.0.0.1", 6543)  # fmt: skip
    failed = [ServiceCheck(service, False, "psycopg", "authentication failed for user u")]
    wrapped = (
        "E   sqlalchemy.exc.OperationalError: (psycopg.OperationalError) zq: handshake declined\n"
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)"
    )
    by_address = 'E   zqclient.ZqError: the peer "127.0.0.1", port 6543 said no'
    elsewhere = 'E   zqclient.ZqError: the peer "127.0.0.1", port 7000 said no'
    needs = "service 127.0.0.1:6543 (authentication failed for user u)"
    assert classify(wrapped, (), (), failed) == (FailureClass.ENVIRONMENT, needs)
    assert classify(by_address, (), (), failed) == (FailureClass.ENVIRONMENT, needs)
    assert classify(elsewhere, (), (), failed) == (FailureClass.CODE, "")
    assert classify(wrapped, (), ()) == (FailureClass.CODE, "")  # no probe failed: the code's


def test_a_django_settings_database_is_probed_for_real(
    postgres: tuple[int, Path], tmp_path: Path
) -> None:
    """DATABASES in the settings module, its password read from a variable (.env): probed
    through psycopg as Django would connect; a wrong password names the settings' place."""
    port, _ = postgres
    root = tmp_path / "zqsite"
    (root / "zqsite").mkdir(parents=True)
    (root / "requirements.txt").write_text("psycopg[binary]>=3.1\n")
    (root / "zqsite" / "__init__.py").write_text("")
    (root / "zqsite" / "settings.py").write_text(
        "import os\n\n"
        "DATABASES = {\n"
        "    'default': {\n"
        "        'ENGINE': 'django.db.backends.postgresql',\n"
        "        'NAME': 'zqdb',\n"
        "        'USER': 'zquser',\n"
        "        'PASSWORD': os.environ.get('ZQ_DB_SECRET', ''),\n"
        "        'HOST': '127.0.0.1',\n"
        f"        'PORT': '{port}',\n"
        "    }\n"
        "}\n"
    )
    (root / ".env").write_text(f"ZQ_DB_SECRET={PASSWORD}\n")
    assert main(["setup", str(root), "--python", "3.12", "-q"]) == 0
    code, tests = verify_tests_report(root)
    assert code == 0, tests
    assert [(s["setting"], s["source"], s["ok"], s["client"]) for s in tests["services"]] == [
        ("DATABASES['default']", "zqsite/settings.py:3", True, "psycopg")
    ]
    (root / ".env").write_text("ZQ_DB_SECRET=zq-wrong\n")
    code, tests = verify_tests_report(root)
    assert code == 1
    [service] = tests["services"]
    assert service["cause"] == f"authentication failed for user zquser at 127.0.0.1:{port}"
    assert service["hint"] == (
        "check the user and password in DATABASES['default'] (zqsite/settings.py:3)"
    )
    assert "zq-wrong" not in json.dumps(service)
