"""Dependency groups kept in pyproject.toml: PEP 735 ``[dependency-groups]`` (with
``include-group``), ``[tool.uv] dev-dependencies`` and ``[tool.pdm.dev-dependencies]``."""

from __future__ import annotations

from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

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


def pep735_groups(data: dict[str, Any]) -> dict[str, list[str]]:
    """Every group of ``[dependency-groups]``, includes expanded; a cycle is an error."""
    raw = data.get("dependency-groups", {})
    if not isinstance(raw, dict):
        raise InputError("pyproject.toml: [dependency-groups] must be a table")
    by_name: dict[str, tuple[str, Any]] = {canonicalize_name(k): (k, v) for k, v in raw.items()}

    def expand(name: str, chain: tuple[str, ...]) -> list[str]:
        shown, items = by_name[name]
        where = f"pyproject.toml: [dependency-groups] {shown}"
        out: list[str] = []
        for index, item in enumerate(_list(items, where)):
            if isinstance(item, dict):
                included = item.get("include-group")
                if set(item) != {"include-group"} or not isinstance(included, str):
                    raise InputError(
                        f"{where}[{index}]: a table in a group must be {{include-group = NAME}}"
                    )
                key = canonicalize_name(included)
                if key not in by_name:
                    raise InputError(f"{where}[{index}] includes {included!r}, which is no group")
                if key in chain or key == name:
                    path = " -> ".join([*chain, name, key])
                    raise InputError(f"{where} includes itself ({path})")
                out += expand(key, (*chain, name))
            else:
                out.append(check_requirement(item, f"{where}[{index}]"))
        return out

    return {shown: expand(key, ()) for key, (shown, _) in by_name.items()}


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
