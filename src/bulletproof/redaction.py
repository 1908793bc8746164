"""The one redactor: every text that leaves the process goes through ``redact``.

It knows every secret the run has seen, by value, not only by the shape of a URL: a password a
dependency's error message prints, a token a test's failure message carries, an index credential
a build log repeats. What it learns (``learn_environment``, ``learn_netrc``, ``learn_project``):

- the value of any variable whose name looks secret (``…PASSWORD``, ``…PASSWD``, ``…_PWD``,
  ``…SECRET``, ``…TOKEN``, ``…_KEY``, ``…CREDENTIAL(S)``, ``…_AUTH``, ``PRIVATE``), from the
  environment and from the project's ``.env*`` files;
- the password (or the user, when a URL has only a user: ``https://TOKEN@host``) of every URL
  in any variable's value and in the project's input files (requirement files, pyproject.toml,
  Pipfile, setup.cfg, uv.toml);
- the passwords in ``~/.netrc`` (or ``$NETRC``).

Each is learned raw, percent-decoded and percent-encoded. A value shorter than ``MIN_LENGTH``
characters, or one of the words a setting holds when it is off (``true``, ``none``…), is not
learned: scrubbing ``on`` or ``123`` out of every line would hide more than it protects.

The registry is module-level on purpose: "every secret the run has seen" is process-wide by
nature, and the writers that need it (terminal, log, files) should not have to be handed it.
"""

from __future__ import annotations

import io
import netrc
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, TextIO, cast
from urllib.parse import quote, quote_plus, unquote

MIN_LENGTH = 4
MASK = "***"
_NOT_SECRETS = {"true", "false", "none", "null", "empty", "changeme", "secret", "password"}
_MAX_INPUT_BYTES = 1_000_000  # an input file larger than this is not read for URLs

# userinfo as written, also when the password holds an unencoded '/', '#' or '?' (urlsplit cuts
# such a URL short): the user stops at ':', '@', '/', a space or a quote, the password at '@'
USERINFO = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<user>[^:@/\s\"'<>]*)(?::(?P<password>[^@\s\"'<>]*))?@",
    re.IGNORECASE,
)
_PORT_THEN_PATH = re.compile(r"\d+(/|$)")  # host:8080/repo.git@v1 is a port, not a password
_SECRET_SUFFIXES = ("PASSWORD", "PASSWD", "SECRET", "SECRETS", "TOKEN", "TOKENS", "CREDENTIAL",
                    "CREDENTIALS", "PASSPHRASE", "APIKEY")  # fmt: skip


class _Registry:
    """The secrets learned so far and the pattern that finds them (built again after a learn)."""

    def __init__(self) -> None:
        self.known: set[str] = set()
        self.pattern: re.Pattern[str] | None = None
        self.userinfo: dict[str, str] = {}  # realm (scheme://host:port) -> "user:password"

    def add(self, values: set[str]) -> None:
        new = values - self.known
        if new:
            self.known.update(new)
            self.pattern = None

    def compiled(self) -> re.Pattern[str] | None:
        if self.pattern is None and self.known:
            # longest first: a secret that contains another is hidden whole
            ordered = sorted(self.known, key=lambda s: (-len(s), s))
            self.pattern = re.compile("|".join(re.escape(s) for s in ordered))
        return self.pattern

    def clear(self) -> None:
        self.known.clear()
        self.pattern = None
        self.userinfo.clear()


_registry = _Registry()


def looks_secret(name: str) -> bool:
    """A variable name that says its value is a secret. Matched by the name's parts, so that
    ``TOKENIZERS_PARALLELISM`` or ``OLDPWD`` is not one and ``DB_PWD`` or ``GITHUBTOKEN`` is."""
    parts = [p for p in re.split(r"[^A-Z0-9]+", name.upper()) if p]
    if not parts:
        return False
    if any(p.endswith(_SECRET_SUFFIXES) or p == "PRIVATE" for p in parts):
        return True
    last = parts[-1]
    return last.endswith("KEY") or last == "AUTH" or (last in ("PWD", "PASS") and len(parts) > 1)


def learn(value: str | None) -> None:
    """Remember one secret value, with its percent-decoded and percent-encoded forms."""
    if not value:
        return
    value = value.strip()
    forms = {value, unquote(value), quote(value, safe=""), quote(value), quote_plus(value)}
    _registry.add({f for f in forms if len(f) >= MIN_LENGTH and f.lower() not in _NOT_SECRETS})


def url_credentials(text: str) -> list[str]:
    """The secret part of each URL's userinfo in ``text``: its password, or its user when it
    has no password (a token written as ``https://TOKEN@host``)."""
    found = []
    for match in USERINFO.finditer(text):
        password = match.group("password")
        if password is None:
            found.append(match.group("user"))
        elif not _PORT_THEN_PATH.match(password):
            found.append(password)
    return found


def learn_urls(text: str) -> None:
    for secret in url_credentials(text):
        learn(secret)


def learn_realms(text: str) -> None:
    """Remember, in memory only, the userinfo each credentialed URL in the project's inputs
    gives its host: the lock is written without it and ``with_credentials`` gives it back when
    a lock entry is installed."""
    for match in USERINFO.finditer(text):
        if _port(match):
            continue
        userinfo = match.group(0)[len(match.group("scheme")) + 3 : -1]
        rest = text[match.end() :]
        host = re.match(r"[^/\s\"'#?]*", rest)
        if host and host.group(0):
            _registry.userinfo.setdefault(_realm(match.group("scheme"), host.group(0)), userinfo)


