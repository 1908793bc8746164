"""Poetry 1.x/2.x ``[tool.poetry]`` tables, read by poetry-core (the library Poetry itself uses):
the main dependencies and every group, as PEP 508 strings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulletproof.errors import InputError


def _check_constraints(table: dict[str, Any], where: str, root: Path) -> None:
    """Each dependency through poetry-core, so that a bad constraint names its key."""
    from poetry.core.factory import Factory  # noqa: PLC0415  (only Poetry projects pay for it)

    if not isinstance(table, dict):
        raise InputError(f"pyproject.toml: {where} must be a table")
    for name, value in table.items():
        if name.lower() == "python":
            continue
        for constraint in value if isinstance(value, list) else [value]:
            try:
                Factory.create_dependency(name, constraint, root_dir=root)
            except Exception as exc:  # noqa: BLE001  (poetry-core raises several kinds)
                raise InputError(
                    f"pyproject.toml: [{where}] {name} = {constraint!r}: {exc}",
                    hint="Poetry constraints look like '^2.27', '>=1,<2', '*' or "
                    "{ version = '^1', optional = true }",
                ) from None


def poetry_groups(root: Path, data: dict[str, Any]) -> dict[str, list[str]] | None:
    """{group: [PEP 508, ...]} with "main" for ``[tool.poetry.dependencies]``; None when the
    project has no ``[tool.poetry]`` table."""
    tool = data.get("tool", {}).get("poetry")
    if not isinstance(tool, dict):
        return None
    _check_constraints(tool.get("dependencies", {}), "tool.poetry.dependencies", root)
    _check_constraints(tool.get("dev-dependencies", {}), "tool.poetry.dev-dependencies", root)
    groups = tool.get("group", {})
    if not isinstance(groups, dict):
        raise InputError("pyproject.toml: [tool.poetry.group] must be a table")
    for name, group in groups.items():
        if not isinstance(group, dict):
            raise InputError(f"pyproject.toml: [tool.poetry.group.{name}] must be a table")
        _check_constraints(
            group.get("dependencies", {}), f"tool.poetry.group.{name}.dependencies", root
        )
    from poetry.core.factory import Factory  # noqa: PLC0415

    try:
        package = Factory().create_poetry(root).package
    except Exception as exc:  # noqa: BLE001  (its own validation, worded by poetry-core)
        raise InputError(f"pyproject.toml: [tool.poetry]: {exc}") from None
    return {
        name: [dep.to_pep_508() for dep in package.dependency_group(name).dependencies]
        for name in sorted(package.dependency_group_names(include_optional=True))
    }


def package_mode(data: dict[str, Any]) -> bool:
    """Poetry's ``package-mode = false`` declares a project that is not a package."""
    return data.get("tool", {}).get("poetry", {}).get("package-mode", True) is not False
