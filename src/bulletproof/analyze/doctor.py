"""diagnose(): predict, from the lock and the host, what setup will build, what it needs from
the system, what is missing, and what is known to break. Changes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bulletproof.analyze.compat import compat_findings
from bulletproof.analyze.sdist import SdistFacts, inspect_sdist, project_languages
from bulletproof.analyze.sysdeps import COMPILER, PYTHON_HEADERS, Need, Status, assess
from bulletproof.analyze.values import Diagnosis, Finding, Severity
from bulletproof.analyze.wheels import LockedPackage, describe_target, read_locked, source_builds
from bulletproof.errors import ToolError
from bulletproof.host.values import Target
from bulletproof.knowledge import known_needs
from bulletproof.knowledge.mappings import ecosystem_for, load_mapping
from bulletproof.model import ExternalNeeds, OsInfo, Project
from bulletproof.requirements import requirement_name
from bulletproof.tomlcompat import tomllib

NAMES = {
    PYTHON_HEADERS: "Python.h",
    COMPILER + "c": "C compiler",
    COMPILER + "cxx": "C++ compiler",
    COMPILER + "rust": "Rust",
    COMPILER + "fortran": "Fortran compiler",
}
DERIVED = "derived from its sources"  # why, for needs read off an sdist's file list
OWN_CODE = "the project's own extension code"


def project_build_requires(project: Project) -> tuple[str, ...]:
    """The project's own [build-system] requires (a Rust backend says Rust is needed)."""
    path = project.root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ()
    requires = data.get("build-system", {}).get("requires", [])
    return tuple(str(r) for r in requires if isinstance(r, str))


def diagnose(
    project: Project, target: Target, lock_path: Path, os_info: OsInfo, yanked: Sequence[str]
) -> Diagnosis:
    """``yanked``: the pins uv warned are yanked, as the lock records them (LockMeta.yanked)."""
    interpreter = target.interpreter
    locked = read_locked(lock_path)
    builds = source_builds(locked, interpreter)
    findings: list[Finding] = []
    with ThreadPoolExecutor(max_workers=4) as pool:
        facts = dict(zip((p.name for p in builds), pool.map(_inspect, builds), strict=True))
    for package in builds:
        if isinstance(facts[package.name], str):
            findings.append(
                Finding(
                    f"inspect:{package.name}",
                    Severity.INFO,
                    package.name,
                    "could not read its source distribution",
                    str(facts[package.name]),
                    "predictions for it come from the project's knowledge only",
                )
            )
    needs = collect_needs(project, locked, builds, facts)
    ecosystem = ecosystem_for(os_info)
    mapping = load_mapping(ecosystem) if ecosystem else None
    statuses, plan = assess(needs, mapping, interpreter)
    if mapping is None and any(not s.present for s in statuses.values()):
        findings.append(
            Finding(
                "host:no-mapping",
                Severity.INFO,
                "",
                f"no system package names known for {os_info.pretty_name or os_info.id}",
                f"bulletproof maps system needs for Debian, Ubuntu, Mint, Fedora, Arch, Alpine "
                f"and Homebrew; this is ID={os_info.id}",
                "install what the findings below name with your package manager",
            )
        )
    by_package: dict[str, list[Need]] = {}
    for need in needs:
        by_package.setdefault(need.package, []).append(need)
    built = {p.name: p for p in builds}
    target_text = describe_target(interpreter)
    for name, wanted in by_package.items():
        finding = _package_finding(name, wanted, statuses, built.get(name), target_text)
        if finding is not None:
            findings.append(finding)
    for package in builds:
        if package.name not in by_package:
            findings.append(
                Finding(
                    f"build:{package.name}",
                    Severity.INFO,
                    package.name,
                    f"{package.pin} builds from source (no wheel for {target_text})",
                    "its sources call for no compiler and declare no system needs",
                    "nothing needed from the system",
                )
            )
    compat, constraints = compat_findings(locked, frozenset(built), interpreter)
    findings += compat
    for pin in yanked:
        findings.append(
            Finding(
                f"yanked:{pin}",
                Severity.INFO,
                requirement_name(pin),
                f"{pin} is yanked",
                "its authors withdrew this release from the index",
                "move the pin if you can",
            )
        )
    return Diagnosis(tuple(findings), plan, tuple(constraints), tuple(p.pin for p in builds))