def _realm(scheme: str, host: str) -> str:
    # git+https and https reach the same host with the same credentials
    return f"{scheme.lower().rpartition('+')[2]}://{host.lower()}"


def strip_credentials(text: str) -> str:
    """Every URL in ``text`` without its userinfo, as uv and pip write a URL into a lock: the
    credentials come from the environment or netrc, or ``with_credentials``, at install time."""
    return USERINFO.sub(lambda m: m.group(0) if _port(m) else f"{m.group('scheme')}://", text)


def _port(match: re.Match[str]) -> bool:
    password = match.group("password")
    return password is not None and _PORT_THEN_PATH.match(password) is not None


def with_credentials(url: str) -> str:
    """``url`` with the userinfo the project's own inputs gave its host, if it has none."""
    found = re.match(r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>[^/@\s]*)(?=/|$)", url, re.I)
    if found is None:
        return url
    userinfo = _registry.userinfo.get(_realm(found.group("scheme"), found.group("host")))
    if userinfo is None:
        return url
    return f"{found.group('scheme')}://{userinfo}@{url[len(found.group('scheme')) + 3 :]}"


def learn_variables(variables: Mapping[str, str | None]) -> None:
    for name, value in variables.items():
        if not value:
            continue
        if looks_secret(name):
            learn(value)
        learn_urls(value)


def learn_environment(environ: Mapping[str, str] | None = None) -> None:
    learn_variables(os.environ if environ is None else environ)


def learn_netrc(path: Path | None = None) -> None:
    """The passwords (or, without one, the logins) in the user's netrc, which uv and pip read."""
    if path is None:
        path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    try:
        hosts = netrc.netrc(str(path)).hosts
    except (OSError, netrc.NetrcParseError):
        return  # none, or one the tools will not read either
    for login, _account, password in hosts.values():
        learn(password or login)


def learn_project(root: Path) -> None:
    """The secrets a project's own files hold: its ``.env*`` files and the URLs of its inputs."""
    from dotenv import dotenv_values  # noqa: PLC0415  (proc imports this module: keep it light)

    try:
        candidates = sorted(root.iterdir())
    except OSError:
        return
    for path in candidates:
        if path.name.startswith(".env") and path.is_file():
            try:
                learn_variables(dotenv_values(path))
            except (OSError, UnicodeDecodeError):
                continue
    for path in _input_files(root, candidates):
        try:
            if path.stat().st_size > _MAX_INPUT_BYTES:
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        learn_urls(text)
        learn_realms(text)


def learn_run(root: Path) -> None:
    """What a run can see before it starts: the environment, netrc, the project's files."""
    learn_environment()
    learn_netrc()
    learn_project(root)


def _input_files(root: Path, candidates: Iterable[Path]) -> list[Path]:
    named = ("pyproject.toml", "Pipfile", "setup.cfg", "uv.toml", "pip.conf")
    found = [root / n for n in named if (root / n).is_file()]
    found += [p for p in candidates if p.suffix in (".txt", ".in") and p.is_file()]
    for folder in candidates:  # requirements/, reqs/: where projects keep their files
        if folder.is_dir() and folder.name.lower().startswith("req"):
            found += sorted(p for p in folder.glob("*.txt") if p.is_file())
    return found


def redact(text: str) -> str:
    """``text`` with every known secret and every URL's credentials replaced by ``***``: a
    password (the user is kept: it names who signs in), or a lone user (a token)."""
    pattern = _registry.compiled()
    if pattern is not None:
        text = pattern.sub(MASK, text)
    return USERINFO.sub(_mask, text)


def _mask(match: re.Match[str]) -> str:
    password = match.group("password")
    if password is None:
        user = match.group("user")
        return match.group(0) if user in ("", MASK) else f"{match.group('scheme')}://{MASK}@"
    if _port(match):
        return match.group(0)
    return f"{match.group('scheme')}://{match.group('user')}:{MASK}@"


def redact_data(data: Any) -> Any:
    """A JSON-like value with every string in it redacted (before it is serialised, so that a
    secret holding a quote or a backslash is still found as written)."""
    if isinstance(data, str):
        return redact(data)
    if isinstance(data, dict):
        return {redact_data(k): redact_data(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(v) for v in data]
    return data


def hide_password(url: str) -> str:
    """A service's URL for reports: its password hidden, its user kept (a service's user is
    who signs in, not a token), known secrets hidden; also a URL urlsplit cannot parse because
    its password holds an unencoded '#', '/' or '?'."""

    def mask(match: re.Match[str]) -> str:
        return match.group(0) if match.group("password") is None else _mask(match)

    pattern = _registry.compiled()
    url = USERINFO.sub(mask, url)
    return pattern.sub(MASK, url) if pattern is not None else url


def known() -> frozenset[str]:
    return frozenset(_registry.known)


def reset() -> None:
    """Forget every learned secret (tests: one run's secrets are not the next one's)."""
    _registry.clear()


class RedactingStream(io.TextIOBase):
    """A text stream whose writes are redacted before they reach ``inner``. Rich writes a whole
    render at once and logging a whole record, so a secret is not split across two writes."""

    def __init__(self, inner: TextIO):
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(redact(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def fileno(self) -> int:
        return self.inner.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.inner, "encoding", "utf-8")


def redacting(stream: TextIO) -> TextIO:
    """``stream`` behind a ``RedactingStream``, typed as the text stream it stands in for."""
    return cast("TextIO", RedactingStream(stream))
