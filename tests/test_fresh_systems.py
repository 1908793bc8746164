"""Acceptance on fresh Debian 12 and 13 systems (debootstrap): every public case on both
releases (one of each kind in CI's `make test`, all of them in `make test-all`); for those of
kind "build", doctor predicts the build and names this release's packages before anything is
installed; `setup --yes` ends with an environment whose modules import; and packages no
signature or table names (built in the test) are fixed through the distro's file index on both
releases.

Needs root, debootstrap and the package registries; `make test` runs it (CI runs as root).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from bulletproof.tomlcompat import tomllib
from tests.fixtures.wheels import make_wheel, write_sdist
from tests.fresh.system import FreshSystem, fresh_system

pytestmark = [pytest.mark.fresh, pytest.mark.registry, pytest.mark.slow]

CASES = tomllib.loads((Path(__file__).parent / "fresh/public-cases.toml").read_text())["case"]
# One case of every kind on both releases runs in CI (`make test`): a build that needs system
# libraries, a build tool too new for the sdist, a shared library an import needs, a pin with no
# working artefact, the mixed set, the plan's own set. The rest of the matrix is `make test-all`.
IN_CI = {"p-psycopg2", "p-pyyaml-cython3", "p-magic", "p-wrapt-old", "p-mixed", "p-seed"}


def _cases(kind_is_build: bool) -> list[Any]:
    return [
        pytest.param(c, id=c["id"], marks=() if c["id"] in IN_CI else pytest.mark.exhaustive)
        for c in CASES
        if (c["kind"] == "build") == kind_is_build
    ]


BUILD_CASES, OTHER_CASES = _cases(True), _cases(False)
PYTHON = {"bookworm": "3.11", "trixie": "3.13"}
PKG_CONFIG = {"bookworm": "pkg-config", "trixie": "pkgconf"}
# What a person who knows Debian would install for each case: the oracle doctor is held to.
EXPECTED = {
    "p-psycopg2": ("gcc", "libc6-dev", "python{py}-dev", "libpq-dev"),
    "p-mysqlclient": ("gcc", "python{py}-dev", "default-libmysqlclient-dev", "{pkgconfig}"),
    "p-pyyaml-cython3": ("gcc", "python{py}-dev"),
    "p-pyaudio": ("gcc", "python{py}-dev", "portaudio19-dev"),
}


def _case_dir(system: FreshSystem, case: Mapping[str, Any]) -> None:
    folder = system.path("/work/case")
    folder.mkdir(parents=True)
    requirements = case["requirements"]
    assert isinstance(requirements, list)
    (folder / "requirements.txt").write_text("\n".join(requirements) + "\n")


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
@pytest.mark.parametrize("case", BUILD_CASES)
def test_build_case_on_fresh_debian(
    suite: str, case: dict[str, Any], bulletproof_wheel: Path, tmp_path: Path
) -> None:
    with fresh_system(suite, tmp_path, bulletproof_wheel) as system:
        _case_dir(system, case)
        bp = "/opt/bulletproof/bin/bulletproof"

        doctor = system.run([bp, "doctor", "/work/case", "--json", "/work/doctor.json"])
        assert doctor.returncode in (0, 1), doctor.stderr
        report = json.loads(system.path("/work/doctor.json").read_text())["diagnosis"]
        ids = {f["id"] for f in report["findings"]}
        for requirement in case["requirements"]:
            name = str(requirement).split("==")[0].lower()
            assert f"build:{name}" in ids, f"doctor did not predict the build of {name}: {ids}"
        missing = set(report["system"]["missing"])
        wanted = {
            p.format(py=PYTHON[suite], pkgconfig=PKG_CONFIG[suite]) for p in EXPECTED[case["id"]]
        }
        assert wanted <= missing, f"doctor missed {wanted - missing} on {suite}"
        # every name it proposes exists on this release (asked of apt, not of bulletproof)
        policy = system.must(["apt-cache", "policy", *sorted(missing)])
        assert "Candidate: (none)" not in policy
        assert policy.count("Candidate:") == len(missing), policy
        assert not system.path("/work/case/pylock.toml").exists(), "doctor changed the project"

        _setup_verifies(system, case)
        installed = system.must(["dpkg-query", "--show", "--showformat=${Package}\\n"]).split()
        assert wanted <= set(installed)


def _setup_verifies(system: FreshSystem, case: dict[str, Any]) -> dict[str, Any]:
    """`setup /work/case --yes` ends verified (exit 0), or usable (exit 4: every failure left is
    listed as one no environment change fixes, e.g. an optional submodule), and every listed
    module imports."""
    bp = "/opt/bulletproof/bin/bulletproof"
    setup = system.run([bp, "setup", "/work/case", "--yes", "--json", "/work/setup.json"])
    assert setup.returncode in (0, 4), (
        f"setup failed on {system.suite}:\n{setup.stdout}\n{setup.stderr[-4000:]}"
    )
    result: dict[str, Any] = json.loads(system.path("/work/setup.json").read_text())
    verification = result["verification"]
    assert verification["verdict"] == ("verified" if setup.returncode == 0 else "usable")
    kinds = {j["kind"] for j in verification["judged"]}
    assert not kinds & {"broken", "undeclared"}, verification["judged"]
    for module in case["imports"]:
        system.must(["/work/case/.venv/bin/python", "-c", f"import {module}"])
    return result


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
@pytest.mark.parametrize("case", OTHER_CASES)
def test_case_on_fresh_debian(
    suite: str, case: dict[str, Any], bulletproof_wheel: Path, tmp_path: Path
) -> None:
    """Every other public case on both releases; where the case was found failing (its own
    suite), a pin case must have moved its pin (elsewhere the pinned release may just work)."""
    with fresh_system(suite, tmp_path, bulletproof_wheel) as system:
        _case_dir(system, case)
        result = _setup_verifies(system, case)
        if case["kind"] == "pin" and suite == case["suite"]:  # moved in the lock only
            moved = [a for a in result["mitigation"] if a["fix"] and a["fix"]["kind"] == "pin"]
            assert moved and moved[-1]["outcome"] == "fixed", result["mitigation"]
            lock = system.path("/work/case/pylock.toml").read_text()
            assert "[[tool.bulletproof.moved-pins]]" in lock
            wanted = "\n".join(case["requirements"]) + "\n"
            assert system.path("/work/case/requirements.txt").read_text() == wanted


def test_file_index_fixes_a_package_nothing_names(bulletproof_wheel: Path, tmp_path: Path) -> None:
    """pylibdmtx is in no table and no signature names it: a project that reads Data Matrix
    labels fails at import with only "Unable to find dmtx shared library"; the resolver searches
    the archive's Contents index for libdmtx.so* and installs the package that has it."""
    with fresh_system("bookworm", tmp_path, bulletproof_wheel) as system:
        project = system.path("/work/case")
        (project / "labels").mkdir(parents=True)
        (project / "pyproject.toml").write_text(
            '[project]\nname = "labels"\nversion = "0.1"\ndependencies = ["pylibdmtx==0.1.10"]\n'
        )
        (project / "labels" / "__init__.py").write_text("from pylibdmtx import pylibdmtx\n")
        result = _setup_verifies(system, {"imports": ["pylibdmtx.pylibdmtx"]})
        fixed = [a for a in result["mitigation"] if a["outcome"] == "fixed"]
        # the project and pylibdmtx's own submodule fail the same way: one fix answers both
        assert {(a["package"], a["fix"]["kind"], a["fix"]["value"]) for a in fixed} == {
            ("labels", "system", "libdmtx0b"),
            ("pylibdmtx", "system", "libdmtx0b"),
        }
        assert "Unable to find dmtx shared library" in fixed[0]["evidence"][0]


