"""scripts/dev-setup.sh for a project's new developers: a POSIX shell script that installs
bulletproof in a venv of its own (pinned; a wheel's sha256 checked), then runs `setup` with the
options the project needs and `verify --tests`. The shell itself is ``devsetup.sh.in`` beside
this module; what differs per project is written into its head, each value shell-quoted.

A wheel the script installs (``--tool-source`` a wheel or a source folder) is written beside the
script, where it finds it from its own place: committed with it, a clone has both. It is never
written over a different file of the same name unless ``--force``."""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import parse_wheel_filename

from bulletproof import __version__
from bulletproof.errors import InputError
from bulletproof.generate.owned import write_generated
from bulletproof.generate.toolsource import ToolSource
from bulletproof.lockfile.pylock import LOCK_NAME, read_lock_meta
from bulletproof.model import Project

NAME = Path("scripts") / "dev-setup.sh"
TEMPLATE = Path(__file__).with_name("devsetup.sh.in")
PYTHON_MIN = "3.10"  # when this install's metadata does not say (pyproject's requires-python)
MODE = 0o755


@dataclass(frozen=True)
class ToolInstall:
    """How the script installs bulletproof."""

    key: str  # the venv's folder under BULLETPROOF_HOME: the version when known
    requirement: str  # what pip installs from the index; "" when a wheel is installed
    wheel: Path | None  # the wheel to place beside the script
    wheel_sha256: str
    describe: str  # one line for the header


@dataclass(frozen=True)
class WrittenScript:
    script: Path
    wheel: Path | None  # the wheel written beside it, if any
    setup_options: tuple[str, ...]


def tool_install(source: ToolSource) -> ToolInstall:
    describe = source.describe()
    if source.wheel is not None:
        version = str(parse_wheel_filename(source.wheel.name)[1])
        return ToolInstall(version, "", source.wheel, source.sha256, describe)
    return ToolInstall(_requirement_key(source.requirement), source.requirement, None, "", describe)


def _requirement_key(requirement: str) -> str:
    """The venv's folder for a requirement: its version when pinned to one, else named by a
    digest of the requirement (another requirement, another venv)."""
    try:
        specifiers = list(Requirement(requirement).specifier)
    except InvalidRequirement:
        specifiers = []
    if len(specifiers) == 1 and specifiers[0].operator in ("==", "==="):
        pinned = specifiers[0].version
        if "*" not in pinned:
            return pinned
    return "req-" + hashlib.sha256(requirement.encode()).hexdigest()[:12]


def setup_options(project: Project) -> tuple[str, ...]:
    """setup's options for this project beyond what its own [tool.bulletproof] says: the
    extras and groups its lock records being asked for on the command line. None where the
    project has no lock of bulletproof's (setup's defaults: the dev extras and groups)."""
    asked = read_lock_meta(project.root / LOCK_NAME).selection
    if asked is None:
        return ()
    own = project.config.selection
    options: list[str] = []
    options += [f"--extra={e}" for e in asked.extras if e not in own.extras]
    options += [f"--group={g}" for g in asked.groups if g not in own.groups]
    options += [f"--only-group={g}" for g in asked.only_groups]
    if asked.all_extras and not own.all_extras:
        options.append("--all-extras")
    if not asked.dev and own.dev:
        options.append("--no-dev")
    return tuple(options)


def render(project: Project, script: Path, tool: ToolInstall, options: tuple[str, ...]) -> str:
    """The script's text for ``project``, to be written at ``script``."""
    values = {
        "HEADER": _header(project, script, tool, options),
        "PROJECT_FROM_SCRIPT": shlex.quote(_project_from(script.parent, project.root)),
        "TOOL_KEY": shlex.quote(tool.key),
        "TOOL_REQUIREMENT": shlex.quote(tool.requirement),
        "TOOL_WHEEL": shlex.quote(tool.wheel.name if tool.wheel else ""),
        "TOOL_WHEEL_SHA256": shlex.quote(tool.wheel_sha256),
        "PYTHON_MIN": shlex.quote(python_min()),
        "SETUP_OPTIONS": " ".join(shlex.quote(o) for o in options),
    }
    text = TEMPLATE.read_text(encoding="utf-8")
    text = re.sub(r"@@([A-Z0-9_]+)@@", lambda m: values[m.group(1)], text)
    return text.replace('set --  "$@"', 'set -- "$@"')  # no options: no double space


