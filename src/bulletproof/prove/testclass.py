"""Is a failed test the environment's fault or the code's?

Decided by what was raised, not by a test's wording: the exception's type (its class name and
the names of the classes a library builds its errors on) and the operating system's own words for
the few errors that reach Python as text (the dynamic loader's, the resolver's, errno's). What the
environment lacks is named: a module, a shared library, an executable, a service at an address, a
variable. Everything else is the code's, listed and never "fixed"."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bulletproof.prove.results import FailureClass, ServiceCheck

# "E   psycopg2.OperationalError: connection ... refused" (pytest), "Traceback ... \nKeyError: 'X'"
_RAISED = re.compile(
    r"^(?:E\s+)?(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Refused|Failure|NotFound|Configured"
    r"|Timeout|gaierror|herror))(?::\s?(?P<message>.*))?$",
    re.MULTILINE,
)
_MODULE = re.compile(r"No module named '(?P<name>[\w.]+)'")
_CANNOT_IMPORT = re.compile(r"cannot import name '(?P<name>\w+)' from '(?P<module>[\w.]+)'")
# the dynamic loader's words (glibc, musl): the same for every binding that loads a library
_LIBRARY = re.compile(
    r"(?P<lib>[\w.+-]+\.so(?:\.[\d.]+)?): cannot open shared object file"
    r"|Error loading shared library (?P<lib2>[\w.+-]+)"
)
_ERRNO_FILE = re.compile(r"\[Errno 2\] No such file or directory: '(?P<name>[^']+)'")
# errno's and the resolver's words, as every client library passes them on
_UNREACHABLE = re.compile(
    r"Connection refused|\[Errno 111\]|\[Errno 99\]|Cannot assign requested address"
    r"|Name or service not known|Temporary failure in name resolution|nodename nor servname"
    r"|No route to host|could not connect to server|Can't connect to|Error 111 connecting",
    re.IGNORECASE,
)
_ADDRESSES = (
    re.compile(r"host='(?P<host>[^']+)', port=(?P<port>\d+)"),  # urllib3, requests
    re.compile(
        r"(?:host|server|to|at)\s+\"?(?P<host>[\w.-]+|\[[\d:a-f]+\])\"?"
        r"(?:[, ]+port\s+|:)(?P<port>\d{2,5})",
        re.IGNORECASE,
    ),
)
_CONNECTION_TYPES = ("ConnectionRefusedError", "gaierror", "herror", "ConnectionError")
_KEY = re.compile(r"^'(?P<name>[A-Za-z_][A-Za-z0-9_]*)'$")


def classify(
    text: str,
    own_modules: Iterable[str],
    variables: Iterable[str],
    failed_services: Sequence[ServiceCheck] = (),
) -> tuple[FailureClass, str]:
    """The class of one failure from its report (the exception lines and the traceback), and
    what the environment lacks when it is the environment's: "module x", "library libx.so.1",
    "executable x", "service host:port", "variable X". ``failed_services``: the services whose
    probe failed in this run; a failure raised by the client that probed one, or naming its
    address, is that service's (a wrong password fails the test with the server's words, which
    no rule here needs to know)."""
    own = set(own_modules)
    names = set(variables)
    raised = [(m["type"], m["message"] or "") for m in _RAISED.finditer(text)]
    service = _failed_service(raised, text, failed_services)  # with what its probe found
    if service:
        return FailureClass.ENVIRONMENT, service
    for kind, message in raised:
        short = kind.rsplit(".", 1)[-1]
        needs = (
            _missing_module(short, message, own)
            or _missing_library(message)
            or _missing_executable(short, message, text)
            or _unreachable(short, message, text)
            or _missing_variable(short, message, text, names)
        )
        if needs:
            return FailureClass.ENVIRONMENT, needs
    library = _LIBRARY.search(text)  # a loader error can reach the test as any exception type
    if library:
        return FailureClass.ENVIRONMENT, f"library {library['lib'] or library['lib2']}"
    return FailureClass.CODE, ""


def _failed_service(
    raised: list[tuple[str, str]], text: str, failed: Sequence[ServiceCheck]
) -> str:
    """The failed service this failure came through: an exception of the client that probed it
    (``psycopg.OperationalError``, or one a wrapper names: ``(psycopg.OperationalError)``), or
    an address in the report that is the service's."""
    for check in failed:
        service = check.service
        where = f"service {service.host}:{service.port} ({check.cause})"
        # "127.0.0.1:5432", "'127.0.0.1', 5432", '"127.0.0.1", port 5432', "[::1]:5432"
        address = rf"{re.escape(service.host)}\]?['\"]?(?:,\s*(?:port\s+)?|:){service.port}\b"
        if re.search(address, text):
            return where
        client = check.client if check.client != "tcp" else ""
        if client and any(
            kind.split(".")[0] == client or f"({client}." in message for kind, message in raised
        ):
            return where
    return ""


def raised_line(text: str) -> str:
    """The first exception line of a report ("ModuleNotFoundError: No module named 'x'")."""
    found = _RAISED.search(text)
    return found.group(0).removeprefix("E").strip() if found else ""


def _missing_module(kind: str, message: str, own: set[str]) -> str:
    if kind not in ("ModuleNotFoundError", "ImportError"):
        return ""
    found = _MODULE.search(message)
    if found:
        top = found["name"].split(".")[0]
        return "" if top in own else f"module {found['name']}"
    cannot = _CANNOT_IMPORT.search(message)
    if cannot and cannot["module"].split(".")[0] not in own:
        # a name an installed distribution no longer (or not yet) has: the wrong version of it
        return f"module {cannot['module']} with {cannot['name']}"
    return ""


def _missing_library(message: str) -> str:
    found = _LIBRARY.search(message)
    return f"library {found['lib'] or found['lib2']}" if found else ""


def _missing_executable(kind: str, message: str, text: str) -> str:
    """A bare command name that was not found, on the way to running it."""
    found = _ERRNO_FILE.search(message)
    if kind != "FileNotFoundError" or not found or "/" in found["name"]:
        return ""
    if "subprocess" in text or "Popen" in text or "execvp" in text or "shutil.which" in text:
        return f"executable {found['name']}"
    return ""


def _unreachable(kind: str, message: str, text: str) -> str:
    typed = any(kind == t or kind.endswith(t) for t in _CONNECTION_TYPES)
    if not typed and not _UNREACHABLE.search(message):
        return ""
    address = next(
        (
            found
            for pattern in _ADDRESSES
            for found in (pattern.search(message), pattern.search(text))
            if found
        ),
        None,
    )
    where = f"{address['host']}:{address['port']}" if address else "(address not shown)"
    return f"service {where}"


def _missing_variable(kind: str, message: str, text: str, names: set[str]) -> str:
    """A variable the code reads that was not set: os.environ's KeyError, or any error (a
    settings library's) whose message names one of the variables the code reads."""
    key = _KEY.match(message.strip())
    if kind == "KeyError" and key and (key["name"] in names or "environ" in text):
        return f"variable {key['name']}"
    if kind.endswith(("ValidationError", "ImproperlyConfigured", "UndefinedValueError")):
        upper = text.upper()  # pydantic lists the fields on the lines after the first
        for name in sorted(names):
            if re.search(rf"\b{re.escape(name)}\b", upper):
                return f"variable {name}"
    return ""
