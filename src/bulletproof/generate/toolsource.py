"""Where a generated file (the container, the setup script) installs bulletproof from.

By default this same version from the package index, so the file reproduces what made it. Before
a version is published, or to try a change, `--tool-source` names a wheel, a source folder (built
to a wheel here) or any requirement pip takes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename

from bulletproof import __version__, proc
from bulletproof.errors import InputError

BUILD_TIMEOUT = 600.0


@dataclass(frozen=True)
class ToolSource:
    spec: str  # as the user gave it ("" for the default)
    kind: str  # "index" | "wheel" | "directory"
    requirement: str  # what `pip install` takes: "bulletproof==0.1.0", or the wheel's file name
    wheel: Path | None  # the wheel file (kind wheel; a directory is built to one), else None

    @property
    def sha256(self) -> str:
        """The wheel's sha256 ("" for a requirement from an index: the index knows it)."""
        if self.wheel is None:
            return ""
        return hashlib.sha256(self.wheel.read_bytes()).hexdigest()

    def describe(self) -> str:
        """One line for a generated file's header: how bulletproof gets installed."""
        if self.kind == "index":
            return f"bulletproof from the package index: {self.requirement}"
        if self.kind == "directory":
            return (
                f"bulletproof built from the source folder {self.spec} "
                f"({self.requirement}, sha256 {self.sha256})"
            )
        return f"bulletproof from the wheel {self.requirement} (sha256 {self.sha256})"


def resolve_tool_source(spec: str | None, scratch: Path) -> ToolSource:
    """What ``--tool-source`` names: None or "": this version from the index; a ``*.whl`` path:
    that wheel; a folder with a pyproject.toml: built to a wheel in ``scratch``; anything else: a
    requirement pip takes. Bad input is an InputError naming the spec and what is wrong."""
    if not spec:
        return ToolSource("", "index", f"bulletproof=={__version__}", None)
    path = Path(spec).expanduser()
    if spec.endswith(".whl"):
        return _wheel(spec, path)
    if path.is_dir():
        return _directory(spec, path, scratch)
    if path.exists():
        raise InputError(
            f"--tool-source {spec}: a file that is not a wheel",
            hint="name a bulletproof wheel (*.whl), its source folder or a requirement",
        )
    try:
        requirement = Requirement(spec)
    except InvalidRequirement as exc:
        raise InputError(
            f"--tool-source {spec}: not a wheel, a folder or a requirement ({exc})",
            hint="for example bulletproof==0.1.0, dist/bulletproof-0.1.0-py3-none-any.whl or .",
        ) from exc
    if canonicalize_name(requirement.name) != "bulletproof":
        raise InputError(
            f"--tool-source {spec}: a requirement for {requirement.name}, not bulletproof"
        )
    return ToolSource(spec, "index", str(requirement), None)


def _wheel(spec: str, path: Path) -> ToolSource:
    if not path.is_file():
        raise InputError(f"--tool-source {spec}: no such wheel")
    try:
        name = parse_wheel_filename(path.name)[0]
    except InvalidWheelFilename as exc:
        raise InputError(f"--tool-source {spec}: not a valid wheel name ({exc})") from exc
    if name != "bulletproof":
        raise InputError(f"--tool-source {spec}: a wheel of {name}, not of bulletproof")
    return ToolSource(spec, "wheel", path.name, path.resolve())


def _directory(spec: str, path: Path, scratch: Path) -> ToolSource:
    if not (path / "pyproject.toml").is_file():
        raise InputError(f"--tool-source {spec}: a folder without a pyproject.toml")
    out = scratch / "tool-wheel"
    out.mkdir(parents=True, exist_ok=True)
    done = proc.run(
        [proc.uv_bin(), "build", "--wheel", "--out-dir", str(out), str(path.resolve())],
        timeout=BUILD_TIMEOUT,
    )
    wheels = sorted(out.glob("bulletproof-*.whl"))
    if not done.ok or not wheels:
        raise InputError(
            f"--tool-source {spec}: building a wheel from it failed",
            hint=(done.stderr.strip() or done.stdout.strip())[-500:],
        )
    return ToolSource(spec, "directory", wheels[-1].name, wheels[-1])
