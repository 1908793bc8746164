"""verify/run.py: what is set aside after importing."""

from pathlib import Path

import pytest

from bulletproof.verify.run import Jobs, _set_aside
from bulletproof.verify.values import ImportStatus, ModuleCheck, Skipped

_NO_INIT = "ImportError: dynamic module does not define module export function (PyInit_helper)"


def test_an_extension_without_its_init_function_is_skipped_unless_the_code_imports_it() -> None:
    found = Jobs(
        jobs=[],
        provided=set(),
        skipped=[],
        extensions={
            "pkg.helper": Skipped("pkg.helper", "pkg/helper.abi3.so", "pkg", ""),
            "pkg.other": Skipped("pkg.other", "pkg/other.abi3.so", "pkg", ""),
        },
    )
    helper = ModuleCheck("pkg.helper", "pkg", ImportStatus.FAILED, 0.1, _NO_INIT)
    other = ModuleCheck("pkg.other", "pkg", ImportStatus.FAILED, 0.1, "ImportError: libx.so.1")
    kept, skipped = _set_aside([helper, other], found, imported=set())
    assert kept == [other]
    assert skipped == [
        Skipped(
            "pkg.helper",
            "pkg/helper.abi3.so",
            "pkg",
            "not a Python module (no PyInit_helper): a shared library shipped in the package",
        )
    ]
    # the project's code imports it by name: a failure like any other
    kept, skipped = _set_aside([helper], found, imported={"pkg.helper"})
    assert kept == [helper] and skipped == []


def test_the_cached_verification_is_not_reused_after_a_system_package_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bulletproof.verify import cache

    records = tmp_path / "dpkg-status"
    records.write_text("Package: libzq1\n")
    monkeypatch.setattr(cache, "SYSTEM_RECORDS", (str(records),))
    before = cache.fingerprint(tmp_path, [], [])
    assert cache.fingerprint(tmp_path, [], []) == before
    records.write_text("")  # the package removed: a library an extension found may be gone
    assert cache.fingerprint(tmp_path, [], []) != before