_CODEC_SETUP = """
from setuptools import Extension, setup
setup(ext_modules=[Extension("qwzxcodec._codec", ["codec.c"], libraries=["speex"])])
"""
_CODEC_C = """
#include <Python.h>
#include <speex/speex.h>
static struct PyModuleDef m = {PyModuleDef_HEAD_INIT, "_codec", 0, -1, 0};
PyMODINIT_FUNC PyInit__codec(void) { SpeexBits b; speex_bits_init(&b); return PyModule_Create(&m); }
"""
# the lazy package: its top level imports; its submodule looks for a library and, not finding it,
# fails in words of its own
_VOICE = {
    "qwzxvoice/__init__.py": "",
    "qwzxvoice/codec.py": "import ctypes, ctypes.util\n_path = ctypes.util.find_library('gsm')\n"
    "if _path is None:\n    raise OSError('qwzx: the voice lattice is absent (code 41)')\n"
    "LIB = ctypes.CDLL(_path)\n",
}


def _unnamed_house(house: Path) -> None:
    """A wheel and an sdist that no signature, table or code names, built for this test."""
    house.mkdir(parents=True)
    make_wheel(house, "qwzxvoice", "1.0", dict(_VOICE))
    write_sdist(
        house,
        "qwzxcodec",
        "1.0",
        {
            "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
            'build-backend = "setuptools.build_meta"\n'
            '[project]\nname = "qwzxcodec"\nversion = "1.0"\n',
            "setup.py": _CODEC_SETUP,
            "codec.c": _CODEC_C,
            "qwzxcodec/__init__.py": "from qwzxcodec import _codec\n",
        },
    )


