"""Hermetic defaults: no stray index or uv settings, a local wheelhouse, real interpreters."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bulletproof import redaction
from bulletproof.lockfile.lock import UV_RESOLUTION_VARS
from bulletproof.proc import uv_bin
from tests.fixtures.wheels import make_c_extension_wheel, make_sdist, make_wheel
from tests.fresh.system import REPO

# uv and pip settings from the developer's shell must not leak into tests
_LEAKY = (
    *UV_RESOLUTION_VARS,
    "UV_PYTHON",
    "UV_OFFLINE",
    "UV_CONSTRAINT",
    "UV_BUILD_CONSTRAINT",
    "VIRTUAL_ENV",
    "PYTHONPATH",
)


def pyenv_python(minor: str) -> Path | None:
    root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found = sorted(root.glob(f"versions/{minor}.*/bin/python3"))
    if found:
        return found[-1]
    which = shutil.which(f"python{minor}")
    return Path(which) if which else None


def not_here(why: str) -> None:
    """A test this machine cannot run: skipped, except under CI=true, where it is a failure that
    says why (CI's machine is expected to run every test)."""
    if os.environ.get("CI") == "true":
        pytest.fail(why + " (CI must run it)")
    pytest.skip(why)


def need_python(minor: str) -> Path:
    """The interpreter a test needs: skipped where it is missing, except under CI=true, where a
    missing interpreter is a failure (the Makefile's machine is expected to have it)."""
    found = pyenv_python(minor)
    if found is None:
        message = f"no Python {minor} on this machine"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI needs it)")
        pytest.skip(message)
    return found


def _postgresql_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _postgresql_lacks() -> str:
    """What this machine lacks to run a PostgreSQL server of its own ("" when nothing)."""
    if os.geteuid() != 0:
        return "root (the server runs as the postgres user, started with runuser)"
    if shutil.which("runuser") is None:
        return "runuser (util-linux)"
    if _postgresql_bin() is None:
        return "PostgreSQL's server programs (/usr/lib/postgresql/*/bin/initdb)"
    try:
        pwd.getpwnam("postgres")  # made by Debian's postgresql-common
    except KeyError:
        return "the postgres user"
    return ""


def need_postgresql() -> Path:
    """The folder of PostgreSQL's server programs. Where they are missing: installed from
    Debian's packages under CI=true as root (apt-get, as the Makefile installs debootstrap),
    and still missing is a failure that says what is missing; elsewhere the test is skipped."""
    lacks = _postgresql_lacks()
    if lacks and os.environ.get("CI") == "true" and os.geteuid() == 0 and shutil.which("apt-get"):
        for step in (["update", "-q"], ["install", "-y", "-q", "postgresql"]):
            subprocess.run(["apt-get", *step], capture_output=True, check=False)
        lacks = _postgresql_lacks()
    if lacks:
        message = f"a PostgreSQL server needs {lacks}, which this machine lacks"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must run it: apt-get install postgresql, as root)")
        pytest.skip(message)
    found = _postgresql_bin()
    assert found is not None
    return found


@pytest.fixture(scope="session")
def python312() -> Path:
    return need_python("3.12")


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory, python312: Path) -> Path:
    """A find-links folder with small wheels that exercise every verification path."""
    house = tmp_path_factory.mktemp("wheelhouse")
    for version in ("1.0", "2.0"):
        make_wheel(house, "good", version, {"good/__init__.py": f"VERSION = {version!r}\n"})
        for name in ("pkga", "pkgb", "pkgc"):
            make_wheel(
                house,
                name,
                version,
                {
                    f"{name}/__init__.py": f"VERSION = {version!r}\n",
                    # some bulk so an install takes long enough to be interrupted part-way
                    **{
                        f"{name}/data/blob{i}.py": f"# {version}\n" + "x = 1\n" * 4000
                        for i in range(40)
                    },
                },
            )
    make_wheel(house, "nsa", "1.0", {"nsone/alpha/__init__.py": "", "nsone/loose.py": ""})
    make_wheel(house, "nsb", "1.0", {"nsone/beta/__init__.py": ""})
    make_wheel(house, "broken", "1.0", {"broken/__init__.py": "import not_installed_anywhere\n"})
    # an optional part that says it is absent, as PyYAML's _yaml stub does without its C extension
    stub = "raise ModuleNotFoundError(\"No module named 'stubby'\")\n"
    make_wheel(house, "stubby", "1.0", {"stubby/__init__.py": stub})
    make_wheel(
        house,
        "crasher",
        "1.0",
        {"crasher.py": "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n"},
    )
    make_wheel(house, "hanger", "1.0", {"hanger.py": "import time\ntime.sleep(600)\n"})
    # lazy packages: the top imports, a submodule needs what is not there (a module, a library)
    make_wheel(
        house,
        "lazyopt",
        "1.0",
        {"lazyopt/__init__.py": "", "lazyopt/extra.py": "import qwzx_never_required\n"},
    )
    make_wheel(
        house,
        "lazylib",
        "1.0",
        {
            "lazylib/__init__.py": "",
            "lazylib/native.py": "import ctypes\nctypes.CDLL('libqwzx-nowhere.so.7')\n",
        },
    )
    make_wheel(house, "printer", "1.0", {"printer.py": "print('{not json')\nprint('x' * 100000)\n"})
    make_wheel(house, "needs-good-two", "1.0", {"needs_good_two.py": ""}, requires=("good>=2",))
    make_wheel(
        house,
        "odd",
        "1.0",
        {"odd/__init__.py": "", "odd/is_odd.py": "", "odd-1.0.data/scripts/tool": "#!x\n"},
        top_level=("odd", "scripts", "testing", "odd/discovery_cache"),
    )
    # what the mitigation engine fixes: a removed stdlib API (a newer release fixed it) and
    # distutils, gone in 3.12, in a package with no newer release (another interpreter fixes it)
    old_api = "from inspect import formatargspec\n"
    make_wheel(house, "oldapi", "1.0", {"oldapi/__init__.py": old_api})
    make_wheel(house, "oldapi", "1.1", {"oldapi/__init__.py": "from inspect import signature\n"})
    make_wheel(house, "distlegacy", "1.0", {"distlegacy/__init__.py": "import distutils\n"})
    make_c_extension_wheel(house, python312)
    make_sdist(house, "fromsource", "1.0", {"fromsource/__init__.py": "BUILT = True\n"})
    return house


