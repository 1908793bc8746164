"""The values `generate container` passes between its steps: what the files are made from
(``ContainerPlan``, with its ``BaseImage``) and the files rendered (``ContainerFiles``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bulletproof.generate.toolsource import ToolSource


@dataclass(frozen=True)
class BaseImage:
    image: str  # what FROM names: "debian:bookworm", or --base as given
    python: str  # the version of its python3 ("3.11"); "" when not known (a --base of one's own)
    why: str  # one phrase for the header: why this base


@dataclass(frozen=True)
class ContainerPlan:
    """What the files are made from."""

    project: str  # the project's name
    command: str  # how they were generated, as the header says it
    target: str  # the project's target interpreter ("3.12"); "" when it names none
    target_from: str  # where that came from: "the lock", "[tool.bulletproof] python"
    base: BaseImage
    build_packages: tuple[str, ...]  # system packages the builds need, installed first
    packages_from: str  # where they were found, for the header
    tool: ToolSource  # where bulletproof is installed from inside the build
    selection: tuple[str, ...] = ()  # setup's options for the extras and groups the lock records
    dockerignore: str = ""  # the project's own .dockerignore, kept in .containerignore
    # build output found in the tree when generated (cargo's target): made for this machine
    build_output: tuple[str, ...] = ()

    @property
    def setup_python(self) -> str:
        """What setup is given as --python inside the build ("" for nothing): the image's
        python3 when it is not the project's target."""
        if not self.target or self.base.python == self.target:
            return ""
        return self.base.python or "/usr/bin/python3"


@dataclass(frozen=True)
class ContainerFiles:
    """The files' text (each without its ownership marker), relative to the project folder."""

    files: tuple[tuple[str, str], ...]
    wheel: Path | None  # carried into CONTEXT for the build to install bulletproof from
