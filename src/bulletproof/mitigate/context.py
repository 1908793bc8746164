"""What the choice of fixes works with during one run, in three parts: the facts it proposes
against (the host, the lock as it is now: a frozen value, replaced when the lock changes), the
questions it asks that cost a process or the network (injected, so a test can answer them), and
its memory (what was tried, and the answers asked once a run), changed only through the methods
below."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bulletproof.analyze.sdist import Sources
from bulletproof.analyze.wheels import LockedPackage
from bulletproof.host.filequery import Query
from bulletproof.host.present import System
from bulletproof.host.values import Interpreter
from bulletproof.knowledge.mappings import DistroMapping
from bulletproof.mitigate import pins
from bulletproof.mitigate.period import build_tools_of_its_day
from bulletproof.mitigate.values import Fix
from bulletproof.model import FixKind

Answer = tuple[list[str], str]  # the file index's packages for a query, and which source said


@dataclass(frozen=True)
class Facts:
    """What fixes are proposed against: the host, and the lock as it is this round."""

    mapping: DistroMapping | None
    interpreter: Interpreter
    cwd: Path
    locked: Mapping[str, str]  # distribution -> locked version
    sources: Mapping[str, LockedPackage] = field(default_factory=dict)  # locked, by name
    # the distributions the project asks for by name: their pins move only on evidence that the
    # declared version cannot work here, never blindly to silence an import failure
    declared: frozenset[str] = frozenset()
    allow_system: bool = True  # --no-system: never propose a system package
    system: System = field(default_factory=System)  # where "does this system have it" looks


@dataclass(frozen=True)
class Asks:
    """The questions that cost a process or the network."""

    # other local interpreters the project allows, newest first (asked only when needed)
    others: Callable[[], Sequence[Interpreter]] = tuple
    nearest: Callable[..., str | None] = pins.nearest  # the nearest version with a wheel
    # the build tools of an sdist's own day: (package, interpreter, cwd) -> "name==version"s
    build_tools: Callable[[LockedPackage, Path, Path], list[str]] = build_tools_of_its_day


class Memory:
    """What one run's choice of fixes has tried and asked, kept across its rounds."""

    def __init__(self) -> None:
        self._tried: set[Fix] = set()
        # the versions of a package a moved pin has tried already (the one that failed first)
        self._pinned: dict[str, list[str]] = {}
        # per package, the (direction, evidence) of each pin moved: a move that left the
        # evidence as it was is not repeated with the next version that way
        self._walks: dict[str, set[tuple[str, frozenset[str]]]] = {}
        self._proposed: dict[Fix, tuple[str, frozenset[str]]] = {}
        self._period: dict[str, list[str]] = {}
        self._sdists: dict[str, Sources | None] = {}
        self._looked_up: dict[Query, Answer] = {}

    # what was tried

    @property
    def tried(self) -> frozenset[Fix]:
        return frozenset(self._tried)

    def is_tried(self, fix: Fix) -> bool:
        return fix in self._tried

    def mark_tried(self, *fixes: Fix) -> None:
        self._tried.update(fixes)

    def forget(self, *fixes: Fix) -> None:
        """Untried again: a fix taken back before it was applied, asked again next round."""
        self._tried.difference_update(fixes)

    @contextmanager
    def untried(self, fixes: Iterable[Fix]) -> Iterator[None]:
        """For the time of one question, ``fixes`` count as untried (which failure a fix chosen
        for another one answers too); tried again after it."""
        fixes = set(fixes) & self._tried
        self._tried -= fixes
        try:
            yield
        finally:
            self._tried |= fixes

    # moved pins

    def pinned(self, package: str) -> tuple[str, ...]:
        """The versions of ``package`` moved pins have had, the one that failed first first."""
        return tuple(self._pinned.get(package, ()))

    def walked(self, package: str, direction: str, said: frozenset[str]) -> bool:
        """Whether a pin of ``package`` moved ``direction`` and left evidence ``said``."""
        return (direction, said) in self._walks.get(package, set())

    def proposed(self, fix: Fix, direction: str, said: frozenset[str]) -> None:
        self._proposed[fix] = (direction, said)

    def pin_applied(self, fix: Fix) -> None:
        """A moved pin's version is tried, and the evidence it moved away from remembered."""
        if fix.kind is FixKind.PIN:
            self._pinned.setdefault(fix.package, [fix.was]).append(fix.value.partition("==")[2])
            if fix in self._proposed:
                self._walks.setdefault(fix.package, set()).add(self._proposed[fix])

    # the answers asked once a run

    def period(self, package: LockedPackage, ask: Callable[[], list[str]]) -> list[str]:
        if package.name not in self._period:
            self._period[package.name] = ask()
        return self._period[package.name]

    def sdist(self, package: LockedPackage, ask: Callable[[], Sources | None]) -> Sources | None:
        if package.name not in self._sdists:
            self._sdists[package.name] = ask()
        return self._sdists[package.name]

    def looked_up(
        self, queries: Sequence[Query], ask: Callable[[list[Query]], Mapping[Query, Answer]]
    ) -> dict[Query, Answer]:
        """The file index's answers: the ones not asked yet are asked together."""
        new = [q for q in dict.fromkeys(queries) if q not in self._looked_up]
        if new:
            self._looked_up.update(ask(new))
        return {q: self._looked_up[q] for q in queries}


@dataclass(frozen=True)
class Context:
    """The facts of this round, the questions, and the run's memory (the same one across the
    contexts of one run: a new lock gives new facts, not a new memory)."""

    facts: Facts
    asks: Asks = Asks()
    memory: Memory = field(default_factory=Memory)

    def with_facts(self, **changes: Any) -> Context:
        return replace(self, facts=replace(self.facts, **changes))
