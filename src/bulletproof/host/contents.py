"""The Debian/Ubuntu archive's Contents index (every file of every package of a release): found
from apt's sources, fetched once a week into the user cache, checked against the SHA-256 that
apt's signed InRelease lists for it, and searched line by line.

An index that does not match its Release (a mirror that lags behind it, with no by-hash copy) is
kept apart as unverified: still an index of what the archive holds, good enough to *propose* a
package (apt installs only what its own signed lists have, with consent), never passed off as
verified."""

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
# a lagging mirror may catch up any day: its index is fetched again sooner
UNVERIFIED_AGE = 24 * 3600.0
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
    return search_all([query], found)[query]


def search_all(
    queries: Sequence[Query], found: Sequence[Path] | None = None
) -> dict[Query, list[tuple[str, str]]]:
    """``search`` for several queries in one pass over each index: an index is large, and a
    failure's evidence asks several questions at once."""
    wanted = [(q, q.path_pattern(), q.needle()) for q in dict.fromkeys(queries)]
    wanted = [(q, p, n.lower() if p.flags & re.IGNORECASE else n) for q, p, n in wanted]
    hits: dict[Query, list[tuple[str, str]]] = {q: [] for q, _, _ in wanted}
    for index in indexes() if found is None else found:
        with gzip.open(index, "rt", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                lowered = ""
                for query, pattern, needle in wanted:
                    insensitive = bool(pattern.flags & re.IGNORECASE)
                    if insensitive and not lowered:
                        lowered = line.lower()
                    if needle not in (lowered if insensitive else line):
                        continue
                    path, _, where = line.rstrip("\n").rpartition(" ")
                    path = path.strip()
                    if pattern.fullmatch(path):
                        hits[query] += [(path, w.rsplit("/", 1)[-1]) for w in where.split(",") if w]
    return hits


def indexes() -> list[Path]:
    """The verified Contents files of the release's main suite (its -updates and -security add
    little new files and are skipped), fetched when missing or older than a week."""
    return [path for path, verified in _all() if verified]


def unverified_indexes() -> list[Path]:
    """The Contents files that did not match apt's signed Release, for the sources that have
    no verified one: a lagging index still says which package holds a file."""
    return [path for path, verified in _all() if not verified]


def _all() -> list[tuple[Path, bool]]:
    arch = architecture()
    wanted = [(u, s, c) for u, s, c in sources() if not re.search(r"-(updates|security)$", s)]
    out = []
    for uri, suite, component in wanted:
        path, verified = _fetch(uri, suite, component, arch)
        if path is not None:
            out.append((path, verified))
    return out


@cache  # once a run: a mismatched index is not fetched again for every query
def _fetch(uri: str, suite: str, component: str, arch: str) -> tuple[Path | None, bool]:
    """(the cached index, whether it matched apt's Release)."""
    name = re.sub(r"[^\w.-]+", "_", f"{uri}_{suite}_{component}_{arch}") + ".gz"
    cached = user_cache_path("bulletproof") / "contents" / name
    unverified = cached.with_name(name.removesuffix(".gz") + ".unverified.gz")
    if _young(cached, MAX_AGE):
        return cached, True
    if not cached.exists() and _young(unverified, UNVERIFIED_AGE):
        return unverified, False  # the mirror lagged a moment ago: not fetched again yet
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
        lagging = None
        for url in urls:
            data = _download(url)
            if data is None:
                continue
            if expected is not None and hashlib.sha256(data).hexdigest() != expected:
                log.warning("the Contents index at %s does not match apt's Release", url)
                lagging = lagging or data
                continue
            cached.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(cached, data)
            unverified.unlink(missing_ok=True)
            return cached, True
        if lagging is not None and not cached.exists():
            unverified.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(unverified, lagging)
            return unverified, False
    if cached.exists():
        return cached, True  # verified when fetched; an old index beats none
    return (unverified, False) if unverified.exists() else (None, False)


def _young(path: Path, age: float) -> bool:
    return path.exists() and time.time() - path.stat().st_mtime < age


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