def _inspect(package: LockedPackage) -> SdistFacts | str:
    if package.local or not package.sdist:
        return "a local source or no sdist in the lock"
    try:
        return inspect_sdist(package)
    except (ToolError, OSError, ValueError) as exc:  # a corrupt archive is a ValueError too
        return getattr(exc, "message", str(exc))


def collect_needs(
    project: Project,
    locked: tuple[LockedPackage, ...],
    builds: tuple[LockedPackage, ...],
    facts: Mapping[str, SdistFacts | str],
) -> list[Need]:
    known = known_needs()
    names = {p.name for p in locked}
    building = {p.name for p in builds}
    needs: list[Need] = []
    for package in locked:
        entry = known.get(package.name)
        if entry is not None and names & set(entry.unless):
            entry = None
        fact = facts.get(package.name)
        declared = fact.external if isinstance(fact, SdistFacts) and fact.external else None
        table = declared or entry or ExternalNeeds()
        why = table.why or "declared in its [external] table"
        if package.name in building:
            needs += [Need(i, "build", package.name, why) for i in table.build_requires]
            needs += [Need(i, "host", package.name, why) for i in table.host_requires]
            languages = fact.languages if isinstance(fact, SdistFacts) else frozenset()
            for language in sorted(languages):
                needs.append(Need(COMPILER + language, "build", package.name, DERIVED))
            if languages & {"c", "cxx", "fortran"} or any(
                i.startswith(COMPILER) for i in table.build_requires
            ):
                needs.append(Need(PYTHON_HEADERS, "host", package.name, DERIVED))
        needs += [Need(i, "run", package.name, why) for i in table.dependencies]
    if project.installable:
        build_requires = project_build_requires(project)
        for language in sorted(project_languages(project.root, build_requires)):
            needs.append(Need(COMPILER + language, "build", project.name, OWN_CODE))
            if language in ("c", "cxx", "fortran"):
                needs.append(Need(PYTHON_HEADERS, "host", project.name, OWN_CODE))
    if project.external:
        own = project.external
        for role, ids in (
            ("build", own.build_requires),
            ("host", own.host_requires),
            ("run", own.dependencies),
        ):
            needs += [Need(i, role, project.name, own.why) for i in ids]
    return list(dict.fromkeys(needs))


def _package_finding(
    name: str,
    needs: list[Need],
    statuses: Mapping[tuple[str, str], Status],
    built: LockedPackage | None,
    target_text: str,
) -> Finding | None:
    """One finding per package that needs something; None for met run-time needs (noise)."""
    mine = {(n.identifier, n.role): statuses[(n.identifier, n.role)] for n in needs}
    blocked = [k[0] for k, s in mine.items() if s.blocked]
    unchecked = [k[0] for k, s in mine.items() if s.unknown and not s.absent]
    missing = list(dict.fromkeys(p for s in mine.values() for p in s.missing))
    unavailable = list(dict.fromkeys(p for s in mine.values() for p in s.unavailable))
    wanted = ", ".join(
        dict.fromkeys(NAMES.get(n.identifier, n.identifier.split("/")[-1]) for n in needs)
    )
    reasons = "; ".join(dict.fromkeys(n.why for n in needs if n.why != DERIVED))
    if built is None and not (blocked or missing or unchecked):
        return None
    if built is not None:
        ident, title = (
            f"build:{name}",
            f"{built.pin} builds from source (no wheel for {target_text})",
        )
    else:
        ident, title = f"runtime:{name}", f"{name} needs system libraries at run time"
    if blocked:
        severity = Severity.BLOCKER
        fix = f"this system has no package {', '.join(unavailable)}; " if unavailable else ""
        fix += f"install yourself what provides: {', '.join(i.split('/')[-1] for i in blocked)}"
    elif missing:
        severity, fix = Severity.ACTION, f"missing {' '.join(missing)}: setup installs them"
    elif unchecked:
        severity = Severity.INFO
        names = ", ".join(i.split("/")[-1] for i in unchecked)
        fix = f"could not check: make sure these are installed: {names}"
    else:
        severity, fix = Severity.INFO, "everything it needs is present"
    why = f"needs {wanted}" + (f": {reasons}" if reasons else "")
    return Finding(ident, severity, name, title, why, fix)
