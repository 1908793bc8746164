"""What the prediction (doctor) comes to, as frozen values."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Severity(enum.Enum):
    BLOCKER = "blocker"  # setup will fail and cannot fix it by itself
    ACTION = "action"  # setup fixes it (system packages with consent, a build constraint)
    INFO = "info"  # worth knowing: a source build, a check that could not be made


@dataclass(frozen=True)
class Finding:
    id: str  # stable: "<kind>:<subject>", e.g. "build:psycopg2", "system:libpq-dev"
    severity: Severity
    package: str  # the locked distribution it concerns, or "" for the host
    title: str
    why: str
    fix: str


@dataclass(frozen=True)
class SystemPlan:
    """The system packages the lock needs on this host, and how to install the missing ones."""

    ecosystem: str | None  # the mapping used ("debian-12", ...), None when this host has none
    manager: str | None
    needed: tuple[str, ...]  # package names, in the order they were first needed
    missing: tuple[str, ...]
    commands: tuple[tuple[str, ...], ...]  # what installs the missing ones (elevated as needed)


@dataclass(frozen=True)
class Diagnosis:
    findings: tuple[Finding, ...]
    system: SystemPlan
    build_constraints: tuple[str, ...]  # applied by setup to isolated builds
    source_builds: tuple[str, ...]  # "name==version" of what will build from source

    @property
    def blocking(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.BLOCKER)
