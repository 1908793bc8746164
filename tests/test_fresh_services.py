"""Acceptance on a fresh Debian 12 system: Debian's own PostgreSQL and Redis packages, installed
and started inside it on loopback ports. The example project, its DATABASE_URL (in .env) naming
the PostgreSQL server, is set up by bulletproof, and `verify --tests` probes the server through
psycopg, runs the example's tests on it and starts its app. Then a wrong password, a stopped
server and a missing variable, each named, exit 1, the environment as it was. Needs root,
debootstrap and the package registries; `make test` runs it."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.projects import BUILT
from tests.fresh.system import REPO, FreshSystem, fresh_system

pytestmark = [pytest.mark.fresh, pytest.mark.registry, pytest.mark.slow]

PASSWORD = "zq-fresh-horse"
SIGNING_KEY = "zq-fresh-signing-key-of-some-length"
EXAMPLE = REPO / "examples" / "code-engine"


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


def _environment_failures(tests: dict[str, Any]) -> set[str]:
    return {c["needs"] for c in tests["cases"] if c["class"] == "environment"}


def test_the_example_on_debians_postgresql(bulletproof_wheel: Path, tmp_path: Path) -> None:
    """The plan's project with DATABASE_URL naming Debian's PostgreSQL: its tests pass on that
    server, the probe passes, the app answers; then a wrong password, a stopped server and a
    missing variable, each named, exit 1, and the environment as it was."""
    port = _free_port()
    with fresh_system("bookworm", tmp_path, bulletproof_wheel) as system:
        system.root.chmod(0o755)  # the server runs as the postgres user, who must see "/"
        pg = "$(ls -d /usr/lib/postgresql/*/bin | tail -1)"
        ctl = f"runuser -u postgres -- {pg}/pg_ctl -D /tmp/pg/data -l /tmp/pg/log -w"
        # every DDL statement is logged: the tests' tables are seen made on this server
        start = (
            f"{ctl} -o '-p {port} -k /tmp/pg -c listen_addresses=127.0.0.1 "
            "-c log_statement=ddl -c dynamic_shared_memory_type=mmap' start >/dev/null"
        )
        _sh(
            system,
            "apt-get update -q && apt-get install -y -q --no-install-recommends postgresql\n"
            "mkdir -p /tmp/pg && chown postgres /tmp/pg\n"
            f"echo {PASSWORD} > /tmp/pg/pw && chown postgres /tmp/pg/pw\n"
            f"runuser -u postgres -- {pg}/initdb -D /tmp/pg/data -U zquser "
            "--auth=scram-sha-256 --pwfile=/tmp/pg/pw >/dev/null\n"
            f"{start}\n"
            f"PGPASSWORD={PASSWORD} runuser -u postgres -- {pg}/createdb -h 127.0.0.1 "
            f"-p {port} -U zquser zqdb\n",
        )
        try:
            inside = "/work/code-engine"
            root = system.path(inside)
            shutil.copytree(
                EXAMPLE,
                root,
                ignore=shutil.ignore_patterns(".venv*", ".bulletproof", "*.db", *BUILT),
            )
            url = f"postgresql+psycopg://zquser:{PASSWORD}@127.0.0.1:{port}/zqdb"
            settings = f"DATABASE_URL={url}\nJWT_SECRET={SIGNING_KEY}\n"
            (root / ".env").write_text(settings)
            # Debian 12's interpreter (3.11) instead of the example's 3.12, which it does not have
            done = system.run(
                ["/opt/bulletproof/bin/bulletproof", "setup", inside, "--yes", "--python", "3.11"]
            )
            # verified: what fails is only submodules the example's code does not import
            assert done.returncode == 0, done.stdout + done.stderr
            generation = (root / ".venv").readlink()

            code, tests = _verify(system, inside)
            assert (code, tests["ok"]) == (0, True), tests
            assert [(s["setting"], s["ok"], s["client"]) for s in tests["services"]] == [
                ("DATABASE_URL", True, "psycopg")
            ]
            assert tests["counts"]["passed"] == 11  # the app's 6, the Rust core's 5, tests["cases"]
            assert "CREATE TABLE deployments" in system.path("/tmp/pg/log").read_text()
            app = tests["app"]
            assert (app["ok"], app["server"], app["metrics"]) == (True, "uvicorn", True), app
            assert ("/health", 200) in [(a["path"], a["status"]) for a in app["answers"]]
            assert ("/deployments", 200) in [(a["path"], a["status"]) for a in app["answers"]]

            wrong = url.replace(PASSWORD, "zq-wrong")
            (root / ".env").write_text(f"DATABASE_URL={wrong}\nJWT_SECRET={SIGNING_KEY}\n")
            code, tests = _verify(system, inside)
            assert code == 1
            [service] = tests["services"]
            assert service["cause"] == f"authentication failed for user zquser at 127.0.0.1:{port}"
            assert "DATABASE_URL (.env)" in service["hint"]
            assert PASSWORD not in json.dumps(tests)
            # the tests that use the database failed through it: the environment's, not the code's
            failures = _environment_failures(tests)
            assert failures == {f"service 127.0.0.1:{port} ({service['cause']})"}, tests["cases"]

            (root / ".env").write_text(settings)
            _sh(system, f"{ctl} -m fast stop >/dev/null")
            code, tests = _verify(system, inside)
            assert code == 1
            refused = f"connection refused: nothing listens on 127.0.0.1:{port}"
            assert tests["services"][0]["cause"] == refused
            assert _environment_failures(tests) == {f"service 127.0.0.1:{port} ({refused})"}
            assert tests["app"]["ok"]  # its health route needs no database

            _sh(system, start)
            (root / ".env").write_text(f"DATABASE_URL={url}\n")
            code, tests = _verify(system, inside)
            assert code == 1
            assert tests["missing_variables"] == ["JWT_SECRET"]
            assert _environment_failures(tests) == {"variable JWT_SECRET"}
            assert tests["services"][0]["ok"]
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
            # verified: redis.ocsp, an optional part the project does not import, is listed
            assert done.returncode == 0, done.stdout
            assert "redis.ocsp" in done.stdout

            code, tests = _verify(system, inside)
            assert (code, tests["ok"]) == (0, True), tests
            assert [(s["setting"], s["ok"], s["client"]) for s in tests["services"]] == [
                ("CACHE_URL", True, "redis")
            ]
            (root / ".env").write_text(f"CACHE_URL={url.replace(PASSWORD, 'zq-wrong')}\n")
            code, tests = _verify(system, inside)
            assert code == 1
            assert tests["services"][0]["cause"].startswith("authentication failed"), tests
        finally:
            system.run(["sh", "-c", f"redis-cli -p {port} -a {PASSWORD} shutdown nosave"])


_MYSQL_TEST = """
import os
import unittest

