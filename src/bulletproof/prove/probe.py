"""Probe each service the configuration names, for real and without side effects, through the
client library the project's own environment has: PostgreSQL ``SELECT 1`` (psycopg, else
psycopg2), MySQL/MariaDB ``SELECT 1`` (PyMySQL, else mysqlclient), Redis ``PING`` (redis), MongoDB
``ping`` (pymongo); any other service, or one whose client is not installed, a TCP connection to
its port. Run by the environment's interpreter, with a timeout; nothing is written.

A failure says what it is — connection refused, host not found, authentication failed for the
URL's user, database does not exist, TLS, timed out — from the exception's type first and, for a
server's answer, the server's own words."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

from bulletproof import proc
from bulletproof.code.found import Service
from bulletproof.errors import ToolError
from bulletproof.prove.results import ServiceCheck

TIMEOUT = 5.0  # per connection attempt

_PROBE = r"""
import json, socket, sys
s = json.loads(sys.argv[1])
T = float(sys.argv[2])

def done(ok, client, kind="", message=""):
    print(json.dumps({"ok": ok, "client": client, "kind": kind, "message": message[:500]}))
    sys.exit(0)

url = s["url"].split("://", 1)
url = s["scheme"] + "://" + url[1]  # "postgresql+psycopg://" (SQLAlchemy's) -> "postgresql://"
client = "tcp"
try:
    if s["scheme"] in ("postgres", "postgresql"):
        try:
            import psycopg
        except ImportError:
            psycopg = None
        if psycopg is not None:
            client = "psycopg"
            with psycopg.connect(url, connect_timeout=int(T), autocommit=True) as c:
                c.execute("SELECT 1").fetchone()
            done(True, client)
        try:
            import psycopg2
        except ImportError:
            psycopg2 = None
        if psycopg2 is not None:
            client = "psycopg2"
            c = psycopg2.connect(url, connect_timeout=int(T))
            c.autocommit = True
            c.cursor().execute("SELECT 1")
            c.close()
            done(True, client)
    if s["scheme"] in ("redis", "rediss"):
        try:
            import redis
        except ImportError:
            redis = None
        if redis is not None:
            client = "redis"
            redis.Redis.from_url(url, socket_timeout=T, socket_connect_timeout=T).ping()
            done(True, client)
    if s["scheme"] in ("mysql", "mariadb"):
        from urllib.parse import unquote, urlsplit
        u = urlsplit(url)
        given = dict(host=u.hostname, port=u.port or 3306, user=unquote(u.username or ""),
                     password=unquote(u.password or ""), connect_timeout=int(T))
        database = unquote(u.path.lstrip("/"))
        try:
            import pymysql
        except ImportError:
            pymysql = None
        if pymysql is not None:
            client = "pymysql"
            c = pymysql.connect(database=database or None, **given)
            c.cursor().execute("SELECT 1")
            c.close()
            done(True, client)
        try:
            import MySQLdb
        except ImportError:
            MySQLdb = None
        if MySQLdb is not None:
            client = "mysqlclient"
            given["passwd"] = given.pop("password")
            c = MySQLdb.connect(**({"db": database} if database else {}), **given)
            c.cursor().execute("SELECT 1")
            c.close()
            done(True, client)
    if s["scheme"] == "mongodb":
        try:
            import pymongo
        except ImportError:
            pymongo = None
        if pymongo is not None:
            client = "pymongo"
            ms = int(T * 1000)
            m = pymongo.MongoClient(url, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms)
            m.admin.command("ping")
            m.close()
            done(True, client)
    client = "tcp"
    socket.create_connection((s["host"], s["port"]), timeout=T).close()
    done(True, client)
except Exception as e:
    done(False, client, type(e).__module__ + "." + type(e).__name__, str(e))
"""


def probe(service: Service, python: Path) -> ServiceCheck:
    if service.problem:  # the client would read another host or none: said, not probed
        return ServiceCheck(service, False, "", service.problem, "percent-encode it")
    args = [str(python), "-c", _PROBE, json.dumps(_fields(service)), str(TIMEOUT)]
    try:
        done = proc.run(args, timeout=TIMEOUT * 3 + 10)
    except ToolError as exc:
        return ServiceCheck(service, False, "", "the probe did not finish", exc.message)
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        tail = (done.stdout + done.stderr).strip()[-300:]
        return ServiceCheck(service, False, "", f"the probe failed: {tail}")
    if answer["ok"]:
        return ServiceCheck(service, True, answer["client"])
    cause, hint = explain(service, answer["kind"], answer["message"])
    return ServiceCheck(service, False, answer["client"], cause, hint)


def _fields(service: Service) -> dict[str, object]:
    return {
        "url": service.url,
        "scheme": service.scheme,
        "host": service.host,
        "port": service.port,
    }


def explain(  # noqa: PLR0911  (one return per kind of failure)
    service: Service, kind: str, message: str
) -> tuple[str, str]:
    """What a failed probe means, and what to do about it."""
    where = f"{service.host}:{service.port}"
    setting = f"{service.setting} ({service.source})"
    user = urlsplit(service.url).username or ""
    text = message.lower()
    if "refused" in text or kind.endswith("ConnectionRefusedError"):
        return (
            f"connection refused: nothing listens on {where}",
            f"start the service, or point {setting} at where it runs",
        )
    if kind.endswith(("gaierror", "herror")) or re.search(
        r"could not translate host name|name or service not known|nodename nor servname"
        r"|temporary failure in name resolution",
        text,
    ):
        return f"host not found: {service.host} does not resolve", f"check the host in {setting}"
    denied = re.search(r"Access denied for user '([^']*)'@'[^']*' to database '([^']+)'", message)
    if denied:  # MySQL's 1044: signed in, but that database is not the user's (or not there)
        return (
            f"user {denied.group(1)} may not use database {denied.group(2)} at {where} "
            "(or it does not exist)",
            f"grant it, create it, or name another database in {setting}",
        )
    if kind.endswith(
        ("AuthenticationError", "AuthenticationFailed", "InvalidPassword")
    ) or re.search(
        r"password authentication failed|authentication failed|wrongpass|noauth"
        r"|access denied for user",  # MySQL's and MariaDB's words (error 1045)
        text,
    ):
        return (
            f"authentication failed for user {user or '(none given)'} at {where}",
            f"check the user and password in {setting}",
        )
    database = re.search(
        r'database "([^"]+)" does not exist|Unknown database \'([^\']+)\'', message
    )
    if database:
        name = database.group(1) or database.group(2)
        create = f"createdb {name}" if database.group(1) else f"CREATE DATABASE {name}"
        return (
            f"database {name} does not exist at {where}",
            f"create it ({create}) or name another in {setting}",
        )
    if re.search(r"\bssl\b|\btls\b|certificate", text):
        return f"TLS: {message.strip()[:200]}", f"check the TLS settings (sslmode) in {setting}"
    if "timeout" in text or "timed out" in text or kind.endswith("TimeoutError"):
        return (
            f"timed out reaching {where}",
            f"check that {where} is reachable from here, or {setting}",
        )
    return f"{kind.rsplit('.', 1)[-1]}: {message.strip()[:300]}", f"check {setting}"
