"""What the readers of the project's code find that proving its work starts from: the
services its settings name and the applications it binds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bulletproof.redaction import hide_password


@dataclass(frozen=True)
class Service:
    setting: str  # the variable whose value names it
    source: str  # where the value came from: "the environment", ".env", "the code's default"
    url: str
    scheme: str  # "postgresql" for "postgresql+psycopg://…": the driver part is the client's
    host: str
    port: int
    gates: bool = True  # False: only written in the code (maybe a default nothing uses)
    problem: str = ""  # why it cannot be probed as written (a password that breaks the URL)

    @property
    def redacted(self) -> str:
        """The URL without its password (reports and logs never show one), also when an
        unencoded '#', '/' or '?' in the password breaks the URL's parsing."""
        return hide_password(self.url)


@dataclass(frozen=True)
class App:
    module: str  # dotted, importable from ``root``
    attribute: str  # the name the application object is bound to
    interface: str  # "asgi" or "wsgi"
    framework: str  # the class or factory that made it
    where: str  # "path:line"
    root: Path  # the folder the module is importable from
    routes: tuple[str, ...]  # literal GET paths without parameters, in the order declared


@dataclass(frozen=True)
class AppSkip:
    """An application the app check did not start, or the lack of one, and why."""

    where: str  # "path:line"; "" when no module was the reason
    reason: str


_SECRET = re.compile(r"(^|_)(KEY|SECRET|TOKEN|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?|PRIVATE)(_|$)")


def secret_name(name: str) -> bool:
    """A variable whose name says it holds a secret (never given a value in a template)."""
    return bool(_SECRET.search(name.upper()))


@dataclass(frozen=True)
class EnvVar:
    name: str
    required: bool  # read with no default: the code fails without it
    default: str  # as the code writes it, when a literal ("" when none)
    type: str  # "str", "int", "bool", "url"… ("" when the code does not say)
    secret: bool  # a name that says so, or a SecretStr field: never given a value in a template
    readers: tuple[str, ...]  # "path:line" of each place that reads it
    style: str  # "os.environ", "pydantic-settings", "environs", "django-environ", "decouple"
