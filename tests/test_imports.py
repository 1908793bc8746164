from pathlib import Path

from bulletproof.model import ImportStatus
from bulletproof.verify.imports import ImportJob, import_all
from tests.conftest import install_into


def test_crash_hang_failure_and_noise_are_contained(uv_venv: Path, wheelhouse: Path) -> None:
    install_into(
        uv_venv, wheelhouse, "good==1.0", "broken", "crasher", "hanger", "printer", "cext", "stubby"
    )
    names = ["printer", "good", "crasher", "hanger", "broken", "cext", "json", "stubby"]
    results = import_all(uv_venv / "bin" / "python", [ImportJob(n, n) for n in names], timeout=3)
    status = {r.module: r.status for r in results}
    assert status == {
        "printer": ImportStatus.OK,
        "good": ImportStatus.OK,
        "crasher": ImportStatus.CRASHED,
        "hanger": ImportStatus.TIMEOUT,
        "broken": ImportStatus.FAILED,
        "cext": ImportStatus.OK,
        "json": ImportStatus.OK,
        "stubby": ImportStatus.ABSENT,  # its own code says so: not a broken install
    }
    by_name = {r.module: r for r in results}
    assert "SIGSEGV" in by_name["crasher"].error
    assert "No module named 'not_installed_anywhere'" in by_name["broken"].error
    assert "within 3 s" in by_name["hanger"].error


def test_a_failure_caused_by_an_earlier_import_is_not_blamed(uv_venv: Path, tmp_path: Path) -> None:
    site = next(uv_venv.glob("lib/python*/site-packages"))
    (site / "poisoner.py").write_text("import sys\nsys.modules['victim_dep'] = None\n")
    (site / "victim_dep.py").write_text("")
    (site / "victim.py").write_text("import victim_dep\n")
    results = import_all(
        uv_venv / "bin" / "python",
        [ImportJob("poisoner", "x"), ImportJob("victim", "y")],
        workers=1,
    )
    assert [r.status for r in results] == [ImportStatus.OK, ImportStatus.OK]
