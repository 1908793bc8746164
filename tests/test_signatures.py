"""Each signature against the real log it was written from (tests/fixtures/logs, made by
scripts/capture-logs.py): the right signature, the right values, the matching lines as evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulletproof.analyze.signatures import match, signatures

LOGS = Path(__file__).parent / "fixtures" / "logs"

# log file -> (stage, signature id, values) that must be among its matches
EXPECTED = {
    "compiler-missing": ("build", "compiler-missing", {"cc": "x86_64-linux-gnu-gcc"}),
    "python-h-missing": ("build", "python-headers-missing", {}),
    "header-missing": ("build", "header-missing", {"header": "portaudio.h"}),
    "library-missing": ("build", "library-missing", {"lib": "portaudio"}),
    "pkg-config-tool-missing": ("build", "pkg-config-missing", {}),
    "pkg-config-package-not-found": ("build", "pkg-config-package-missing", {"pc": "cairo"}),
    "pkg-config-name-not-found": ("build", "pkg-config-package-missing", {"pc": "mysqlclient"}),
    "helper-pg-config": ("build", "config-helper-missing", {"tool": "pg_config"}),
    "helper-krb5-config": ("build", "config-helper-missing", {"tool": "krb5-config"}),
    "import-shared-object": ("import", "shared-object-missing", {"soname": "libGL.so.1"}),
    "import-libmagic": ("import", "ctypes-library-missing", {"lib": "magic"}),
    "import-zbar": ("import", "ctypes-library-missing", {"lib": "zbar"}),
    "import-portaudio": ("import", "ctypes-library-missing", {"lib": "PortAudio"}),
    "import-cairo": ("import", "ctypes-library-missing", {"lib": "cairo"}),
    "import-dmtx": ("import", "ctypes-library-missing", {"lib": "dmtx"}),
    "distutils-removed": ("build", "distutils-removed", {}),
    "cython3": ("build", "cython3-incompatible", {}),
    "c-api-removed": ("build", "c-api-removed", {"api": "_PyInterpreterState_Get"}),
    "removed-api-import": (
        "import",
        "stdlib-api-removed",
        {"module": "inspect", "name": "formatargspec"},
    ),
    "pkg-resources-gone": ("import", "pkg-resources-removed", {}),
    "rust-missing-maturin": ("build", "rust-missing", {}),
    "rust-missing-setuptools": ("build", "rust-missing", {}),
    "rust-missing-cargo-path": ("build", "rust-missing", {}),
    "cargo-crate-unreachable": ("build", "cargo-crate-unreachable", {"crate": "pyo3-ffi"}),
    "cargo-registry-unreachable": ("build", "cargo-registry-unreachable", {}),
    "tls-self-signed": ("resolve", "tls-untrusted", {}),
    "registry-unreachable": ("resolve", "registry-unreachable", {}),
}


@pytest.mark.parametrize("log", sorted(EXPECTED))
def test_signature_matches_its_real_log(log: str) -> None:
    stage, wanted, values = EXPECTED[log]
    text = (LOGS / f"{log}.log").read_text()
    found = [(m.signature.id, m.values) for m in match(text, stage)]
    assert (wanted, values) in found, found
    hit = next(m for m in match(text, stage) if m.signature.id == wanted and m.values == values)
    assert hit.evidence and all(line in text for line in hit.evidence)


def test_every_signature_has_a_real_log_and_its_example_matches() -> None:
    covered = {sig for _, sig, _ in EXPECTED.values()}
    assert {s.id for s in signatures()} == covered
    for s in signatures():
        assert s.pattern.search(s.example), s.id


def test_an_unrelated_log_matches_nothing() -> None:
    text = (LOGS / "import-libmagic.log").read_text()
    assert match(text, "build") == []  # an import error read as a build log
    assert match("Resolved 3 packages in 120ms\nInstalled 3 packages", "build") == []


def test_evidence_is_the_whole_log_not_its_tail() -> None:
    """The line that explains a build failure can be thousands of lines before the end (a
    parallel build goes on compiling other files): the whole log is read."""
    cause = "src/q.c:3:10: fatal error: qwzx/lattice.h: No such file or directory"
    noise = [f"gcc -c src/file{i}.c -o build/file{i}.o -O2 -Wall" for i in range(5000)]
    text = "\n".join(["running build_ext", cause, *noise, "error: command 'gcc' failed"])
    found = match(text, "build")
    assert [m.signature.id for m in found][:1] == ["header-missing"]
    assert found[0].values["header"] == "qwzx/lattice.h"
    assert found[0].evidence == (cause,)
