"""What the wheelhouse makes here rather than downloads: a wheel for each package the target has
only an sdist of (built by `uv build --wheel` for the target interpreter, with the build
constraints the environment was built with), and the project's own build requirements resolved
for the target (so its editable install needs no network at the other end)."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from bulletproof import proc
from bulletproof.errors import BuildError, ToolError
from bulletproof.model import Project
from bulletproof.tomlcompat import tomllib
from bulletproof.wheelhouse.choose import Artefact

BUILD_TIMEOUT = 1800.0
RESOLVE_TIMEOUT = 600.0
# what a setup.py project without [build-system] is built with (PEP 517's fallback, as uv does)
LEGACY_BUILD_REQUIRES = ("setuptools>=40.8.0",)


def build_wheel(
    sdist: Path, artefact: Artefact, python: Path, constraints: Path | None, out: Path
) -> Path:
    """The sdist built to a wheel in ``out``; BuildError with uv's output when it does not build."""
    with tempfile.TemporaryDirectory(dir=out, prefix=".build-") as scratch:
        command = [
            proc.uv_bin(),
            "build",
            "--wheel",
            "--python",
            str(python),
            "--out-dir",
            scratch,
            "--quiet",
        ]
        if constraints is not None and constraints.is_file():
            command += ["--build-constraints", str(constraints)]
        done = proc.run([*command, str(sdist)], cwd=out, timeout=BUILD_TIMEOUT)
        built = sorted(Path(scratch).glob("*.whl"))
        if not done.ok or len(built) != 1:
            raise BuildError(
                f"could not build a wheel of {artefact.name} {artefact.version} from its sdist",
                detail=done.stderr or done.stdout,
            )
        target = out / built[0].name
        shutil.move(str(built[0]), target)
        return target


def build_requirements(project: Project) -> tuple[str, ...]:
    """The project's own [build-system] requires; () when it is not installed as a package."""
    if not project.installable:
        return ()
    pyproject = project.root / "pyproject.toml"
    if pyproject.is_file():
        with pyproject.open("rb") as handle:
            system = tomllib.load(handle).get("build-system")
        if isinstance(system, dict) and "requires" in system:
            return tuple(str(r) for r in system.get("requires") or ())
    return LEGACY_BUILD_REQUIRES


def resolve_build_tools(requires: tuple[str, ...], python: Path, cwd: Path, scratch: Path) -> Path:
    """A PEP 751 lock of ``requires`` and what they need, for ``python`` (uv, with the index
    settings the project's folder gives); its path."""
    out = scratch / "pylock.toml"  # uv insists on the pylock[.name].toml form
    done = proc.run(
        [
            proc.uv_bin(),
            "pip",
            "compile",
            "-",
            "-o",
            str(out),
            "--python",
            str(python),
            "--quiet",
            "--no-header",
        ],
        cwd=cwd,
        stdin="\n".join(requires) + "\n",
        timeout=RESOLVE_TIMEOUT,
    )
    if not done.ok:
        raise ToolError(
            f"could not resolve the project's build requirements ({', '.join(requires)})",
            detail=done.stderr,
        )
    return out


# run in the project's folder by an environment of its build requirements: what its backend adds
# for an editable install (hatchling: editables; older setuptools: wheel), which the static
# [build-system] requires do not say
_ASK_BACKEND = r"""
import importlib, json, os, sys
spec, paths = sys.argv[1], json.loads(sys.argv[2])
sys.path[:0] = [os.path.abspath(p) for p in paths]
module, _, attribute = spec.partition(":")
backend = importlib.import_module(module)
for part in filter(None, attribute.split(".")):
    backend = getattr(backend, part)
asked = []
for hook in ("get_requires_for_build_editable", "get_requires_for_build_wheel"):
    if hasattr(backend, hook):
        asked += list(getattr(backend, hook)(None))
print(json.dumps(asked))
"""
LEGACY_BACKEND = "setuptools.build_meta:__legacy__"


def _backend(project: Project) -> tuple[str, list[str]]:
    pyproject = project.root / "pyproject.toml"
    system: object = None
    if pyproject.is_file():
        with pyproject.open("rb") as handle:
            system = tomllib.load(handle).get("build-system")
    if not isinstance(system, dict):
        return LEGACY_BACKEND, []
    return str(system.get("build-backend") or LEGACY_BACKEND), list(system.get("backend-path", []))


def backend_requirements(
    project: Project, python: Path, house: Path, requires: tuple[str, ...]
) -> tuple[str, ...]:
    """What the project's backend asks for besides ``requires`` to build it editable, asked of
    it in a scratch environment installed from ``house`` alone (so the static part is proved
    to install offline too); () when it asks for nothing more."""
    uv = proc.uv_bin()
    with tempfile.TemporaryDirectory(prefix="bulletproof-backend-") as scratch:
        env = Path(scratch) / "venv"
        for command in (
            [uv, "venv", str(env), "--python", str(python), "--quiet"],
            [
                uv,
                "pip",
                "install",
                "--offline",
                "--no-index",
                "--find-links",
                str(house),
                "--python",
                str(env / "bin" / "python"),
                "--quiet",
                *requires,
            ],
        ):
            done = proc.run(command, cwd=project.root, timeout=RESOLVE_TIMEOUT)
            if not done.ok:
                raise ToolError(
                    "the project's build requirements do not install from the wheelhouse",
                    detail=done.stderr,
                )
        spec, paths = _backend(project)
        done = proc.run(
            [str(env / "bin" / "python"), "-c", _ASK_BACKEND, spec, json.dumps(paths)],
            cwd=project.root,
            venv=env,
            env=dict(project.build_env),
            timeout=RESOLVE_TIMEOUT,
        )
    try:
        asked = json.loads(done.stdout.strip().splitlines()[-1]) if done.ok else []
    except (ValueError, IndexError):
        asked = []
    return tuple(r for r in (str(a) for a in asked) if r not in requires)
