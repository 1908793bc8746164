"""Find the interpreters on this machine and pick the target one."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Protocol

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from bulletproof import proc
from bulletproof.errors import InputError, InterpreterNotFound, ToolError
from bulletproof.host.values import Interpreter, Target
from bulletproof.model import Project

# Runs under every interpreter it finds, Python 2 included, so it must stay 2-compatible.
_QUERY = r"""
import json, os, platform, sys, sysconfig
inc = sysconfig.get_paths().get("include") or ""
print(json.dumps({
    "version": platform.python_version(),
    "implementation": platform.python_implementation().lower(),
    "headers": os.path.exists(os.path.join(inc, "Python.h")),
    "executable": sys.executable,
}))
"""


def _candidates() -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    names = ["python3", "python"] + [f"python3.{minor}" for minor in range(6, 20)]
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if not entry or "shims" in Path(entry).parts[-1:]:
            continue  # pyenv shims are scripts that dispatch elsewhere: take the real ones below
        found += [(Path(entry) / n, "path") for n in names]
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found += [(p, "pyenv") for p in sorted((pyenv_root / "versions").glob("*/bin/python3"))]
    for folder in ("/usr/bin", "/usr/local/bin"):
        found += [(Path(folder) / n, "system") for n in names]
    uv_dir = Path(os.environ.get("UV_PYTHON_INSTALL_DIR") or Path.home() / ".local/share/uv/python")
    found += [(p, "uv") for p in sorted(uv_dir.glob("*/bin/python3"))]
    return found


def query(path: Path, source: str) -> Interpreter | None:
    """Ask an interpreter about itself; None when it is not a working Python 3."""
    try:
        done = proc.run([str(path), "-I", "-c", _QUERY], timeout=20)
    except ToolError:
        return None
    if not done.ok:
        return None
    try:
        facts = json.loads(done.stdout.strip().splitlines()[-1])
        if Version(facts["version"]).major < 3:
            return None
    except (ValueError, KeyError, IndexError, InvalidVersion):
        return None
    return Interpreter(
        path=path,
        version=facts["version"],
        implementation=facts["implementation"],
        has_headers=bool(facts["headers"]),
        source=source,
    )


def find_interpreters() -> tuple[Interpreter, ...]:
    """Every distinct working Python 3 interpreter, newest first."""
    unique: dict[Path, tuple[Path, str]] = {}
    for path, source in _candidates():
        if path.is_file() and os.access(path, os.X_OK):
            unique.setdefault(path.resolve(), (path, source))
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = pool.map(lambda item: query(*item), unique.values())
        found = [i for i in results if i is not None]
    found.sort(key=lambda i: Version(i.version), reverse=True)
    return tuple(found)


def _looks_like_path(value: str) -> bool:
    return os.sep in value or value.startswith(".") or Path(value).name.startswith("python")


def _describe(found: tuple[Interpreter, ...]) -> str:
    if not found:
        return "no Python 3 interpreter was found on PATH, under pyenv, /usr/bin or uv's folder"
    return "found: " + ", ".join(f"{i.version} ({i.path})" for i in found)


def _matches(interp: Interpreter, wanted: str) -> bool:
    """'3.12' matches 3.12.x; '3.12.1' matches only itself; a specifier like '>=3.11' works too."""
    if wanted[:1].isdigit():
        return interp.version == wanted or interp.version.startswith(wanted + ".")
    try:
        return Version(interp.version) in SpecifierSet(wanted)
    except InvalidSpecifier:
        return False


def select_target(project: Project, wanted: str | None, found: tuple[Interpreter, ...]) -> Target:
    """Choose the interpreter: --python, then config, then requires-python, then the newest."""
    if wanted and _looks_like_path(wanted):
        path = Path(wanted).expanduser()
        interp = query(path.absolute(), "given") if path.exists() else None
        if interp is None:
            raise InterpreterNotFound(
                f"--python {wanted}: not a working Python 3 interpreter", hint=_describe(found)
            )
        return Target(interp, f"--python {wanted}")
    for asked, reason in (
        (wanted, "--python"),
        (project.config.python, "[tool.bulletproof] python"),
    ):
        if asked:
            _check_version_text(asked, reason)
            matches = [i for i in found if _matches(i, asked)]
            if not matches:
                raise InterpreterNotFound(
                    f"{reason} {asked}: no interpreter of that version on this machine",
                    hint=_describe(found),
                )
            return Target(matches[0], f"{reason} {asked}")
    if project.requires_python:
        spec = SpecifierSet(project.requires_python)
        matches = [i for i in found if spec.contains(i.version, prereleases=True)]
        if not matches:
            raise InterpreterNotFound(
                f"requires-python {project.requires_python}: no interpreter satisfies it",
                hint=_describe(found),
            )
        return Target(matches[0], f"newest satisfying requires-python {project.requires_python}")
    if not found:
        raise InterpreterNotFound("no Python 3 interpreter found", hint=_describe(found))
    return Target(found[0], "newest interpreter found")


def _check_version_text(value: str, reason: str) -> None:
    try:
        if value[:1].isdigit():
            Version(value)
        else:
            SpecifierSet(value)
    except (InvalidVersion, InvalidSpecifier):
        raise InputError(
            f"{reason} {value!r} is neither a version (3.12), a specifier (>=3.11) nor a path"
        ) from None


def stat_key(path: Path) -> str:
    """Changes when the interpreter binary is replaced (a rebuilt or upgraded pyenv version)."""
    try:
        st = path.resolve().stat()
    except OSError:
        return ""
    return f"{st.st_size}:{st.st_mtime_ns}"


class RecordedInterpreter(Protocol):
    """What a lock records of the interpreter it was made for (lockfile.meta.LockMeta)."""

    @property
    def python(self) -> str: ...
    @property
    def python_path(self) -> str: ...
    @property
    def python_stat(self) -> str: ...
    @property
    def implementation(self) -> str: ...
    @property
    def python_headers(self) -> bool: ...


def target_from_lock(
    meta: RecordedInterpreter, project: Project, wanted: str | None
) -> Target | None:
    """The interpreter an existing lock was made for, if it is still there and still wanted.

    Saves probing every interpreter on the machine when nothing changed (the fast path).
    """
    path, version = Path(meta.python_path), meta.python
    if not (version and path.is_absolute() and meta.python_stat):
        return None  # not recorded whole: probed afresh
    if stat_key(path) != meta.python_stat:  # gone, or replaced since
        return None
    interp = Interpreter(path, version, meta.implementation, meta.python_headers, "lock")
    if wanted and _looks_like_path(wanted):
        fits = Path(wanted).expanduser().resolve() == path.resolve()
        reason = f"--python {wanted}"
    elif wanted:
        fits, reason = _matches(interp, wanted), f"--python {wanted}"
    elif project.config.python:
        fits = _matches(interp, project.config.python)
        reason = f"[tool.bulletproof] python {project.config.python}"
    elif project.requires_python:
        fits = SpecifierSet(project.requires_python).contains(version, prereleases=True)
        reason = f"requires-python {project.requires_python} (as locked)"
    else:
        fits, reason = True, "as locked"
    return Target(interp, reason) if fits else None
