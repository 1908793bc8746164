"""The project's knowledge, kept as data files beside this module, and their loaders.

packages.toml: what popular packages need from the system without declaring it (PEP 725 terms).
compat.toml: known breakage of package versions on Python versions.
mappings/*.mapping.json: PEP 804 mappings of PEP 725 identifiers to each distro's package names.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from bulletproof.model import ExternalNeeds
from bulletproof.tomlcompat import tomllib


def external_needs(table: dict[str, Any], why: str = "") -> ExternalNeeds:
    """A PEP 725 [external] table (or a packages.toml entry) as ExternalNeeds."""

    def ids(*keys: str) -> tuple[str, ...]:
        found = [str(v) for key in keys for v in table.get(key, ()) if isinstance(v, str)]
        return tuple(dict.fromkeys(found))

    return ExternalNeeds(
        build_requires=ids("build-requires"),
        # PEP 725 drafts named it build-host-requires before host-requires
        host_requires=ids("host-requires", "build-host-requires"),
        dependencies=ids("dependencies"),
        why=str(table.get("why", why)),
        unless=tuple(canonicalize_name(u) for u in table.get("unless", ())),
    )


@dataclass(frozen=True)
class CompatIssue:
    id: str
    package: str
    versions: SpecifierSet
    python: SpecifierSet
    when: str  # "build" or "always"
    requires: Requirement | None
    problem: str
    fix: str
    build_constraint: str | None


def _load_toml(name: str) -> dict[str, Any]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = tomllib.loads(text)
    return data


@cache
def known_needs() -> dict[str, ExternalNeeds]:
    """packages.toml, keyed by normalized distribution name."""
    table = _load_toml("packages.toml")
    return {canonicalize_name(name): external_needs(entry) for name, entry in table.items()}


@cache
def compat_issues() -> tuple[CompatIssue, ...]:
    issues = []
    for raw in _load_toml("compat.toml")["issue"]:
        issues.append(
            CompatIssue(
                id=raw["id"],
                package=canonicalize_name(raw["package"]),
                versions=SpecifierSet(raw["versions"]),
                python=SpecifierSet(raw["python"]),
                when=raw["when"],
                requires=Requirement(raw["requires"]) if "requires" in raw else None,
                problem=raw["problem"],
                fix=raw["fix"],
                build_constraint=raw.get("build-constraint"),
            )
        )
    return tuple(issues)


@dataclass(frozen=True)
class ModuleSource:
    requirement: str
    reason: str


@cache
def module_sources() -> dict[str, ModuleSource]:
    """knowledge/modules.toml: the distribution an import name comes from, where it differs."""
    text = resources.files(__package__).joinpath("modules.toml").read_text(encoding="utf-8")
    out: dict[str, ModuleSource] = {}

    def walk(prefix: str, table: dict[str, Any]) -> None:
        for key, value in table.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and "requirement" in value:
                Requirement(value["requirement"])  # a bad entry fails loudly in the tests
                out[name] = ModuleSource(value["requirement"], str(value.get("reason", "")))
            elif isinstance(value, dict):
                walk(name, value)

    walk("", tomllib.loads(text))
    return out


@cache
def removed_stdlib() -> dict[str, str]:
    """Standard-library module -> the Python version (major.minor) that removed it."""
    text = resources.files(__package__).joinpath("stdlib-removed.toml").read_text("utf-8")
    return {str(k): str(v) for k, v in tomllib.loads(text)["removed"].items()}


def removed_in(module: str, minor: str) -> str | None:
    """The Python version that removed ``module`` from the standard library, when ``minor``
    (the target's major.minor) is that version or later; else None."""
    removed = removed_stdlib().get(module.split(".", maxsplit=1)[0])
    if removed is None or not minor:
        return None
    as_tuple = [tuple(int(p) for p in v.split(".")[:2]) for v in (removed, minor)]
    return removed if as_tuple[1] >= as_tuple[0] else None