@pytest.mark.parametrize("suite", ["bookworm", "trixie"])
def test_packages_nothing_names_are_repaired(
    suite: str, bulletproof_wheel: Path, tmp_path: Path
) -> None:
    """A build that needs a header (a novel package's C extension including speex/speex.h) and
    a lazy package whose submodule does not find a library and says so in its own words: the
    file index (or, where its Contents cannot be verified, apt's lists) names the packages."""
    with fresh_system(suite, tmp_path, bulletproof_wheel) as system:
        _unnamed_house(system.path("/work/house"))
        project = system.path("/work/case")
        project.mkdir(parents=True)
        (project / "requirements.txt").write_text("qwzxvoice==1.0\nqwzxcodec==1.0\n")
        bp = "/opt/bulletproof/bin/bulletproof"
        setup = system.run(
            [bp, "setup", "/work/case", "--yes", "--json", "/work/setup.json"],
            env=["UV_FIND_LINKS=/work/house"],
        )
        assert setup.returncode == 0, f"{setup.stdout}\n{setup.stderr[-4000:]}"
        result = json.loads(system.path("/work/setup.json").read_text())
        fixed = {
            (a["package"], a["fix"]["value"])
            for a in result["mitigation"]
            if a["outcome"] == "fixed" and a["fix"]["kind"] == "system"
        }
        assert ("qwzxcodec", "libspeex-dev") in fixed, result["mitigation"]
        assert any(p == "qwzxvoice" and v.startswith("libgsm1") for p, v in fixed), fixed
        for module in ("qwzxvoice.codec", "qwzxcodec"):
            system.must(["/work/case/.venv/bin/python", "-c", f"import {module}"])


_TOOL_SETUP = """
import shutil, sys
from setuptools import setup
if shutil.which("xsltproc") is None:
    sys.exit("`xsltproc` binary is required to build qwzxtool")
setup(name="qwzxtool", version="1.0", py_modules=["qwzxtool"])
"""


# the project's own build: a program it runs while building (the wheel only: its metadata
# builds), or while its metadata is read (the resolver's build of it fails)
_OWN_SETUP = """
import shutil, sys
from setuptools import setup
if {when} and shutil.which("{program}") is None:
    sys.exit("`{program}` binary is required to build this project")
setup(name="{name}", version="0.1", packages=["{name}"])
"""