@pytest.fixture(autouse=True)
def hermetic(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    for name in _LEAKY:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("UV_PYTHON_DOWNLOADS", "never")
    monkeypatch.setenv("COLUMNS", "200")  # rich wraps at 80 otherwise, splitting asserted text
    # sdists doctor reads are cached per user: keep the tests' own apart
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture(autouse=True)
def forget_secrets() -> Iterator[None]:
    """The redactor's registry is process-wide: one test's secrets are not the next one's."""
    redaction.reset()
    yield
    redaction.reset()


@pytest.fixture
def local_index(
    monkeypatch: pytest.MonkeyPatch, wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """Resolve and install only from the test wheelhouse, with a cache of the session's own."""
    only_from(monkeypatch, wheelhouse)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "uv-cache"))
    return wheelhouse


def only_from(monkeypatch: pytest.MonkeyPatch, house: Path | str) -> None:
    """uv resolves and installs from the folder ``house`` alone. The index is an empty local
    folder: the uv this tool ships does not read UV_NO_INDEX (set too, for one that does), and a
    test package named like one on the registry must never be taken from there."""
    empty = Path(tempfile.gettempdir()) / "bulletproof-tests-empty-index"
    empty.mkdir(exist_ok=True)
    monkeypatch.setenv("UV_INDEX_URL", empty.as_uri())
    monkeypatch.setenv("UV_NO_INDEX", "1")
    monkeypatch.setenv("UV_FIND_LINKS", str(house))


def write_project(root: Path, requirements: str, *, pyproject: str | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "requirements.txt").write_text(requirements)
    if pyproject is not None:
        (root / "pyproject.toml").write_text(pyproject)
    return root


def verify_tests_report(root: Path) -> tuple[int, dict[str, Any]]:
    """``verify --tests`` on a project: its exit code and the JSON report's tests section."""
    import json

    from bulletproof.cli import main

    out = root.parent / "r.json"
    code = main(["verify", str(root), "--tests", "-q", "--json", str(out)])
    tests: dict[str, Any] = json.loads(out.read_text())["tests"]
    return code, tests


def snapshot(root: Path) -> dict[str, str]:
    """Every path under root with what it is (a file's bytes digest, a link's target)."""
    import hashlib

    state = {}
    for path in sorted(root.rglob("*")):
        rel = str(path.relative_to(root))
        if path.is_symlink():
            state[rel] = "-> " + str(path.readlink())
        elif path.is_file():
            state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            state[rel] = "dir"
    return state


@pytest.fixture
def uv_venv(tmp_path: Path, python312: Path) -> Iterator[Path]:
    env = tmp_path / "venv"
    subprocess.run([uv_bin(), "venv", str(env), "--python", str(python312), "-q"], check=True)
    yield env


def install_into(env: Path, house: Path, *names: str) -> None:
    """Install wheels from the test wheelhouse into a venv with plain uv (no bulletproof)."""
    python = str(env / "bin" / "python")
    args = ["pip", "install", "-q", "--no-index", "--find-links", str(house), "--python", python]
    subprocess.run([uv_bin(), *args, *names], check=True)


@pytest.fixture(scope="session")
def tool_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """This repository's wheel, built once per test process (no root needed)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [uv_bin(), "build", "--wheel", "--out-dir", str(out), str(REPO)],
        check=True,
        capture_output=True,
    )
    return next(out.glob("bulletproof-*.whl"))


@pytest.fixture(scope="session")
def bulletproof_wheel(tool_wheel: Path) -> Path:
    """bulletproof built as a wheel, for installing into fresh systems (which need root)."""
    if os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail("fresh systems need root (chroot, mount), and CI runs as root")
        pytest.skip("fresh systems need root (chroot, mount)")
    assert shutil.which("debootstrap"), "debootstrap is missing: `make test-deps` installs it"
    return tool_wheel
