"""The Debian/Ubuntu archive's Contents index (every file of every package of a release): found
from apt's sources, fetched once a week into the user cache, checked against the SHA-256 that
apt's signed InRelease lists for it, and searched line by line."""

from __future__ import annotations

import gzip
import hashlib
import logging
import re
import time
import urllib.request
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from platformdirs import user_cache_path

from bulletproof import proc
from bulletproof.fsutil import atomic_write
from bulletproof.host.filequery import Query

log = logging.getLogger(__name__)
SOURCES = Path("/etc/apt")
LISTS = Path("/var/lib/apt/lists")
MAX_AGE = 7 * 24 * 3600.0
FETCH_TIMEOUT = 300.0


def sources(root: Path | None = None) -> list[tuple[str, str, str]]:
    """(uri, suite, component) of the deb sources, in apt's order; both file formats."""
    root = SOURCES if root is None else root
    found: list[tuple[str, str, str]] = []
    one_line = [root / "sources.list", *sorted((root / "sources.list.d").glob("*.list"))]
    for path in one_line:
        for line in _lines(path):
            parts = re.sub(r"\[[^]]*\]", "", line).split()
            if len(parts) >= 4 and parts[0] == "deb":
                found += [(parts[1].rstrip("/"), parts[2], c) for c in parts[3:]]
    for path in sorted((root / "sources.list.d").glob("*.sources")):
        for stanza in re.split(r"\n\s*\n", _text(path)):
            fields = {
                k.strip().lower(): v.strip()
                for k, _, v in (ln.partition(":") for ln in stanza.splitlines())
            }
            if "deb" not in fields.get("types", "").split():
                continue
            for uri in fields.get("uris", "").split():
                for suite in fields.get("suites", "").split():
                    found += [
                        (uri.rstrip("/"), suite, c) for c in fields.get("components", "").split()
                    ]
    return found


def _text(path: Path) -> str:
    """The file without comment lines (blank lines kept: they part deb822 stanzas)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#"))


def _lines(path: Path) -> list[str]:
    return [ln for ln in _text(path).splitlines() if ln.strip()]


@cache
def architecture() -> str:
    done = proc.run(["dpkg", "--print-architecture"], timeout=30)
    return done.stdout.strip() or "amd64"


def search(query: Query, found: Sequence[Path] | None = None) -> list[tuple[str, str]]:
    """(path, package) for every line of the release's Contents indexes the query matches."""
    pattern, needle = query.path_pattern(), query.needle()
    insensitive = bool(pattern.flags & re.IGNORECASE)
    needle = needle.lower() if insensitive else needle
    hits: list[tuple[str, str]] = []
    for index in indexes() if found is None else found:
        with gzip.open(index, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if needle not in (line.lower() if insensitive else line):
                    continue
                path, _, where = line.rstrip("\n").rpartition(" ")
                path = path.strip()
                if pattern.fullmatch(path):
                    hits += [(path, w.rsplit("/", 1)[-1]) for w in where.split(",") if w]
    return hits


def indexes() -> list[Path]:
    """The Contents files of the release's main suite (its -updates and -security add little
    new files and are skipped), fetched when missing or older than a week."""
    arch = architecture()
    wanted = [(u, s, c) for u, s, c in sources() if not re.search(r"-(updates|security)$", s)]
    out = []
    for uri, suite, component in wanted:
        path = _fetch(uri, suite, component, arch)
        if path is not None:
            out.append(path)
    return out


@cache  # once a run: a mismatched index is not fetched again for every query
def _fetch(uri: str, suite: str, component: str, arch: str) -> Path | None:
    name = re.sub(r"[^\w.-]+", "_", f"{uri}_{suite}_{component}_{arch}") + ".gz"
    cached = user_cache_path("bulletproof") / "contents" / name
    if cached.exists() and time.time() - cached.stat().st_mtime < MAX_AGE:
        return cached
    # Debian keeps it per component; Ubuntu per suite
    for relative in (f"{component}/Contents-{arch}.gz", f"Contents-{arch}.gz"):
        base = f"{uri}/dists/{suite}/"
        if not base.startswith(("http://", "https://")):
            continue  # file:, cdrom: and mirror+ sources have no index to fetch this way
        expected = _release_hash(uri, suite, relative)
        urls = [base + relative]
        if expected is not None:  # a mirror that lags behind its Release keeps the file by hash
            folder = relative.rpartition("/")[0]
            urls.append(base + (folder + "/" if folder else "") + f"by-hash/SHA256/{expected}")
        for url in urls:
            data = _download(url)
            if data is None:
                continue
            if expected is not None and hashlib.sha256(data).hexdigest() != expected:
                log.warning("the Contents index at %s does not match apt's Release; ignored", url)
                continue
            cached.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(cached, data)
            return cached
    return cached if cached.exists() else None  # a stale index beats none


def _download(url: str) -> bytes | None:
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            data: bytes = response.read()
    except OSError as exc:
        log.info("no Contents index at %s: %s", url, exc)
        return None
    return data


def _release_hash(uri: str, suite: str, relative: str) -> str | None:
    """The SHA-256 apt's verified InRelease gives the file; None when apt has no such list."""
    prefix = re.sub(r"^\w+://", "", uri).replace("/", "_")
    for release in (
        LISTS / f"{prefix}_dists_{suite}_InRelease",
        LISTS / f"{prefix}_dists_{suite}_Release",
    ):
        try:
            text = release.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        section = text.split("SHA256:", 1)[-1]
        hit = re.search(
            rf"^\s*([0-9a-f]{{64}})\s+\d+\s+{re.escape(relative)}$", section, re.MULTILINE
        )
        return hit.group(1) if hit else None
    return None
