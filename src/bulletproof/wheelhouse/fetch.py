"""Files the lock names, downloaded into the wheelhouse and checked against the lock's sha256.

uv keeps wheels unpacked in its cache, not as the files the lock names, so there is no clean way
to take them from there through its command line: they are downloaded (in parallel), through the
trust store the environment names (SSL_CERT_FILE), with the credentials the run has seen for the
index."""

from __future__ import annotations

import hashlib
import os
import ssl
import time
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from bulletproof.errors import ToolError
from bulletproof.redaction import redact, with_credentials

FETCH_TIMEOUT = 120.0
WORKERS = 6
ATTEMPTS = 4


@dataclass(frozen=True)
class Wanted:
    url: str  # as the lock names it, without credentials
    sha256: str  # the lock's
    dest: Path


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _context() -> ssl.SSLContext:
    cafile = os.environ.get("SSL_CERT_FILE")
    return ssl.create_default_context(cafile=cafile if cafile and Path(cafile).is_file() else None)


def _one(wanted: Wanted, context: ssl.SSLContext) -> None:
    """One file, tried again after a failure that may pass (a name not resolved a moment, a
    connection dropped); a hash that does not match is not tried again."""
    for attempt in range(ATTEMPTS):
        try:
            _fetch(wanted, context)
            return
        except OSError as exc:
            if attempt == ATTEMPTS - 1:
                raise ToolError(f"could not download {redact(wanted.url)}: {exc}") from exc
            time.sleep(2.0 * (attempt + 1))


def _fetch(wanted: Wanted, context: ssl.SSLContext) -> None:
    partial = wanted.dest.with_name(wanted.dest.name + ".part")
    try:
        if wanted.url.startswith("file://") or "://" not in wanted.url:
            source = wanted.url.removeprefix("file://")
            partial.write_bytes(Path(source).read_bytes())
        else:
            request = urllib.request.Request(with_credentials(wanted.url))  # noqa: S310
            opened = urllib.request.urlopen(request, timeout=FETCH_TIMEOUT, context=context)  # noqa: S310
            with (
                opened as answer,
                partial.open("wb") as out,
            ):
                for block in iter(lambda: answer.read(1 << 20), b""):
                    out.write(block)
    except OSError:
        partial.unlink(missing_ok=True)
        raise
    got = sha256_of(partial)
    if got != wanted.sha256:
        partial.unlink(missing_ok=True)
        raise ToolError(
            f"{redact(wanted.url)} does not match the lock: sha256 {got}, the lock says "
            f"{wanted.sha256}"
        )
    partial.replace(wanted.dest)


def download_all(files: Sequence[Wanted]) -> None:
    """Every file to its destination, each checked; the first failure raised (ToolError)."""
    context = _context()
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        for future in [pool.submit(_one, wanted, context) for wanted in files]:
            future.result()
