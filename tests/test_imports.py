import subprocess
from pathlib import Path

from bulletproof.verify.imports import ImportJob, import_all
from bulletproof.verify.values import ImportStatus
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


def test_the_libraries_a_module_could_not_load_are_recorded(uv_venv: Path, tmp_path: Path) -> None:
    """Whatever a binding says, the worker records what it asked for: a ctypes load by a name no
    data knows, a find_library lookup that returned nothing before the module failed in its own
    words, and the DT_NEEDED entry of an extension module that the loader could not resolve."""
    site = next(uv_venv.glob("lib/python*/site-packages"))
    (site / "qwzx_loads.py").write_text(
        "import ctypes\ntry:\n    ctypes.CDLL('libqwzxnowhere.so.3')\n"
        "except OSError:\n    raise RuntimeError('the qwzx lattice is dark') from None\n"
    )
    (site / "qwzx_looks.py").write_text(
        "from ctypes.util import find_library\n"
        "if find_library('qwzxfound') is None and find_library('c') is not None:\n"
        "    raise ImportError('qwzx: no voice here (code 9)')\n"
    )
    (site / "qwzx_finds_c.py").write_text("import ctypes.util\nctypes.util.find_library('m')\n")
    _extension_needing_a_missing_library(site, tmp_path)
    python = uv_venv / "bin" / "python"
    names = ["qwzx_loads", "qwzx_looks", "qwzx_finds_c", "qwzx_ext"]
    results = {r.module: r for r in import_all(python, [ImportJob(n, n) for n in names])}
    assert results["qwzx_loads"].libraries == ("libqwzxnowhere.so.3",)
    assert "lattice is dark" in results["qwzx_loads"].error
    assert results["qwzx_looks"].libraries == ("qwzxfound",)
    assert results["qwzx_finds_c"].status is ImportStatus.OK
    assert results["qwzx_finds_c"].libraries == ()
    assert results["qwzx_ext"].status is ImportStatus.FAILED
    assert "libqwzxgone.so.1" in results["qwzx_ext"].libraries


def _extension_needing_a_missing_library(site: Path, tmp_path: Path) -> None:
    """qwzx_ext, a C extension linked against libqwzxgone.so.1, which is then removed."""
    lib = tmp_path / "libqwzxgone.so.1"
    source = tmp_path / "gone.c"
    source.write_text("int qwzx_gone(void) { return 7; }\n")
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-Wl,-soname,libqwzxgone.so.1", "-o", str(lib), str(source)],
        check=True,
    )
    (tmp_path / "libqwzxgone.so").symlink_to(lib.name)
    ext = tmp_path / "ext.c"
    ext.write_text(
        "#include <Python.h>\nint qwzx_gone(void);\n"
        'static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "qwzx_ext", 0, -1, 0};\n'
        "PyMODINIT_FUNC PyInit_qwzx_ext(void) { qwzx_gone(); return PyModule_Create(&m); }\n"
    )
    suffix, include = subprocess.run(
        [
            str(site.parents[2] / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'));"
            "print(sysconfig.get_path('include'))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    subprocess.run(
        [
            "cc",
            "-shared",
            "-fPIC",
            f"-I{include}",
            "-o",
            str(site / f"qwzx_ext{suffix}"),
            str(ext),
            f"-L{tmp_path}",
            "-lqwzxgone",
        ],
        check=True,
    )
    lib.unlink()
