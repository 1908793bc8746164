"""discover(DIR) -> Project: what the project asks for, validated before any tool runs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet

from bulletproof.errors import InputError
from bulletproof.knowledge import external_needs
from bulletproof.model import Config, ExternalNeeds, Project
from bulletproof.requirements import parse_file
from bulletproof.tomlcompat import tomllib

CONFIG_KEYS = {"requirements", "python"}
EXTERNAL_KEYS = {"build-requires", "host-requires", "build-host-requires", "dependencies"}
# Folders that hold a project's tooling, not the packages it ships.
_NOT_PACKAGES = {
    "tests",
    "test",
    "docs",
    "doc",
    "examples",
    "benchmarks",
    "build",
    "dist",
    "scripts",
}


def _load_pyproject(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot be read ({exc})") from None


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"pyproject.toml: {where} must be a table")
    return value


def _config(data: dict[str, Any]) -> Config:
    table = _table(_table(data, "tool", "[tool]"), "bulletproof", "[tool.bulletproof]")
    unknown = sorted(set(table) - CONFIG_KEYS)
    if unknown:
        raise InputError(
            f"pyproject.toml: [tool.bulletproof] has unknown key {unknown[0]!r}",
            hint=f"known keys: {', '.join(sorted(CONFIG_KEYS))}",
        )
    requirements = table.get("requirements")
    if requirements is not None and (
        not isinstance(requirements, list)
        or not all(isinstance(r, str) and r for r in requirements)
    ):
        raise InputError(
            "pyproject.toml: [tool.bulletproof] requirements must be a list of file names",
            hint='for example: requirements = ["requirements-fixed.txt"]',
        )
    python = table.get("python")
    if python is not None and (not isinstance(python, str) or not python.strip()):
        raise InputError("pyproject.toml: [tool.bulletproof] python must be a string like '3.12'")
    return Config(tuple(requirements) if requirements is not None else None, python)


def _project_table(data: dict[str, Any]) -> tuple[str | None, tuple[str, ...], str | None]:
    if "project" not in data:
        return None, (), None
    table = _table(data, "project", "[project]")
    name = table.get("name")
    if not isinstance(name, str) or not re.fullmatch(
        r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", name
    ):
        raise InputError("pyproject.toml: [project] name is missing or not a valid project name")
    deps = table.get("dependencies", [])
    if not isinstance(deps, list):
        raise InputError("pyproject.toml: [project] dependencies must be a list of strings")
    for index, dep in enumerate(deps):
        try:
            Requirement(dep) if isinstance(dep, str) else None
        except InvalidRequirement as exc:
            first = str(exc).splitlines()[0]
            raise InputError(
                f"pyproject.toml: [project] dependencies[{index}] {dep!r}: {first}"
            ) from None
        if not isinstance(dep, str):
            raise InputError(f"pyproject.toml: [project] dependencies[{index}] must be a string")
    requires = table.get("requires-python")
    if requires is not None:
        try:
            SpecifierSet(requires) if isinstance(requires, str) else None
        except InvalidSpecifier:
            raise InputError(
                f"pyproject.toml: [project] requires-python {requires!r} is not a version specifier"
            ) from None
        if not isinstance(requires, str):
            raise InputError("pyproject.toml: [project] requires-python must be a string")
    return name, tuple(deps), requires


def _external(data: dict[str, Any]) -> ExternalNeeds:
    """The project's PEP 725 [external] table, checked: lists of dep: identifiers."""
    table = _table(data, "external", "[external]")
    for key, value in table.items():
        if key.startswith("optional-"):
            continue  # groups the user opts into; not installed by default
        if key not in EXTERNAL_KEYS:
            raise InputError(
                f"pyproject.toml: [external] has unknown key {key!r}",
                hint=f"PEP 725 keys: {', '.join(sorted(EXTERNAL_KEYS))}",
            )
        if not isinstance(value, list):
            raise InputError(f"pyproject.toml: [external] {key} must be a list of strings")
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.startswith("dep:"):
                raise InputError(
                    f"pyproject.toml: [external] {key}[{index}] {item!r} is not a PEP 725 "
                    "identifier",
                    hint='identifiers look like "dep:generic/libpq" or "dep:virtual/compiler/c"',
                )
    return external_needs(table, why="declared in the project's [external] table")


def _own_packages(root: Path) -> tuple[tuple[str, ...], tuple[Path, ...]]:
    for base in (root / "src", root):
        names = tuple(
            sorted(
                p.parent.name
                for p in base.glob("*/__init__.py")
                if p.parent.name.isidentifier()
                and p.parent.name not in _NOT_PACKAGES
                and not p.parent.name.startswith(".")
            )
        )
        if names:
            return names, (base,)
    return (), ()


def discover(directory: Path) -> Project:
    root = directory.expanduser().absolute()
    if not root.exists():
        raise InputError(f"{directory}: no such folder")
    if not root.is_dir():
        raise InputError(f"{directory}: not a folder")
    pyproject = root / "pyproject.toml"
    data = _load_pyproject(pyproject) if pyproject.exists() else {}
    config = _config(data)
    name, deps, requires = _project_table(data)
    if config.requirements is not None:
        named = [root / f for f in config.requirements]
        for given, path in zip(config.requirements, named, strict=True):
            if not path.is_file():
                raise InputError(
                    f"pyproject.toml: [tool.bulletproof] requirements names {given!r}, "
                    f"which is not a file in {directory}"
                )
    else:
        named = sorted(root.glob("requirements*.txt"))
    files: list[Path] = []
    seen: set[Path] = set()
    for path in named:
        files += parse_file(path, root, seen)
    installable = name is not None and "build-system" in data
    if not files and name is None:
        raise InputError(
            f"{directory}: nothing to set up",
            hint="looked for pyproject.toml with a [project] table and for requirements*.txt; "
            "name other files with [tool.bulletproof] requirements = [...]",
        )
    packages, roots = _own_packages(root) if name is not None else ((), ())
    return Project(
        root=root,
        name=name or root.name,
        pyproject=pyproject if name is not None else None,  # only [project] feeds the lock
        requirement_files=tuple(files),
        dependencies=deps,
        requires_python=requires,
        config=config,
        installable=installable,
        own_packages=packages,
        source_roots=roots,
        external=_external(data),
    )
