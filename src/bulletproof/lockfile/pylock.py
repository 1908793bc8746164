"""DIR/pylock.toml as a file: the PEP 751 body uv resolved, then bulletproof's [tool.bulletproof]
table appended after it. The table's packages-hash is the sha256 of the body's bytes, so a lock
edited since it was written is told from one bulletproof wrote; the table is read whenever it
is whole, even from a damaged lock, so the target it records is still known.

uv's output is loaded, read as PEP 751 by packaging.pylock (a lock it does not read is said;
uv installs from it all the same), its local paths moved to where the lock is kept, and dumped
again: every package a ``[[packages]]`` table of its own, as uv writes them (apply/locksplit.py
splits the lock on those headers)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from packaging.pylock import Pylock, PylockValidationError

from bulletproof.errors import ToolError
from bulletproof.fsutil import atomic_write
from bulletproof.lockfile.meta import LockMeta
from bulletproof.tomlcompat import tomllib

LOCK_NAME = "pylock.toml"
# the boundary between the body and the table bulletproof appends: the packages hash is the
# body's, up to it
_META_START = b"\n\n[tool.bulletproof]\n"


def read_lock_meta(path: Path) -> LockMeta:
    """The [tool.bulletproof] table of an existing lock; an empty one when there is no lock or
    its table cannot be read."""
    return read_lock(path)[0] or LockMeta()


def read_lock(path: Path) -> tuple[LockMeta | None, str | None]:
    """An existing lock's [tool.bulletproof] table (None when it has none, or there is no lock),
    and what is wrong with the lock if anything (not UTF-8, not TOML, not bulletproof's, or
    edited since it was written). A lock with a problem is never reused as it is."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    body, found, tail = data.rpartition(_META_START)
    try:
        whole = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        problem = f"is not UTF-8 (byte {data[exc.start]:#04x} at offset {exc.start})"
    except tomllib.TOMLDecodeError as exc:
        problem = f"is not valid TOML ({exc})"
    else:
        table = _bulletproof_table(whole)
        if not table:
            return None, "was not written by bulletproof (it has no [tool.bulletproof] table)"
        meta = LockMeta.from_table(table)
        if meta.packages_hash != body_hash(body):
            edited = "its packages no longer match its hash"
            return meta, f"was edited since bulletproof wrote it ({edited})"
        return meta, None
    # the file as a whole cannot be read: the table bulletproof appended may still be whole
    return (_appended(found[2:] + tail) if found else None), problem


def write_lock(path: Path, body: bytes, meta: LockMeta) -> None:
    """The body, then the table (its packages hash is the body's), written atomically."""
    table = tomli_w.dumps({"tool": {"bulletproof": meta.to_table()}}).encode()
    atomic_write(path, body + b"\n\n" + table)


def body_hash(body: bytes) -> str:
    return "sha256:" + hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Body:
    """The lock's body as kept: its text, how many packages it locks, and why packaging could
    not read it as PEP 751 ("" when it could)."""

    text: str
    packages: int
    not_pep751: str = ""


def lock_body(written: str, written_in: Path, kept_in: Path) -> Body:
    """The body to keep from what uv wrote in ``written_in``: loaded, read as PEP 751 by
    packaging.pylock, its relative local paths made relative to ``kept_in``, dumped again."""
    data = tomllib.loads(written)
    try:
        packages = len(Pylock.from_dict(data).packages)
        problem = ""
    except PylockValidationError as exc:  # uv installs from it all the same: said, not fatal
        packages, problem = len(data.get("packages", [])), str(exc)
    for table in _local_tables(data):
        if not Path(table["path"]).is_absolute():
            table["path"] = os.path.relpath(
                (written_in / table["path"]).resolve(), kept_in.resolve()
            )
    text = _dumps(data)
    if tomllib.loads(text) != data:  # the dump must say what uv said, paths aside
        raise ToolError("the lock uv wrote could not be written back as it was", detail=written)
    return Body(text, packages, problem)


def _local_tables(data: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """The directory and archive tables of the packages that have a local path."""
    for package in data.get("packages", []):
        for kind in ("directory", "archive"):
            table = package.get(kind) if isinstance(package, dict) else None
            if isinstance(table, dict) and isinstance(table.get("path"), str):
                yield table


def _dumps(data: Mapping[str, Any]) -> str:
    """The lock as TOML, each package under its own ``[[packages]]`` header (tomli_w alone
    writes short ones as one inline array)."""
    head = tomli_w.dumps({k: v for k, v in data.items() if k != "packages" or not v})
    blocks = [
        "[[packages]]\n" + "".join(_line(k, v) for k, v in package.items()).rstrip("\n")
        for package in data.get("packages", [])
    ]
    return "\n\n".join([head.rstrip("\n"), *blocks])


def _line(key: str, value: object) -> str:
    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        items = "".join(f"    {_inline(v)},\n" for v in value)
        return f"{_key(key)} = [\n{items}]\n"
    return f"{_key(key)} = {_inline(value)}\n"


def _inline(value: object) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_inline(v)}" for k, v in value.items())
        return f"{{ {inner} }}" if inner else "{}"
    if isinstance(value, list):
        return "[" + ", ".join(_inline(v) for v in value) + "]"
    return tomli_w.dumps({"v": value})[len("v = ") :].rstrip("\n")  # a scalar as tomli_w writes it


def _key(key: str) -> str:
    return tomli_w.dumps({key: 0}).rpartition(" = ")[0]


def _bulletproof_table(document: Mapping[str, Any]) -> dict[str, Any]:
    tool = document.get("tool", {})
    table = tool.get("bulletproof", {}) if isinstance(tool, dict) else {}
    return table if isinstance(table, dict) else {}


def _appended(data: bytes) -> LockMeta | None:
    try:
        table = _bulletproof_table(tomllib.loads(data.decode("utf-8")))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return LockMeta.from_table(table) if table else None
