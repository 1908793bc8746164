"""Known breakage of locked versions on the target Python (knowledge/compat.toml)."""

from __future__ import annotations

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from bulletproof.analyze.values import Finding, Severity
from bulletproof.analyze.wheels import LockedPackage
from bulletproof.host.values import Interpreter
from bulletproof.knowledge import compat_issues


def compat_findings(
    locked: tuple[LockedPackage, ...], builds: frozenset[str], interpreter: Interpreter
) -> tuple[list[Finding], list[str]]:
    """Findings, and the build constraints that fix some of them."""
    versions: dict[str, Version] = {}
    for package in locked:
        try:
            versions[package.name] = Version(package.version)
        except InvalidVersion:
            continue
    python = Version(interpreter.version)
    findings: list[Finding] = []
    constraints: list[str] = []
    for issue in compat_issues():
        version = versions.get(issue.package)
        if version is None or not issue.versions.contains(version, prereleases=True):
            continue
        if not issue.python.contains(python, prereleases=True):
            continue
        if issue.when == "build" and issue.package not in builds:
            continue
        if issue.requires is not None:
            other = versions.get(canonicalize_name(issue.requires.name))
            if other is None or not issue.requires.specifier.contains(other, prereleases=True):
                continue
        pin = f"{issue.package}=={version}"
        findings.append(
            Finding(
                id=f"compat:{issue.id}",
                # setup fixes both: a build constraint by itself, a moved pin with consent
                severity=Severity.ACTION,
                package=issue.package,
                title=f"{pin} is known to break on Python {interpreter.minor}",
                why=issue.problem,
                fix=issue.fix
                + (
                    " (setup does this by itself)"
                    if issue.build_constraint
                    else " (setup does this if it fails, with --yes or your yes; in the lock only)"
                ),
            )
        )
        if issue.build_constraint:
            constraints.append(issue.build_constraint)
    return findings, list(dict.fromkeys(constraints))
