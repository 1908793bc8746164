"""The Rust core's functions in Python, for where it was not built: the same answers."""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")  # ASCII, as the Rust core reads UTF-8 bytes
_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = (1 << 64) - 1


def count_tokens(text: str) -> int:
    """How many identifier-like tokens ``text`` has."""
    return sum(1 for _ in _TOKEN.finditer(text))


def fnv1a64(data: bytes) -> int:
    """The 64-bit FNV-1a checksum of ``data``."""
    if not isinstance(data, bytes):
        raise TypeError(f"a bytes-like object is required, not {type(data).__name__!r}")
    value = _FNV_OFFSET
    for byte in data:
        value = ((value ^ byte) * _FNV_PRIME) & _MASK
    return value
