"""A compiled module with a pure-Python fallback (verify/accelerated.py): found in the project's
code, proved in the environment (which side is in use, the compiled file, the ImportError when
it is the fallback), timed when the project asks. The project is made here: a C extension
compiled by gcc against the target interpreter's headers, its fallback, and the try/except
import in a third module; set up for real by `bulletproof setup` on the test wheelhouse."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from bulletproof.cli import main
from bulletproof.project import discover
from bulletproof.report.html import render
from bulletproof.verify.acceleratedfind import find_pairs
from tests.conftest import write_project

pytestmark = pytest.mark.usefixtures("local_index")

# the package's name and its modules are the test's own: nothing in the code knows them
PACKAGE = "qtextkit"

_C_SOURCE = r"""
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *count_tokens(PyObject *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), count = 0;
    int kind = PyUnicode_KIND(text), inside = 0;
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        int space = Py_UNICODE_ISSPACE(PyUnicode_READ(kind, data, i));
        if (!space && !inside) count++;
        inside = !space;
    }
    return PyLong_FromSsize_t(count);
}

static PyObject *checksum(PyObject *self, PyObject *args) {
    PyObject *text;
    if (!PyArg_ParseTuple(args, "U", &text)) return NULL;
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    int kind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    unsigned long long total = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        total = (total * 31 + PyUnicode_READ(kind, data, i)) % 1000000007ULL;
    return PyLong_FromUnsignedLongLong(total);
}

static PyObject *needs_bytes(PyObject *self, PyObject *args) {
    Py_buffer view;
    if (!PyArg_ParseTuple(args, "y*", &view)) return NULL;
    Py_ssize_t n = view.len;
    PyBuffer_Release(&view);
    return PyLong_FromSsize_t(n);
}

static PyMethodDef methods[] = {
    {"count_tokens", count_tokens, METH_VARARGS, NULL},
    {"checksum", checksum, METH_VARARGS, NULL},
    {"needs_bytes", needs_bytes, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_native", NULL, -1, methods};

PyMODINIT_FUNC PyInit__native(void) { return PyModule_Create(&module); }
"""

_FALLBACK = """\
def count_tokens(text):
    return len(text.split())


def checksum(text):
    total = 0
    for ch in text:
        total = (total * 31 + ord(ch)) % 1000000007
    return total


def needs_bytes(data):
    return len(memoryview(data))
"""

_API = f"""\
try:
    from {PACKAGE}._native import checksum, count_tokens, needs_bytes
except ImportError:
    from {PACKAGE}._fallback import checksum, count_tokens, needs_bytes
"""

# A PEP 517 backend in the project (backend-path) that compiles the extension with gcc for the
# interpreter it runs under and installs the package whole (the editable hook too), so the
# compiled file lives in the environment, listed in its RECORD.
_BACKEND = r"""
import base64, hashlib, os, subprocess, sys, sysconfig, tempfile, zipfile

NAME, VERSION = "qtextkit", "0.1"

def get_requires_for_build_wheel(config_settings=None):
    return []

get_requires_for_build_editable = get_requires_for_build_wheel

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    files = {}
    for folder, _, names in os.walk(os.path.join("src", NAME)):
        for n in names:
            if n.endswith(".py"):
                path = os.path.join(folder, n)
                files[os.path.relpath(path, "src")] = open(path, "rb").read()
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "native" + suffix)
        include = sysconfig.get_paths()["include"]
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-I", include, "-o", out, "native.c"],
                       check=True)
        files[f"{NAME}/_native{suffix}"] = open(out, "rb").read()
    abi = "cp%d%d" % sys.version_info[:2]
    tag = f"{abi}-{abi}-" + sysconfig.get_platform().replace("-", "_").replace(".", "_")
    info = f"{NAME}-{VERSION}.dist-info"
    files[f"{info}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\nRequires-Dist: good==1.0\n"
    ).encode()
    files[f"{info}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: t\nRoot-Is-Purelib: false\nTag: {tag}\n".encode()
    )
    digest = lambda d: base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b"=").decode()
    record = "".join(f"{p},sha256={digest(d)},{len(d)}\n" for p, d in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    name = f"{NAME}-{VERSION}-{tag}.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w") as z:
        for p, d in files.items():
            z.writestr(p, d)
    return name

build_editable = build_wheel
"""


def _write_package(folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text("")
    (folder / "_fallback.py").write_text(_FALLBACK)
    (folder / "api.py").write_text(_API)


def _installed_project(root: Path, benchmark: list[str]) -> Path:
    """A package whose build compiles its extension: installed into the environment."""
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""\
            [project]
            name = "{PACKAGE}"
            version = "0.1"
            dependencies = ["good==1.0"]

            [build-system]
            requires = []
            build-backend = "backend"
            backend-path = ["."]

            [tool.bulletproof]
            benchmark = {json.dumps(benchmark)}
            """
        )
    )
    (root / "backend.py").write_text(_BACKEND)
    (root / "native.c").write_text(_C_SOURCE)
    _write_package(root / "src" / PACKAGE)
    return root


