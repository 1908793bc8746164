"""The tables of pyproject.toml bulletproof reads ([project], [tool.bulletproof], PEP 725's
[external]), each checked, with errors that name the file and the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name, is_normalized_name

from bulletproof.errors import InputError
from bulletproof.knowledge import external_needs
from bulletproof.model import Config, ExternalNeeds, Selection
from bulletproof.tomlcompat import tomllib

CONFIG_KEYS = {
    "requirements",
    "python",
    "extras",
    "all-extras",
    "groups",
    "no-dev",
    "tests",
    "tests-pass-rate",
    "benchmark",
}
EXTERNAL_KEYS = {"build-requires", "host-requires", "build-host-requires", "dependencies"}


def load_pyproject(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: not valid TOML: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot be read ({exc})") from None


def _sub_table(data: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise InputError(f"pyproject.toml: {where} must be a table")
    return value


def read_config(data: dict[str, Any]) -> Config:
    table = _sub_table(_sub_table(data, "tool", "[tool]"), "bulletproof", "[tool.bulletproof]")
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
    names: dict[str, tuple[str, ...]] = {}
    for key in ("extras", "groups"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise InputError(f"pyproject.toml: [tool.bulletproof] {key} must be a list of names")
        names[key] = tuple(value)
    flags: dict[str, bool] = {}
    for key in ("all-extras", "no-dev"):
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise InputError(f"pyproject.toml: [tool.bulletproof] {key} must be true or false")
        flags[key] = value
    selection = Selection(
        extras=names["extras"],
        groups=names["groups"],
        all_extras=flags["all-extras"],
        dev=not flags["no-dev"],
    )
    tests = table.get("tests")
    if tests is not None and (not isinstance(tests, str) or not tests.strip()):
        raise InputError(
            "pyproject.toml: [tool.bulletproof] tests must be the command that runs the tests",
            hint='for example: tests = "python -m pytest -q tests/unit"',
        )
    rate = table.get("tests-pass-rate")
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1
    ):
        raise InputError(
            "pyproject.toml: [tool.bulletproof] tests-pass-rate must be a number from 0 to 1",
            hint="for example: tests-pass-rate = 0.9",
        )
    benchmark = table.get("benchmark", [])
    if not isinstance(benchmark, list) or not all(isinstance(b, str) and b for b in benchmark):
        raise InputError(
            "pyproject.toml: [tool.bulletproof] benchmark must be a list of function names",
            hint='the functions a try/except import of a compiled module binds: benchmark = ["f"]',
        )
    return Config(
        tuple(requirements) if requirements is not None else None,
        python,
        selection,
        tests,
        float(rate) if rate is not None else None,
        benchmark=tuple(benchmark),
    )


def project_table(data: dict[str, Any]) -> tuple[str | None, tuple[str, ...], str | None]:
    if "project" not in data:
        return None, (), None
    table = _sub_table(data, "project", "[project]")
    name = table.get("name")
    if not isinstance(name, str) or not is_normalized_name(canonicalize_name(name)):
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


def external_table(data: dict[str, Any]) -> ExternalNeeds:
    """The project's PEP 725 [external] table, checked: lists of dep: identifiers."""
    table = _sub_table(data, "external", "[external]")
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
