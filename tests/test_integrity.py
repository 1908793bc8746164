import subprocess
from pathlib import Path

import pytest

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


def _dist_info(site: Path, folder: str, metadata: str | None, record: str | None) -> None:
    info = site / folder
    info.mkdir(parents=True)
    if metadata is not None:
        (info / "METADATA").write_text(metadata)
    if record is not None:
        (info / "RECORD").write_text(record)


def test_distributions_are_read_from_the_environments_own_dist_info(tmp_path: Path) -> None:
    """Names and requirements as the metadata says them (an extra's requirement left out, a
    direct URL named), a folder without METADATA by its folder name; RECORD's rows with their
    hash and size, a missing RECORD an OSError and a malformed one a ValueError."""
    site = tmp_path / "env" / "lib" / "python3.12" / "site-packages"
    _dist_info(
        site,
        "zq_core-2.1.dist-info",
        "Metadata-Version: 2.1\nName: Zq.Core\nVersion: 2.1\n"
        'Requires-Dist: Zq_Util (>=1) ; python_version >= "3"\n'
        'Requires-Dist: zq-plot[png] ; extra == "plot"\n'
        "Requires-Dist: zq-blob @ https://example.invalid/zq_blob-1-py3-none-any.whl\n\n"
        "Requires-Dist: a line of the description, not a header\n",
        "zq_core/__init__.py,sha256=AAAA,12\nzq_core-2.1.dist-info/RECORD,,\n",
    )
    _dist_info(site, "zq_bare-0.3.dist-info", None, None)
    _dist_info(site, "zq_odd-1.dist-info", "Name: zq-odd\nVersion: 1\n", "a.py,sha256=x,1,extra\n")
    bare, core, odd = distributions(tmp_path / "env")  # by folder name
    assert (core.name, core.version, core.requires) == ("Zq.Core", "2.1", ("zq-util", "zq-blob"))
    assert [(r.path, r.hash, r.size) for r in core.record()] == [
        ("zq_core/__init__.py", "sha256=AAAA", 12),
        ("zq_core-2.1.dist-info/RECORD", "", None),
    ]
    assert (bare.name, bare.version, bare.requires) == ("zq_bare", "0.3", ())
    with pytest.raises(OSError, match="RECORD"):
        bare.record()
    with pytest.raises(ValueError, match="RECORD"):
        odd.record()
    problems, checked = check_all([core, bare])
    assert {(p.distribution, p.path) for p in problems} == {
        ("Zq.Core", "zq_core/__init__.py"),
        ("zq_bare", "RECORD"),
    }
    assert checked == 1
