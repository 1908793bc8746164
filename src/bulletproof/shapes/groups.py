"""Dependency groups kept in pyproject.toml: PEP 735 ``[dependency-groups]`` (with
``include-group``), ``[tool.uv] dev-dependencies`` and ``[tool.pdm.dev-dependencies]``."""

from __future__ import annotations

from typing import Any

from packaging.dependency_groups import CyclicDependencyGroup, DependencyGroupResolver
from packaging.errors import ExceptionGroup
from packaging.requirements import InvalidRequirement, Requirement

from bulletproof.errors import InputError


def check_requirement(text: object, where: str) -> str:
    """A PEP 508 string, or an InputError naming where it was found."""
    if not isinstance(text, str):
        raise InputError(f"{where} must be a string like 'pytest>=8'")
    try:
        Requirement(text)
    except InvalidRequirement as exc:
        raise InputError(f"{where} {text!r}: {str(exc).splitlines()[0]}") from None
    return text


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise InputError(f"{where} must be a list")
    return value


_GROUPS = "pyproject.toml: [dependency-groups]"


def pep735_groups(data: dict[str, Any]) -> dict[str, list[str]]:
    """Every group of ``[dependency-groups]``, includes expanded by packaging's resolver; a
    cycle, an unknown include or a malformed item is an error naming the group."""
    raw = data.get("dependency-groups", {})
    if not isinstance(raw, dict):
        raise InputError(f"{_GROUPS} must be a table")
    # each requirement checked first, so that its error names its place ([index]); and its text
    # as written kept (the lock's input hash reads it), by what packaging makes of it
    written: dict[str, str] = {}
    for name, items in raw.items():
        for index, item in enumerate(_list(items, f"{_GROUPS} {name}")):
            if not isinstance(item, dict):
                text = check_requirement(item, f"{_GROUPS} {name}[{index}]")
                written.setdefault(str(Requirement(text)), text)
    try:
        resolver = DependencyGroupResolver(raw)
    except ExceptionGroup as group:  # two spellings of one name
        raise InputError(f"{_GROUPS}: {_reason(group)}") from None
    out: dict[str, list[str]] = {}
    for name in raw:
        try:
            resolved = resolver.resolve(name)
        except ExceptionGroup as group:
            raise InputError(f"{_GROUPS} {name}: {_reason(group)}") from None
        out[name] = [written.get(str(r), str(r)) for r in resolved]
    return out


def _reason(group: ExceptionGroup) -> str:
    first = group.exceptions[0]
    if isinstance(first, CyclicDependencyGroup):
        return f"includes itself ({first.group} includes {first.include_group})"
    return str(first).splitlines()[0]


def tool_dev_groups(data: dict[str, Any]) -> dict[str, list[str]]:
    """``[tool.uv] dev-dependencies`` (uv's ``dev`` group) and ``[tool.pdm.dev-dependencies]``."""
    tool = data.get("tool", {})
    out: dict[str, list[str]] = {}
    uv_dev = tool.get("uv", {}).get("dev-dependencies") if isinstance(tool, dict) else None
    if uv_dev is not None:
        where = "pyproject.toml: [tool.uv] dev-dependencies"
        out["dev"] = [
            check_requirement(r, f"{where}[{i}]") for i, r in enumerate(_list(uv_dev, where))
        ]
    pdm = tool.get("pdm", {}).get("dev-dependencies", {}) if isinstance(tool, dict) else {}
    if not isinstance(pdm, dict):
        raise InputError("pyproject.toml: [tool.pdm.dev-dependencies] must be a table")
    for group, items in pdm.items():
        where = f"pyproject.toml: [tool.pdm.dev-dependencies] {group}"
        reqs = [r for r in _list(items, where) if not str(r).startswith("-e")]
        out.setdefault(group, []).extend(
            check_requirement(r, f"{where}[{i}]") for i, r in enumerate(reqs)
        )
    return out
