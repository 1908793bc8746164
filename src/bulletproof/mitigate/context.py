"""What the choice of fixes knows and remembers during one run: the host, the lock, what was
tried, and the answers (file index, sdist sources, build tools of a day) that are asked once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bulletproof.analyze.sdist import Sources
from bulletproof.analyze.wheels import LockedPackage
from bulletproof.host.filequery import Query
from bulletproof.host.present import System
from bulletproof.knowledge.mappings import DistroMapping
from bulletproof.mitigate import pins
from bulletproof.model import Fix, Interpreter


@dataclass
class Context:
    mapping: DistroMapping | None
    interpreter: Interpreter
    cwd: Path
    locked: Mapping[str, str]  # distribution -> locked version
    # other local interpreters the project allows, newest first (asked only when needed)
    others: Callable[[], Sequence[Interpreter]] = tuple
    tried: set[Fix] = field(default_factory=set)
    # the versions of a package a moved pin has tried already
    pinned: dict[str, list[str]] = field(default_factory=dict)
    nearest: Callable[..., str | None] = pins.nearest
    allow_system: bool = True  # --no-system: never propose a system package
    sources: Mapping[str, LockedPackage] = field(default_factory=dict)  # locked, by name
    # the build tools of each sdist's own day, once asked
    period: dict[str, list[str]] = field(default_factory=dict)
    system: System = field(default_factory=System)  # where "does this system have it" looks
    # the file index's answers and each sdist's sources, once a run
    looked_up: dict[Query, tuple[list[str], str]] = field(default_factory=dict)
    sdists: dict[str, Sources | None] = field(default_factory=dict)
    # per package, the (direction, evidence) of each pin moved: a move that left the evidence
    # as it was is not repeated with the next version that way
    walks: dict[str, set[tuple[str, frozenset[str]]]] = field(default_factory=dict)
    proposed: dict[Fix, tuple[str, frozenset[str]]] = field(default_factory=dict)
    # the distributions the project asks for by name: their pins move only on evidence that the
    # declared version cannot work here, never blindly to silence an import failure
    declared: frozenset[str] = frozenset()
