"""What the engine reads from a piece of source code: how many identifier-like tokens it has and
a checksum of its bytes. The Rust core (`code_engine._native`, built by maturin from `rust/`)
does the work when it was built; else the same functions in Python (`code_engine._fallback`)
give the same answers, slower."""

from __future__ import annotations

try:
    from code_engine._native import count_tokens, fnv1a64
except ImportError:  # the Rust core was not built here: the same answers, in Python
    from code_engine._fallback import count_tokens, fnv1a64


def analyze(source: str) -> dict[str, int | str]:
    """The tokens of ``source`` and the 64-bit FNV-1a checksum of its UTF-8 bytes, in hex."""
    return {"tokens": count_tokens(source), "checksum": f"{fnv1a64(source.encode()):016x}"}
