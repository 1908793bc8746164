"""The matrix of `generate ci`: the interpreters the project allows, on the systems it targets.

The interpreters are the CPython versions actions/setup-python offers on GitHub's hosted runners
(`SETUP_PYTHON_VERSIONS`) that the project's requires-python allows and, when it lists any, its
``Programming Language :: Python :: 3.X`` classifiers name. The systems are ubuntu-latest (the
Linux bulletproof's system-package knowledge is written for), plus macos-latest when a classifier
names macOS; Windows is left out and said: bulletproof does not run there (it locks with fcntl).

Read from the project's own files as written (static metadata): ``[project]`` requires-python and
classifiers, a Pipfile's python_version (as `discover` reads it), setup.cfg's ``python_requires``
and ``classifiers``, Poetry's ``[tool.poetry.dependencies] python`` and ``classifiers``.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from bulletproof.errors import InputError
from bulletproof.model import Project
from bulletproof.pyproject import load_pyproject

# the CPython minor versions actions/python-versions builds for ubuntu-24.04 (ubuntu-latest),
# macos-latest and windows-latest: 3.7 and older are not built for ubuntu-24.04; prereleases
# (allow-prereleases) are left out
SETUP_PYTHON_VERSIONS = ("3.8", "3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
LINUX = "ubuntu-latest"
MACOS = "macos-latest"
_PYTHON_CLASSIFIER = "Programming Language :: Python :: "
_PATCHES = range(40)  # a minor version is allowed when one of its releases is


@dataclass(frozen=True)
class Metadata:
    """What the project says about where it runs, and where each part was read."""

    requires_python: str  # "" when it says nothing
    requires_from: str  # e.g. "pyproject.toml [project] requires-python"
    classifiers: tuple[str, ...]
    classifiers_from: str


@dataclass(frozen=True)
class Matrix:
    pythons: tuple[str, ...]  # "3.10", ... oldest first
    systems: tuple[str, ...]  # runner labels
    why: tuple[str, ...]  # how each axis was chosen, for the workflow's header
    left_out: tuple[str, ...]  # what the project names that the matrix cannot run, said


def read_metadata(project: Project) -> Metadata:
    root = project.root
    pyproject = root / "pyproject.toml"
    data = load_pyproject(pyproject) if pyproject.is_file() else {}
    setup_cfg = _setup_cfg(root / "setup.cfg")
    requires, requires_from = _requires_python(project, data, setup_cfg)
    classifiers, classifiers_from = _classifiers(root, data, setup_cfg)
    return Metadata(requires, requires_from, classifiers, classifiers_from)


def _setup_cfg(path: Path) -> configparser.ConfigParser | None:
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return None
    return parser


def _requires_python(
    project: Project, data: dict[str, Any], setup_cfg: configparser.ConfigParser | None
) -> tuple[str, str]:
    if project.requires_python:
        table = data.get("project", {})
        written = isinstance(table, dict) and table.get("requires-python")
        where = (
            "pyproject.toml [project] requires-python"
            if written
            else "Pipfile [requires] python_version"
        )
        return project.requires_python, where
    if setup_cfg is not None and setup_cfg.has_option("options", "python_requires"):
        return setup_cfg.get("options", "python_requires").strip(), "setup.cfg python_requires"
    poetry = data.get("tool", {}).get("poetry", {})
    python = poetry.get("dependencies", {}).get("python") if isinstance(poetry, dict) else None
    if isinstance(python, str) and python.strip():
        return python.strip(), "pyproject.toml [tool.poetry.dependencies] python"
    return "", ""


def _classifiers(
    root: Path, data: dict[str, Any], setup_cfg: configparser.ConfigParser | None
) -> tuple[tuple[str, ...], str]:
    table = data.get("project", {})
    found = table.get("classifiers") if isinstance(table, dict) else None
    if isinstance(found, list):
        return tuple(c for c in found if isinstance(c, str)), "pyproject.toml [project] classifiers"
    poetry = data.get("tool", {}).get("poetry", {})
    found = poetry.get("classifiers") if isinstance(poetry, dict) else None
    if isinstance(found, list):
        return _poetry_classifiers(root), "the classifiers Poetry writes"
    if setup_cfg is not None and setup_cfg.has_option("metadata", "classifiers"):
        lines = setup_cfg.get("metadata", "classifiers").splitlines()
        named = tuple(line.strip() for line in lines if line.strip())
        if named and not named[0].startswith("file:"):
            return named, "setup.cfg classifiers"
    return (), ""


def _poetry_classifiers(root: Path) -> tuple[str, ...]:
    """The classifiers Poetry writes into the metadata: its table's, plus one per Python version
    its python constraint allows (poetry-core adds them), as poetry-core computes them."""
    from poetry.core.factory import Factory  # noqa: PLC0415  (only Poetry projects pay for it)

    try:
        return tuple(Factory().create_poetry(root).package.all_classifiers)
    except Exception as exc:  # noqa: BLE001  (its own validation, worded by poetry-core)
        raise InputError(f"pyproject.toml: [tool.poetry]: {exc}") from None


def allowed_by(requires: str, where: str) -> tuple[str, ...]:
    """The versions of SETUP_PYTHON_VERSIONS one of whose releases ``requires`` allows (a PEP 440
    specifier, or Poetry's constraint syntax when read from Poetry's table)."""
    if not requires:
        return SETUP_PYTHON_VERSIONS
    if "tool.poetry" in where:
        return _allowed_by_poetry(requires, where)
    try:
        spec = SpecifierSet(requires)
    except InvalidSpecifier:
        raise InputError(f"{where} {requires!r} is not a version specifier") from None
    return tuple(
        minor
        for minor in SETUP_PYTHON_VERSIONS
        if any(spec.contains(f"{minor}.{patch}", prereleases=False) for patch in _PATCHES)
    )


def _allowed_by_poetry(requires: str, where: str) -> tuple[str, ...]:
    from poetry.core.constraints.version import Version, parse_constraint  # noqa: PLC0415

    try:
        constraint = parse_constraint(requires)
    except ValueError:
        raise InputError(f"{where} {requires!r} is not a Poetry version constraint") from None
    return tuple(
        minor
        for minor in SETUP_PYTHON_VERSIONS
        if any(constraint.allows(Version.parse(f"{minor}.{patch}")) for patch in _PATCHES)
    )


def classifier_pythons(classifiers: tuple[str, ...]) -> tuple[str, ...]:
    """The 3.X versions the ``Programming Language :: Python :: 3.X`` classifiers name."""
    named = []
    for classifier in classifiers:
        tail = classifier.removeprefix(_PYTHON_CLASSIFIER).strip()
        major, dot, minor = tail.partition(".")
        if (
            classifier.startswith(_PYTHON_CLASSIFIER)
            and dot
            and major.isdigit()
            and minor.isdigit()
        ):
            named.append(tail)
    return tuple(sorted(set(named), key=lambda v: tuple(int(p) for p in v.split("."))))


def choose_matrix(meta: Metadata) -> Matrix:
    allowed = allowed_by(meta.requires_python, meta.requires_from)
    named = classifier_pythons(meta.classifiers)
    left_out: list[str] = []
    if named:
        pythons = tuple(v for v in allowed if v in named)
        outside = [v for v in named if v not in SETUP_PYTHON_VERSIONS]
        refused = [v for v in named if v in SETUP_PYTHON_VERSIONS and v not in allowed]
        if outside:
            left_out.append(
                f"Python {', '.join(outside)} ({meta.classifiers_from}): not among the versions "
                f"actions/setup-python offers here ({', '.join(SETUP_PYTHON_VERSIONS)})"
            )
        if refused:
            left_out.append(
                f"Python {', '.join(refused)} ({meta.classifiers_from}): "
                f"{meta.requires_from} {meta.requires_python} does not allow it"
            )
    else:
        pythons = allowed
    if not pythons:
        raise InputError(
            "generate ci: no Python version actions/setup-python offers "
            f"({', '.join(SETUP_PYTHON_VERSIONS)}) is allowed by the project's metadata "
            f"({_said(meta)})",
            hint="correct requires-python or the Programming Language :: Python :: 3.X classifiers",
        )
    systems, dropped = _systems(meta.classifiers)
    left_out += dropped
    why = (
        f"Python {', '.join(pythons)}: {_said(meta)}, among the versions actions/setup-python "
        f"offers ({', '.join(SETUP_PYTHON_VERSIONS)})",
        f"on {', '.join(systems)}: "
        + ("the classifiers name macOS" if MACOS in systems else "the default (Linux)"),
    )
    return Matrix(pythons, systems, why, tuple(left_out))


def _said(meta: Metadata) -> str:
    parts = []
    if meta.requires_python:
        parts.append(f"{meta.requires_from} {meta.requires_python}")
    if classifier_pythons(meta.classifiers):
        parts.append(f"the Python versions of {meta.classifiers_from}")
    return " and ".join(parts) or "the project names no Python version"


def _systems(classifiers: tuple[str, ...]) -> tuple[tuple[str, ...], list[str]]:
    systems = [LINUX]
    dropped = []
    if any(c.startswith("Operating System :: MacOS") for c in classifiers):
        systems.append(MACOS)
    if any(c.startswith("Operating System :: Microsoft :: Windows") for c in classifiers):
        dropped.append("Windows (the classifiers name it): bulletproof does not run on Windows")
    return tuple(systems), dropped