import pymysql


class ShopTests(unittest.TestCase):
    def test_it_answers(self):
        c = pymysql.connect(host="127.0.0.1", port=int(os.environ["ZQ_SHOP_PORT"]), user="zquser",
                            password=os.environ["ZQ_SHOP_DB_SECRET"], database="zqdb")
        with c.cursor() as cursor:
            cursor.execute("SELECT 4")
            self.assertEqual(cursor.fetchone()[0], 4)
        c.close()
"""


def test_debians_mariadb_named_by_django_settings(bulletproof_wheel: Path, tmp_path: Path) -> None:
    """A Django settings module's MySQL database (its password and name from variables in .env),
    Debian's MariaDB server, probed through PyMySQL; then a wrong password and a database that
    does not exist, each named with the settings' place."""
    port = _free_port()
    sock = "--socket=/tmp/my/sock"
    with fresh_system("bookworm", tmp_path, bulletproof_wheel) as system:
        system.root.chmod(0o755)  # the server runs as the mysql user, who must see "/" and /tmp
        system.path("/tmp").chmod(0o1777)
        _sh(
            system,
            # the package's own service is not started inside: this test starts its own server
            "printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d\n"
            "chmod +x /usr/sbin/policy-rc.d\n"
            "apt-get update -q && apt-get install -y -q --no-install-recommends mariadb-server\n"
            "mkdir -p /tmp/my && chown mysql /tmp/my\n"
            # no /etc/hosts inside: accounts by address, names never looked up
            "mariadb-install-db --user=mysql --datadir=/tmp/my/data --skip-name-resolve --force "
            ">/tmp/my/install.log 2>&1 || { cat /tmp/my/install.log; exit 1; }\n"
            f"mariadbd --user=mysql --datadir=/tmp/my/data {sock} --port={port} "
            "--bind-address=127.0.0.1 --skip-name-resolve --skip-log-bin --pid-file=/tmp/my/pid "
            ">/tmp/my/log 2>&1 &\n"
            f"for i in $(seq 60); do mariadb-admin {sock} ping >/dev/null 2>&1 && break; sleep 1; "
            "done\n"
            "cat /tmp/my/log\n"
            f"mariadb {sock} -e \"CREATE DATABASE zqdb; CREATE USER 'zquser'@'127.0.0.1' "
            f"IDENTIFIED BY '{PASSWORD}'; GRANT ALL ON zqdb.* TO 'zquser'@'127.0.0.1';\"\n",
        )
        try:
            inside = "/work/zqshop"
            root = system.path(inside)
            (root / "zqshop").mkdir(parents=True)
            (root / "tests").mkdir()
            (root / "requirements.txt").write_text("pymysql>=1\n")
            (root / "zqshop" / "__init__.py").write_text("")
            (root / "zqshop" / "settings.py").write_text(
                "import os\n\n"
                "DATABASES = {\n"
                "    'default': {\n"
                "        'ENGINE': 'django.db.backends.mysql',\n"
                "        'NAME': os.environ.get('ZQ_SHOP_DB', 'zqdb'),\n"
                "        'USER': 'zquser',\n"
                "        'PASSWORD': os.environ.get('ZQ_SHOP_DB_SECRET', ''),\n"
                "        'HOST': '127.0.0.1',\n"
                "        'PORT': os.environ.get('ZQ_SHOP_PORT', '3306'),\n"
                "    }\n"
                "}\n"
            )
            (root / "tests" / "test_shop.py").write_text(_MYSQL_TEST)
            settings = f"ZQ_SHOP_PORT={port}\nZQ_SHOP_DB_SECRET={PASSWORD}\n"
            (root / ".env").write_text(settings)
            system.must(["/opt/bulletproof/bin/bulletproof", "setup", inside, "--yes"])

            code, tests = _verify(system, inside)
            assert (code, tests["ok"]) == (0, True), tests
            assert [
                (s["setting"], s["source"], s["ok"], s["client"]) for s in tests["services"]
            ] == [("DATABASES['default']", "zqshop/settings.py:3", True, "pymysql")]
            assert tests["counts"]["passed"] == 1

            (root / ".env").write_text(f"ZQ_SHOP_PORT={port}\nZQ_SHOP_DB_SECRET=zq-wrong\n")
            code, tests = _verify(system, inside)
            assert code == 1
            [service] = tests["services"]
            assert service["cause"] == f"authentication failed for user zquser at 127.0.0.1:{port}"
            assert service["hint"] == (
                "check the user and password in DATABASES['default'] (zqshop/settings.py:3)"
            )
            assert _environment_failures(tests) == {
                f"service 127.0.0.1:{port} ({service['cause']})"
            }, tests["cases"]

            (root / ".env").write_text(settings + "ZQ_SHOP_DB=zqnodb\n")
            code, tests = _verify(system, inside)
            assert code == 1
            # the server refuses a database the user has no grant on, there or not (1044)
            assert tests["services"][0]["cause"] == (
                f"user zquser may not use database zqnodb at 127.0.0.1:{port} "
                "(or it does not exist)"
            )
        finally:
            system.run(["sh", "-c", f"mariadb-admin {sock} shutdown"], timeout=120)
