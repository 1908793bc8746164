"""The services a project's configuration points at: every setting (from the environment, the
project's ``.env``, or a default written in its code) whose value is a URL naming a host, such as
``DATABASE_URL=postgresql://app@127.0.0.1:5432/app`` or ``REDIS_URL=redis://localhost:6379/0``.

Found by the value's shape, not by a list of setting names: any variable the code reads whose
value is ``scheme://host…`` is a service to probe. The scheme says which client can probe it
(prove/probe.py); one nobody knows is probed by a TCP connection to its port."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from urllib.parse import quote, urlsplit

from bulletproof.code.found import EnvVar, Service
from bulletproof.redaction import USERINFO, strip_credentials

# a scheme's default port, where the URL gives none (the ports the servers listen on)
DEFAULT_PORTS = {
    "postgres": 5432,
    "postgresql": 5432,
    "redis": 6379,
    "rediss": 6380,
    "mysql": 3306,
    "mariadb": 3306,
    "mongodb": 27017,
    "amqp": 5672,
    "amqps": 5671,
    "http": 80,
    "https": 443,
}
_NOT_SERVICES = {"file", "sqlite", "memory", "locmem", "dummy", "console", "smtp+console"}


def services(
    variables: Sequence[EnvVar], dotenv: Mapping[str, str], environ: Mapping[str, str] | None = None
) -> list[Service]:
    """The services the settings the code reads point at, in the order they are read."""
    environ = os.environ if environ is None else environ
    found: list[Service] = []
    for var in variables:
        for source, value in (
            ("the environment", environ.get(var.name)),
            (".env", dotenv.get(var.name)),
            ("the code's default", var.default),
        ):
            if value:
                service = service_from_url(var.name, source, value)
                if service is not None:
                    found.append(service)
                break  # the first source that sets it is the one the code sees
    return found


def one_per_url(found: Sequence[Service]) -> list[Service]:
    """The first service found for each URL, in order (one server is probed once)."""
    seen: set[str] = set()
    unique = []
    for service in found:
        if service.url not in seen:
            seen.add(service.url)
            unique.append(service)
    return unique


def _loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


_HOSTNAME = re.compile(r"^[A-Za-z0-9._-]+$|^[0-9a-fA-F:]+$")


def service_from_url(
    setting: str, source: str, value: str, *, gates: bool = True
) -> Service | None:
    """The service a URL names, or None: no host (a template such as ``{host}`` is none), a
    scheme with no server (sqlite, file), a port nobody knows, or a remote HTTP API. A password
    with an unencoded '#', '/' or '?' is the service's ``problem``, not a reason to skip it."""
    broken = _unencoded_in_password(value)
    if broken is None:
        return _service(setting, source, value, gates)
    # urlsplit reads the password's tail as the path, the query or the fragment, and the host
    # as missing: without this the service would go unprobed without a word
    found = _service(setting, source, strip_credentials(value), gates)
    if found is None:
        return None
    problem = (
        f"the password in {setting} ({source}) contains an unencoded {broken!r}: "
        f"percent-encode it (as {quote(broken, safe='')})"
    )
    return replace(found, url=value.strip(), problem=problem)


def _unencoded_in_password(url: str) -> str | None:
    """The first character in a URL's password that ends its userinfo early for urlsplit."""
    found = USERINFO.match(url.strip())
    password = found.group("password") if found else None
    if not password or re.match(r"\d+(/|$)", password):  # none, or host:port/path@ref
        return None
    return next((c for c in password if c in "#/?"), None)


def _service(setting: str, source: str, value: str, gates: bool) -> Service | None:
    if "://" not in value:
        return None
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower().split("+", 1)[0]
    if not parts.hostname or not _HOSTNAME.match(parts.hostname) or scheme in _NOT_SERVICES:
        return None
    port = port or DEFAULT_PORTS.get(scheme)
    if port is None:
        return None
    if scheme in ("http", "https") and not _loopback(parts.hostname):
        return None  # a remote API is the world's, not this machine's: not probed
    return Service(setting, source, value.strip(), scheme, parts.hostname, port, gates)
