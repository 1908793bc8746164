import subprocess
from pathlib import Path

from bulletproof.proc import uv_bin
from bulletproof.verify.distributions import distributions
from bulletproof.verify.integrity import check_all
from tests.conftest import install_into


def test_changed_and_deleted_files_are_found_where_uv_pip_check_sees_nothing(
    uv_venv: Path, wheelhouse: Path
) -> None:
    python = uv_venv / "bin" / "python"
    install_into(uv_venv, wheelhouse, "pkga==1.0", "good==1.0")
    problems, checked = check_all(distributions(uv_venv))
    assert problems == [] and checked > 40
    site = next(uv_venv.glob("lib/python*/site-packages"))
    (site / "pkga" / "data" / "blob3.py").unlink()
    (site / "good" / "__init__.py").write_text("VERSION = '1.1'\n")  # same size as before
    blob = site / "pkga" / "data" / "blob4.py"
    blob.write_text(blob.read_text() + "\n")
    check = subprocess.run(
        [uv_bin(), "pip", "check", "--python", str(python)], capture_output=True, check=False
    )
    assert check.returncode == 0, "uv pip check passes a damaged environment"
    found = {(p.path, p.problem) for p in check_all(distributions(uv_venv))[0]}
    assert found == {
        ("pkga/data/blob3.py", "missing"),
        ("good/__init__.py", "hash differs"),
        ("pkga/data/blob4.py", "size differs"),
    }