def python_min() -> str:
    """The oldest Python bulletproof runs on, as its metadata's Requires-Python says (>=X.Y)."""
    try:
        found = metadata.metadata("bulletproof")
    except metadata.PackageNotFoundError:
        return PYTHON_MIN
    requires = (found.get_all("Requires-Python") or [""])[0]
    floors = [s.version for s in SpecifierSet(requires) if s.operator == ">="]
    return floors[0] if len(floors) == 1 and re.fullmatch(r"\d+\.\d+", floors[0]) else PYTHON_MIN


def _project_from(folder: Path, root: Path) -> str:
    """The project's folder as the script finds it from its own: relative inside the project
    (a clone anywhere works), absolute when the script is written outside it."""
    folder, root = folder.resolve(), root.resolve()
    if folder == root or root in folder.parents:
        return os.path.relpath(root, folder)
    return str(root)


def _header(project: Project, script: Path, tool: ToolInstall, options: tuple[str, ...]) -> str:
    where = _display(script, project.root)
    how = " ".join(("setup", *options)) if options else "setup"
    lines = [
        f"{where}: set up {project.name}'s development environment on a new machine.",
        f"Written by `bulletproof generate script` (bulletproof {__version__}); run that again",
        "rather than editing this file: an edited copy is yours, and is never written over.",
        "",
        "What it does, each step said as it goes; a second run changes nothing:",
        f"  1. installs bulletproof in a venv of its own, $BULLETPROOF_HOME/{tool.key}",
        "     (default ${XDG_DATA_HOME:-~/.local/share}/bulletproof/" + tool.key + "),",
        f"     unless it is there already: {tool.describe}",
        f"  2. bulletproof {how}: locks, builds {project.name}'s .venv, verifies every import",
        "  3. bulletproof verify --tests: verifies it again and runs the project's tests",
        "",
        "Usage: sh " + where + " [SETUP OPTIONS], from any folder; the options go to setup, e.g.",
        "  --yes (let setup install the system packages the project needs), --python 3.11.",
        "Exit codes: 0 verified; 4 usable (what the code imports works, what is left is optional,",
        "guarded or the project's own code); 6 incomplete (the best environment that could be",
        "built, what it lacks listed); 1 failed; 2 bad input; 3 another run holds the project.",
        "Settings: BULLETPROOF_HOME (where bulletproof's venv goes), BULLETPROOF_PYTHON (the",
        "python3 that makes it).",
    ]
    return "\n".join(f"# {line}".rstrip() for line in lines)


def _display(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def write_script(
    project: Project, source: ToolSource, *, output: Path | None = None, force: bool = False
) -> WrittenScript:
    """Write the script (mode 0755) and the wheel it installs, if any, beside it."""
    script = output if output is not None else project.root / NAME
    tool = tool_install(source)
    wheel = script.parent / tool.wheel.name if tool.wheel is not None else None
    if tool.wheel is not None and wheel is not None:
        _check_wheel_place(tool.wheel, wheel, force=force)  # before anything is written
    options = setup_options(project)
    script.parent.mkdir(parents=True, exist_ok=True)
    write_generated(script, render(project, script, tool, options), force=force)
    script.chmod(MODE)  # a replaced file keeps its mode otherwise; this one must run
    if tool.wheel is not None and wheel is not None and not _same_file(tool.wheel, wheel):
        if wheel.is_symlink() or wheel.exists():
            wheel.unlink()  # --force: a link is replaced, never written through
        shutil.copyfile(tool.wheel, wheel)
        wheel.chmod(0o644)
    return WrittenScript(script, wheel, options)


def _check_wheel_place(source: Path, place: Path, *, force: bool) -> None:
    if place.is_dir() and not place.is_symlink():
        raise InputError(f"{place} is a folder: the wheel is not written there, nor the script")
    if place.is_symlink() and not force:
        raise InputError(
            f"{place} is a link, which is not followed: it is left as it is, and so is the script",
            hint="--force replaces the link with the wheel",
        )
    if place.exists() and not force and not _same_file(source, place):
        raise InputError(
            f"{place} is there and is not this wheel: it is left as it is, and so is the script",
            hint="--force replaces it; --output PATH writes the script (and the wheel) elsewhere",
        )


def _same_file(a: Path, b: Path) -> bool:
    if b.is_symlink() or not b.is_file():
        return False
    return a.resolve() == b.resolve() or a.read_bytes() == b.read_bytes()
