"""`generate container`: a Containerfile and .devcontainer/devcontainer.json that build the
project's environment the way setup builds it here, and prove it while the image builds.

Three steps, each usable alone (``prove --fresh`` renders and builds these files itself):
``plan_container`` gathers what the files are made from (the project's target interpreter, the
base image for it, the system packages found, where bulletproof comes from) as one value;
``render_container`` turns it into the files' text, changing nothing; ``write_container`` writes
them under the ownership rule of ``owned.py`` and carries a wheel of bulletproof into the build
context (DIR/.bulletproof/container/, the one folder the build copies from DIR/.bulletproof).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bulletproof import __version__
from bulletproof.apply.statedir import open_state, remove
from bulletproof.errors import InputError
from bulletproof.fsutil import build_outputs
from bulletproof.generate.containerplan import BaseImage, ContainerFiles, ContainerPlan
from bulletproof.generate.containertext import containerfile, containerignore, devcontainer
from bulletproof.generate.owned import check_replaceable, write_generated
from bulletproof.generate.script import setup_options
from bulletproof.generate.systemfound import found_packages
from bulletproof.generate.toolsource import ToolSource
from bulletproof.host.osinfo import read_os_info
from bulletproof.lockfile.lock import LOCK_NAME
from bulletproof.lockfile.pylock import read_lock_meta
from bulletproof.model import OsInfo, Project

CONTAINERFILE = "Containerfile"
DEVCONTAINER = ".devcontainer/devcontainer.json"
CONTAINERIGNORE = ".containerignore"
STATE = ".bulletproof"
CONTEXT = f"{STATE}/container"  # in the build context: the wheel of bulletproof, when one is used
# the python3 each release ships: a base whose python3 is the project's target needs no --python
RELEASE_PYTHON = {
    "debian": {"bullseye": "3.9", "bookworm": "3.11", "trixie": "3.13"},
    "ubuntu": {"jammy": "3.10", "noble": "3.12"},
}
# the default base for a target interpreter some Debian release ships as its python3
DEBIAN_FOR_PYTHON = {"3.11": "bookworm", "3.13": "trixie"}
FALLBACK_RELEASE = "trixie"  # a host with no apt: Debian's current stable

# the API, with the values it passes (defined in containerplan.py; prove --fresh imports them here)
__all__ = [
    "CONTAINERFILE",
    "CONTAINERIGNORE",
    "CONTEXT",
    "DEVCONTAINER",
    "RELEASE_PYTHON",
    "BaseImage",
    "ContainerFiles",
    "ContainerPlan",
    "choose_base",
    "plan_container",
    "project_target",
    "render_container",
    "write_container",
]


def plan_container(
    project: Project,
    tool: ToolSource,
    *,
    base: str | None = None,
    command: str = "",
    host: OsInfo | None = None,
) -> ContainerPlan:
    """``host``: the system a default base follows when the target is no release's python3
    (default: this one)."""
    target, target_from = project_target(project)
    found = found_packages(project)
    if found.packages:
        packages_from = f"{' and '.join(found.sources)}, on {found.release}"
    else:
        packages_from = "none found here; setup in the build installs what it finds missing"
    ignore = project.root / ".dockerignore"
    return ContainerPlan(
        project=project.name,
        command=command or f"bulletproof generate container {project.root.name}",
        target=target,
        target_from=target_from,
        base=choose_base(base, target, host or read_os_info()),
        build_packages=found.packages,
        packages_from=packages_from,
        tool=tool,
        selection=setup_options(project),
        dockerignore=ignore.read_text(errors="replace") if ignore.is_file() else "",
        build_output=tuple(p.as_posix() for p in build_outputs(project.root)),
    )


def project_target(project: Project) -> tuple[str, str]:
    """The project's target interpreter as major.minor, and where it came from: the lock's
    record of the last setup, else ``[tool.bulletproof] python`` when it names a version."""
    recorded = read_lock_meta(project.root / LOCK_NAME).python
    if recorded:
        return ".".join(recorded.split(".")[:2]), f"the interpreter {LOCK_NAME} was made for"
    wanted = project.config.python or ""
    parts = wanted.split(".")
    if len(parts) >= 2 and all(p.isdigit() for p in parts[:2]):
        return ".".join(parts[:2]), "[tool.bulletproof] python"
    return "", ""


def choose_base(given: str | None, target: str, host: OsInfo) -> BaseImage:
    if given:
        release = next(
            (
                (python, codename)
                for releases in RELEASE_PYTHON.values()
                for codename, python in releases.items()
                if codename in given
            ),
            None,
        )
        return BaseImage(given, release[0] if release else "", "--base")
    if target in DEBIAN_FOR_PYTHON:
        codename = DEBIAN_FOR_PYTHON[target]
        why = f"its python3 is {target}, the project's target"
        return BaseImage(f"debian:{codename}", RELEASE_PYTHON["debian"][codename], why)
    distro = host.id if host.id in RELEASE_PYTHON else ""
    codename = host.version_codename
    if distro and codename in RELEASE_PYTHON[distro]:
        python = RELEASE_PYTHON[distro][codename]
        return BaseImage(
            f"{distro}:{codename}", python, "the release of the machine it was made on"
        )
    python = RELEASE_PYTHON["debian"][FALLBACK_RELEASE]
    why = "Debian's stable release (this machine's is not one an image is chosen for)"
    return BaseImage(f"debian:{FALLBACK_RELEASE}", python, why)


def render_container(plan: ContainerPlan) -> ContainerFiles:
    files = (
        (CONTAINERFILE, containerfile(plan, __version__, CONTEXT)),
        (DEVCONTAINER, devcontainer(plan, __version__, CONTAINERFILE)),
        (CONTAINERIGNORE, containerignore(plan, __version__, STATE, CONTEXT)),
    )
    return ContainerFiles(files, plan.tool.wheel)


def write_container(root: Path, rendered: ContainerFiles, *, force: bool = False) -> list[Path]:
    """Write the files into ``root`` (every one checked before any is written, so a refusal
    leaves them all as they were) and the wheel into ``root``/CONTEXT. Returns what was
    written."""
    paths = [root / name for name, _ in rendered.files]
    for path in paths:
        if path.parent.is_symlink():
            raise InputError(f"{path.parent} is a link: nothing is written through it")
        check_replaceable(path, force=force)
    written = [_carry_wheel(root, rendered.wheel)]
    for path, (_, text) in zip(paths, rendered.files, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        written.append(write_generated(path, text, force=force))
    return [p for p in written if p is not None]


def _carry_wheel(root: Path, wheel: Path | None) -> Path | None:
    """Put the wheel (only it) in the build context's folder of ours; a wheel an earlier run
    left there is removed, as is the folder when no wheel is used."""
    state = root / STATE
    if wheel is None and not (state / "container").exists():
        return None
    open_state(state)
    context = state / "container"
    if context.is_symlink():
        raise InputError(f"{context} is a link: nothing is written through it")
    if wheel is None:
        remove(state, context)
        return None
    context.mkdir(exist_ok=True)
    for old in context.iterdir():
        if old.name != wheel.name:
            remove(state, old)
    carried = context / wheel.name
    if carried.resolve() != wheel.resolve():
        shutil.copyfile(wheel, carried)
    return carried