def _interpreter_facts(python: Path) -> tuple[str, str]:
    """(the interpreter's include folder, its extension suffix)."""
    code = "import sysconfig; print(sysconfig.get_paths()['include']); "
    code += "print(sysconfig.get_config_var('EXT_SUFFIX'))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    include, suffix = done.stdout.split()
    return include, suffix


def _source_tree_project(root: Path, python: Path) -> Path:
    """A project that is no package (its requirements, its folder on the path), its extension
    compiled here into its own tree, as an in-place build leaves it."""
    write_project(root, "good==1.0\n")
    (root / "pyproject.toml").write_text('[tool.bulletproof]\npython = "3.12"\n')
    _write_package(root / PACKAGE)
    include, suffix = _interpreter_facts(python)
    (root / "native.c").write_text(_C_SOURCE)
    out = root / PACKAGE / f"_native{suffix}"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-I", include, "-o", str(out), str(root / "native.c")],
        check=True,
    )
    return root


def _run(*args: str, report: Path) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--json", str(report)])
    return code, json.loads(report.read_text())


def test_the_compiled_module_is_in_use_timed_and_the_fallback_said_once_it_is_gone(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _installed_project(tmp_path / "proj", ["checksum", "needs_bytes"])
    code, report = _run("setup", str(root), "--python", "3.12", "-q", report=tmp_path / "r.json")
    assert code == 0, report["result"]
    _, suffix = _interpreter_facts(python312)
    [pair] = report["verification"]["accelerated"]
    assert pair["module"] == f"{PACKAGE}.api"
    assert pair["where"] == f"src/{PACKAGE}/api.py:1"
    assert (pair["compiled"], pair["fallback"]) == (f"{PACKAGE}._native", f"{PACKAGE}._fallback")
    assert pair["names"] == ["checksum", "count_tokens", "needs_bytes"]
    assert (pair["state"], pair["in_use"], pair["error"]) == ("in use", True, "")
    compiled = Path(pair["file"])
    venv = (root / ".venv").resolve()
    assert compiled.name == f"_native{suffix}" and compiled.is_file()
    assert compiled.resolve().is_relative_to(venv)  # the environment's, not the project's
    timed = {b["function"]: b for b in pair["benchmarks"]}
    assert set(timed) == {"checksum", "needs_bytes"}
    checksum = timed["checksum"]
    assert checksum["problem"] == "" and checksum["sample_bytes"] == 256 * 1024
    assert checksum["compiled_seconds"] > 0 and checksum["fallback_seconds"] > 0
    assert checksum["ratio"] == pytest.approx(
        checksum["fallback_seconds"] / checksum["compiled_seconds"], rel=0.01
    )
    # a function that raises on a str on either side is not measured, with the error's line
    assert timed["needs_bytes"]["problem"].startswith("not measured: the compiled needs_bytes")
    assert "TypeError" in timed["needs_bytes"]["problem"]
    assert timed["needs_bytes"]["compiled_seconds"] == 0 == timed["needs_bytes"]["ratio"]
    out = capsys.readouterr().out
    assert f"compiled {PACKAGE}._native in use ({compiled})" in out
    assert "checksum: " in out and " on 256 KiB: " in out
    _assert_html_section(report, compiled)
    # nothing changed: the cached verification carries what was found and timed
    code, again = _run("verify", str(root), report=tmp_path / "r1.json")
    assert code == 0 and again["verification"]["cached"] is True
    assert again["verification"]["accelerated"] == report["verification"]["accelerated"]

    # the extension gone from the environment (its link removed, the cache's file untouched)
    compiled.unlink()
    code, report = _run("verify", str(root), report=tmp_path / "r2.json")
    [pair] = report["verification"]["accelerated"]
    assert (pair["state"], pair["in_use"], pair["file"]) == ("fallback in use", False, "")
    assert pair["error"] == f"ModuleNotFoundError: No module named '{PACKAGE}._native'"
    assert {b["function"] for b in pair["benchmarks"]} == {"checksum", "needs_bytes"}
    assert all(b["problem"].startswith("not measured") for b in pair["benchmarks"])
    # its RECORD still lists the file: that is the integrity check's to say, not this one's
    problems = report["verification"]["integrity"]["problems"]
    assert any(p["path"].endswith(compiled.name) for p in problems)
    out = capsys.readouterr().out
    assert f"fallback {PACKAGE}._fallback in use" in out and "No module named" in out


def _assert_html_section(report: dict[str, Any], compiled: Path) -> None:
    """The HTML report's "Compiled modules": a section of its own, linked from the page's
    navigation, its tables captioned with headers that say their scope."""
    html5lib = pytest.importorskip("html5lib")
    doc = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(render(report))
    section = next(s for s in doc.iter("section") if s.get("id") == "compiled")
    assert section.find("h2").text == "Compiled modules"
    assert any(a.get("href") == "#compiled" for a in doc.iter("a"))
    said = "".join(section.itertext())
    assert "✓ compiled in use" in said and str(compiled) in said
    row = next(tr for tr in section.iter("tr") if "checksum" in "".join(tr.itertext()))
    assert "".join(row[-1].itertext()) == f"{report_ratio(report, 'checksum')}x"
    tables = list(section.iter("table"))
    assert len(tables) == 2 and all(t.find("caption") is not None for t in tables)
    assert all(th.get("scope") in ("col", "row") for t in tables for th in t.iter("th"))
    ids = [el.get("id") for el in doc.iter() if el.get("id")]
    assert len(ids) == len(set(ids))


def report_ratio(report: dict[str, Any], function: str) -> float:
    [pair] = report["verification"]["accelerated"]
    ratio: float = next(b["ratio"] for b in pair["benchmarks"] if b["function"] == function)
    return ratio


def test_the_fallback_in_use_is_said_and_the_environment_still_verified(
    tmp_path: Path, python312: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _source_tree_project(tmp_path / "proj", python312)
    code, report = _run("setup", str(root), "-q", report=tmp_path / "r.json")
    assert code == 0, report["result"]
    [pair] = report["verification"]["accelerated"]
    assert pair["state"] == "in use" and pair["benchmarks"] == []
    compiled = Path(pair["file"])
    assert compiled.parent == root / PACKAGE

    # removed from the project's tree, which the verification's cache does not see: a cached
    # answer is checked again all the same
    compiled.unlink()
    capsys.readouterr()
    code, report = _run("verify", str(root), report=tmp_path / "r2.json")
    assert report["verification"]["cached"] is True
    [pair] = report["verification"]["accelerated"]
    assert pair["state"] == "fallback in use"
    assert f"No module named '{PACKAGE}._native'" in pair["error"]
    assert code == 0 and report["verification"]["verdict"] == "verified"  # the fallback works
    out = capsys.readouterr().out
    assert f"fallback {PACKAGE}._fallback in use" in out

    # a benchmark that is not a list of names, or names what no pair binds: bad input, exit 2
    for value, said in (('"checksum"', "benchmark must be a list"), ('["nope"]', "'nope'")):
        (root / "pyproject.toml").write_text(f"[tool.bulletproof]\nbenchmark = {value}\n")
        code = main(["verify", str(root), "-q"])
        err = capsys.readouterr().err
        assert code == 2
        assert "pyproject.toml" in err and "[tool.bulletproof] benchmark" in err and said in err


@pytest.mark.parametrize(
    ("code", "found"),
    [
        (
            f"try:\n    import {PACKAGE}._native as impl\n"
            f"except ModuleNotFoundError:\n    import {PACKAGE}._fallback as impl\n"
            "def total(text):\n    return impl.checksum(text) + impl.count_tokens(text)\n",
            ("impl", "_native", "_fallback", ("checksum", "count_tokens")),
        ),
        (
            "try:\n    from ._native import checksum as fast\n"
            "except Exception:\n    from ._fallback import checksum as fast\n",
            ("fast", "_native", "_fallback", ("fast",)),
        ),
        (
            f"try:\n    from {PACKAGE} import _native as impl\n"
            f"except (OSError, ImportError):\n    from {PACKAGE} import _fallback as impl\n",
            ("impl", "_native", "_fallback", ()),
        ),
    ],
)
def test_each_shape_of_the_try_except_import_is_found(
    tmp_path: Path, code: str, found: tuple[str, str, str, tuple[str, ...]]
) -> None:
    root = write_project(tmp_path / "proj", "good==1.0\n")
    _write_package(root / PACKAGE)
    (root / PACKAGE / "api.py").write_text(code)
    # not pairs: another distribution's module with a fallback, a handler that catches
    # something else, the same module both ways
    (root / PACKAGE / "other.py").write_text(
        "try:\n    import ujson as json\nexcept ImportError:\n    import json\n"
        f"try:\n    from {PACKAGE}._native import checksum\n"
        f"except KeyError:\n    from {PACKAGE}._fallback import checksum\n"
        f"try:\n    from {PACKAGE}._fallback import checksum\n"
        f"except ImportError:\n    from {PACKAGE}._fallback import checksum\n"
    )
    [pair] = find_pairs(discover(root))
    name, compiled, fallback, functions = found
    assert pair.module == f"{PACKAGE}.api" and pair.where == f"{PACKAGE}/api.py:1"
    assert [b.name for b in pair.bindings] == [name]
    assert (pair.compiled, pair.fallback) == (f"{PACKAGE}.{compiled}", f"{PACKAGE}.{fallback}")
    assert tuple(f for f, _, _ in pair.functions) == functions
