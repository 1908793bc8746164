import importlib.util

import pytest

from code_engine import _fallback

SAMPLES = ["", "a", "def f(x): return x", "naïve café = 1 + _x2 # ß", "x" * 10_000 + " y_1"]


@pytest.mark.skipif(
    importlib.util.find_spec("code_engine._native") is None, reason="the Rust core is not built"
)
@pytest.mark.parametrize("text", SAMPLES)
def test_the_rust_core_answers_as_the_fallback_does(text: str) -> None:
    from code_engine import _native

    assert _native.count_tokens(text) == _fallback.count_tokens(text)
    assert _native.fnv1a64(text.encode()) == _fallback.fnv1a64(text.encode())
