"""Acceptance on a fresh Debian 12 system: Debian's own PostgreSQL package, installed and started
inside it on a loopback port; a project whose DATABASE_URL (in .env) points at it is set up by
bulletproof, and `verify --tests` probes the server through psycopg and runs the project's test
that uses it. Then a wrong password and a stopped server, each named, exit 1, the environment as
it was. Needs root, debootstrap and the package registries; `make test` runs it."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.fresh.system import FreshSystem, fresh_system

pytestmark = [pytest.mark.fresh, pytest.mark.registry, pytest.mark.slow]

PASSWORD = "zq-fresh-horse"
_TEST = """
import os
import unittest

import psycopg


class DatabaseTests(unittest.TestCase):
    def test_it_answers(self):
        with psycopg.connect(os.environ["DATABASE_URL"]) as conn:
            self.assertEqual(conn.execute("SELECT 3").fetchone()[0], 3)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _sh(system: FreshSystem, script: str) -> None:
    system.must(["sh", "-ec", script], timeout=900)


def _verify(system: FreshSystem, inside: str) -> tuple[int, dict[str, Any]]:
    done = system.run(
        ["/opt/bulletproof/bin/bulletproof", "verify", inside, "--tests", "--json", "/tmp/v.json"],
        timeout=900,
    )
    tests: dict[str, Any] = json.loads(system.path("/tmp/v.json").read_text())["tests"]
    return done.returncode, tests


def test_debians_postgresql_is_probed_for_real(bulletproof_wheel: Path, tmp_path: Path) -> None:
    port = _free_port()
    with fresh_system("bookworm", tmp_path, bulletproof_wheel) as system:
        system.root.chmod(0o755)  # the server runs as the postgres user, who must see "/"
        pg = "$(ls -d /usr/lib/postgresql/*/bin | tail -1)"
        ctl = f"runuser -u postgres -- {pg}/pg_ctl -D /tmp/pg/data -l /tmp/pg/log -w"
        _sh(
            system,
            "apt-get update -q && apt-get install -y -q --no-install-recommends postgresql\n"
            "mkdir -p /tmp/pg && chown postgres /tmp/pg\n"
            f"echo {PASSWORD} > /tmp/pg/pw && chown postgres /tmp/pg/pw\n"
            f"runuser -u postgres -- {pg}/initdb -D /tmp/pg/data -U zquser "
            "--auth=scram-sha-256 --pwfile=/tmp/pg/pw >/dev/null\n"
            f"{ctl} -o '-p {port} -k /tmp/pg -c listen_addresses=127.0.0.1 "
            "-c dynamic_shared_memory_type=mmap' start >/dev/null\n"
            f"PGPASSWORD={PASSWORD} runuser -u postgres -- {pg}/createdb -h 127.0.0.1 "
            f"-p {port} -U zquser zqdb\n",
        )
        try:
            inside = "/work/zqdbapp"
            root = system.path(inside)
            (root / "tests").mkdir(parents=True)
            (root / "requirements.txt").write_text("psycopg[binary]>=3.1\n")
            (root / "zqdbapp.py").write_text("import os\n\nURL = os.environ.get('DATABASE_URL')\n")
            (root / "tests" / "test_db.py").write_text(_TEST)
            url = f"postgresql://zquser:{PASSWORD}@127.0.0.1:{port}/zqdb"
            (root / ".env").write_text(f"DATABASE_URL={url}\n")
            system.must(["/opt/bulletproof/bin/bulletproof", "setup", inside, "--yes"])
            generation = (root / ".venv").readlink()

            code, tests = _verify(system, inside)
            assert code == 0, tests
            assert [(s["ok"], s["client"]) for s in tests["services"]] == [(True, "psycopg")]
            assert tests["counts"]["passed"] == 1

            (root / ".env").write_text(f"DATABASE_URL={url.replace(PASSWORD, 'zq-wrong')}\n")
            code, tests = _verify(system, inside)
            assert code == 1
            assert tests["services"][0]["cause"].startswith("authentication failed for user zquser")

            (root / ".env").write_text(f"DATABASE_URL={url}\n")
            _sh(system, f"{ctl} -m fast stop >/dev/null")
            code, tests = _verify(system, inside)
            assert code == 1
            cause = tests["services"][0]["cause"]
            assert cause == f"connection refused: nothing listens on 127.0.0.1:{port}"
            assert [c["class"] for c in tests["cases"]] == ["environment"]
            assert (root / ".venv").readlink() == generation
        finally:  # nothing may run inside when the system is taken down
            system.run(["sh", "-c", f"{ctl} -m immediate stop"], timeout=60)


_REDIS_TEST = """
import os
import unittest

import redis


class CacheTests(unittest.TestCase):
    def test_it_answers(self):
        self.assertTrue(redis.Redis.from_url(os.environ["CACHE_URL"]).ping())
"""


def test_debians_redis_is_probed_for_real(bulletproof_wheel: Path, tmp_path: Path) -> None:
    port = _free_port()
    with fresh_system("bookworm", tmp_path, bulletproof_wheel) as system:
        _sh(
            system,
            "apt-get update -q && apt-get install -y -q --no-install-recommends redis-server\n"
            f"redis-server --port {port} --bind 127.0.0.1 --requirepass {PASSWORD} "
            "--daemonize yes --save '' --appendonly no\n",
        )
        try:
            inside = "/work/zqcache"
            root = system.path(inside)
            (root / "tests").mkdir(parents=True)
            (root / "requirements.txt").write_text("redis>=5\n")
            # a setting named as nothing in bulletproof names it: found by its value
            (root / "zqcache.py").write_text("import os\n\nURL = os.getenv('CACHE_URL')\n")
            (root / "tests" / "test_cache.py").write_text(_REDIS_TEST)
            url = f"redis://:{PASSWORD}@127.0.0.1:{port}/0"
            (root / ".env").write_text(f"CACHE_URL={url}\n")
            done = system.run(["/opt/bulletproof/bin/bulletproof", "setup", inside, "--yes"])
            assert done.returncode == 4, done.stdout  # usable: redis.ocsp is an optional part

            code, tests = _verify(system, inside)
            assert (code, tests["ok"]) == (4, True), tests
            assert [(s["setting"], s["ok"], s["client"]) for s in tests["services"]] == [
                ("CACHE_URL", True, "redis")
            ]
            (root / ".env").write_text(f"CACHE_URL={url.replace(PASSWORD, 'zq-wrong')}\n")
            code, tests = _verify(system, inside)
            assert code == 1
            assert tests["services"][0]["cause"].startswith("authentication failed"), tests
        finally:
            system.run(["sh", "-c", f"redis-cli -p {port} -a {PASSWORD} shutdown nosave"])