def _own_project(root: Path, name: str, program: str, *, at_metadata: bool) -> None:
    when = "True" if at_metadata else '{"bdist_wheel", "editable_wheel"} & set(sys.argv)'
    (root / name).mkdir(parents=True)
    (root / name / "__init__.py").write_text("READY = True\n")
    (root / "setup.py").write_text(_OWN_SETUP.format(when=when, program=program, name=name))
    (root / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n'
    )


@pytest.mark.parametrize(
    "suite", ["bookworm", pytest.param("trixie", marks=pytest.mark.exhaustive)]
)
def test_what_the_failure_names_and_a_missing_standard_module_come_from_the_system(
    suite: str, bulletproof_wheel: Path, tmp_path: Path
) -> None:
    """A build script that says only "`xsltproc` binary is required" (no signature, table or code
    names the package or the wording) is answered by the package the file index has for that
    program, before any pin or build-tool move; the project's code imports tkinter, which the
    system's Python lacks until its system package is installed: never looked for on the index."""
    with fresh_system(suite, tmp_path, bulletproof_wheel) as system:
        house = system.path("/work/house")
        house.mkdir(parents=True)
        write_sdist(
            house,
            "qwzxtool",
            "1.0",
            {
                "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
                'build-backend = "setuptools.build_meta"\n',
                "setup.py": _TOOL_SETUP,
                "qwzxtool.py": "READY = True\n",
            },
            static=False,
        )
        project = system.path("/work/case")
        (project / "qwzxgui").mkdir(parents=True)
        (project / "requirements.txt").write_text("qwzxtool==1.0\n")
        (project / "qwzxgui" / "__init__.py").write_text("import tkinter\nimport qwzxtool\n")
        bp = "/opt/bulletproof/bin/bulletproof"
        setup = system.run(
            [bp, "setup", "/work/case", "--yes", "--json", "/work/setup.json"],
            env=["UV_FIND_LINKS=/work/house"],
        )
        assert setup.returncode == 0, f"{setup.stdout}\n{setup.stderr[-4000:]}"
        result = json.loads(system.path("/work/setup.json").read_text())
        fixes = [
            (a["package"], a["fix"]["kind"], a["fix"]["value"], a["outcome"])
            for a in result["mitigation"]
            if a["fix"]
        ]
        assert ("qwzxtool", "system", "xsltproc", "fixed") in fixes, fixes
        # the program named came first: no pin or build-tool move for qwzxtool
        assert [f for f in fixes if f[0] == "qwzxtool" and f[1] != "system"] == [], fixes
        assert any(k == "system" and v == "python3-tk" and o == "fixed" for _, k, v, o in fixes)
        assert not any(k == "requirement" for _, k, _, _ in fixes), fixes  # not from the index
        system.must(["/work/case/.venv/bin/python", "-c", "import tkinter, qwzxtool"])

        # the project's own build names a program: installed, and the project built and
        # installed, whether it fails while building its wheel or while its metadata is read
        for name, program, at_metadata in (("qwzxown", "bc", False), ("qwzxmeta", "dc", True)):
            own = system.path(f"/work/{name}")
            _own_project(own, name, program, at_metadata=at_metadata)
            report = f"/work/{name}.json"
            setup = system.run([bp, "setup", f"/work/{name}", "--yes", "--json", report])
            assert setup.returncode == 0, f"{setup.stdout}\n{setup.stderr[-4000:]}"
            result = json.loads(system.path(report).read_text())
            made = [
                (a["package"], a["fix"]["value"], a["outcome"])
                for a in result["mitigation"]
                if a["fix"]
            ]
            assert (name, program, "fixed") in made, made
            system.must(
                [
                    f"/work/{name}/.venv/bin/python",
                    "-c",
                    f"import importlib.metadata as m; m.version({name!r})",
                ]
            )
