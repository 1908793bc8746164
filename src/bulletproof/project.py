"""discover(DIR) -> Project: what the project asks for, validated before any tool runs."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from bulletproof.errors import InputError
from bulletproof.model import Config, Project, Selection
from bulletproof.pyproject import external_table, load_pyproject, project_table, read_config
from bulletproof.requirements import parse_file
from bulletproof.shapes import DEV_NAMES
from bulletproof.shapes.groups import pep735_groups, tool_dev_groups
from bulletproof.shapes.pipfile import pipfile_python, read_pipfile
from bulletproof.shapes.poetry import package_mode, poetry_groups
from bulletproof.shapes.reqfiles import choose as choose_requirement_files
from bulletproof.shapes.scm import pretend_version_env
from bulletproof.shapes.teamlock import find_team_lock

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


def _own_packages(root: Path) -> tuple[tuple[str, ...], tuple[Path, ...]]:
    """Folders with ``__init__.py`` under src/ or the root; else, for a project that is run from
    its folder, the namespace folders its top-level scripts import (``from reader import x``)."""
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
    folders = {
        p.name
        for p in root.iterdir()
        if p.is_dir()
        and p.name.isidentifier()
        and p.name not in _NOT_PACKAGES
        and any(p.glob("*.py"))
    }
    imported: set[str] = set()
    for script in root.glob("*.py"):
        text = script.read_text(encoding="utf-8", errors="replace")
        imported |= set(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", text, re.MULTILINE))
    names = tuple(sorted(folders & imported))
    return (names, (root,)) if names else ((), ())


def _static_extras(root: Path, data: dict[str, Any]) -> set[str] | None:
    """The extras the project declares where they can be read without building; None when its
    metadata is dynamic (setup.py, a backend's own table)."""
    project = data.get("project")
    if isinstance(project, dict):
        if "optional-dependencies" in project.get("dynamic", []):
            return None
        optional = project.get("optional-dependencies", {})
        return set(optional) if isinstance(optional, dict) else set()
    extras = data.get("tool", {}).get("poetry", {}).get("extras")
    if isinstance(extras, dict):
        return set(extras)
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file() and not (root / "setup.py").is_file():
        parser = _read_setup_cfg(setup_cfg)
        if parser is None:
            raise InputError("setup.cfg: cannot be read (not valid INI)")
        if parser.has_section("options.extras_require"):
            return set(parser.options("options.extras_require"))
        return set()
    return None


def _metadata_source(root: Path, data: dict[str, Any]) -> tuple[Path | None, str]:
    """The file through which uv reads the project's own requirements, and the shape."""
    tool = data.get("tool", {})
    if "poetry" in tool and "project" not in data:
        backend = str(data.get("build-system", {}).get("build-backend", ""))
        packaged = package_mode(data) and backend.startswith("poetry")
        return (root / "pyproject.toml" if packaged else None), "poetry"
    if tool.get("uv", {}).get("package") is False:
        return None, "pyproject"
    if "project" in data:
        return root / "pyproject.toml", "pyproject"
    declarative = (root / "setup.cfg").is_file() and _setup_cfg_has_metadata(root / "setup.cfg")
    if (root / "setup.py").is_file():  # a setup() shim beside a declarative setup.cfg is that
        shape = "setup.cfg" if declarative else "setup.py"
        return (root / "pyproject.toml" if data else root / "setup.py"), shape
    if declarative:
        return (root / "pyproject.toml" if data else root / "setup.cfg"), "setup.cfg"
    return None, "requirements"


def _read_setup_cfg(path: Path) -> configparser.ConfigParser | None:
    """setup.cfg as setuptools reads it (no interpolation); None when it is not valid INI."""
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error:
        return None
    return parser


def _setup_cfg_has_metadata(path: Path) -> bool:
    parser = _read_setup_cfg(path)
    return parser is not None and parser.has_option("metadata", "name")


def _groups(root: Path, data: dict[str, Any]) -> tuple[dict[str, list[str]], list[str]]:
    """Every group the project declares (by canonical name), and its main requirements where
    a Poetry or Pipenv project keeps them outside any package metadata."""
    groups: dict[str, list[str]] = {}
    main: list[str] = []

    def add(found: dict[str, list[str]]) -> None:
        for name, reqs in found.items():
            groups.setdefault(canonicalize_name(name), []).extend(reqs)

    add(pep735_groups(data))
    add(tool_dev_groups(data))
    poetry = poetry_groups(root, data)
    if poetry is not None:
        main += poetry.pop("main", [])
        add(poetry)
    pipfile = root / "Pipfile"
    if pipfile.is_file():
        sections = read_pipfile(pipfile)
        main += sections["main"]
        add({"dev": sections["dev"]})
    return groups, main


def _choose_groups(
    groups: dict[str, list[str]], selection: Selection
) -> tuple[tuple[str, ...], list[str]]:
    asked: list[str] = [canonicalize_name(g) for g in (*selection.groups, *selection.only_groups)]
    for name in asked:
        if name not in groups:
            known = ", ".join(sorted(groups)) or "none"
            raise InputError(
                f"no dependency group named {name!r} in this project", hint=f"its groups: {known}"
            )
    if selection.only_groups:
        chosen: list[str] = [canonicalize_name(g) for g in selection.only_groups]
    else:
        chosen = [str(g) for g in groups if selection.dev and g in DEV_NAMES] + asked
    chosen = list(dict.fromkeys(chosen))
    return tuple(chosen), [r for g in chosen for r in groups[g]]


def _choose_extras(
    static: set[str] | None, selection: Selection
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(extras asked for, dev-named extras guessed where the metadata is dynamic)."""
    known = {canonicalize_name(e) for e in static} if static is not None else None
    asked = [canonicalize_name(e) for e in selection.extras]
    if known is not None:
        for extra in asked:
            if extra not in known:
                raise InputError(
                    f"the project has no extra named {extra!r}",
                    hint=f"its extras: {', '.join(sorted(known)) or 'none'}",
                )
    if not selection.dev or selection.only_groups:
        return tuple(asked), ()
    if known is not None:
        return tuple(dict.fromkeys(asked + sorted(known & DEV_NAMES))), ()
    return tuple(asked), tuple(sorted(DEV_NAMES - set(asked)))


def _merge(cli: Selection, config: Selection) -> Selection:
    return Selection(
        extras=tuple(dict.fromkeys((*config.extras, *cli.extras))),
        all_extras=cli.all_extras or config.all_extras,
        groups=tuple(dict.fromkeys((*config.groups, *cli.groups))),
        only_groups=cli.only_groups,
        dev=cli.dev and config.dev,
        locked=cli.locked,
    )


def discover(directory: Path, selection: Selection | None = None) -> Project:
    root = directory.expanduser().absolute()
    if not root.exists():
        raise InputError(f"{directory}: no such folder")
    if not root.is_dir():
        raise InputError(f"{directory}: not a folder")
    pyproject = root / "pyproject.toml"
    data = load_pyproject(pyproject) if pyproject.exists() else {}
    config = read_config(data)
    chosen = _merge(selection or Selection(), config.selection)
    name, deps, requires = project_table(data)
    files, notes = _requirement_files(root, directory, config, chosen)
    source, shape = _metadata_source(root, data)
    groups, main = _groups(root, data)
    group_names, group_reqs = _choose_groups(groups, chosen)
    if (root / "Pipfile").is_file():
        shape = "pipenv"
        group_reqs = main + group_reqs
    elif source is None:  # a Poetry or uv project that is not a package: its own requirements
        group_reqs = list(deps) + main + group_reqs
    if chosen.only_groups:
        source, files = None, []
    extras, guessed = _choose_extras(_static_extras(root, data), chosen)
    if files and shape in ("pyproject", "requirements") and source is None:
        shape = "requirements"
    installable = source is not None
    if not installable and not files and not group_reqs:
        raise InputError(
            f"{directory}: nothing to set up",
            hint="looked for pyproject.toml ([project], [tool.poetry], [dependency-groups]), "
            "setup.py, setup.cfg, a Pipfile and requirements files (requirements*.txt, "
            "requirements/*.txt, dev-requirements.txt); name other files with "
            "[tool.bulletproof] requirements = [...]",
        )
    if name is None and installable:
        name = _setup_name(root) or root.name
    packages, roots = _own_packages(root)
    team = find_team_lock(root, group_names)
    if team is not None:
        notes.append(f"the team's lock: {team.name}")
    for group in group_names:
        notes.append(f"dependency group {group!r}")
    others = [
        p
        for p in (root / "Pipfile", root / "uv.toml", root / "setup.py", root / "setup.cfg")
        if p.is_file() and p != source
    ]
    return Project(
        root=root,
        name=name or root.name,
        pyproject=source,
        requirement_files=tuple(files),
        dependencies=deps,
        requires_python=requires or _pipfile_requires(root),
        config=config,
        installable=installable,
        own_packages=packages,
        source_roots=roots,
        external=external_table(data),
        shape=shape,
        extras=extras,
        guessed_extras=guessed,
        all_extras=chosen.all_extras,
        groups=group_names,
        group_requirements=tuple(group_reqs),
        direct_requirements=tuple(deps) + tuple(group_reqs),
        unchosen_requirements=_unchosen(data, groups, group_names, extras),
        team_lock=team,
        build_env=tuple(sorted(pretend_version_env(root, data, name).items()))
        if installable
        else (),
        other_inputs=tuple(others),
        notes=tuple(notes),
        selection=chosen,
    )


def _requirement_files(
    root: Path, directory: Path, config: Config, chosen: Selection
) -> tuple[list[Path], list[str]]:
    """The requirement files that make the environment (those [tool.bulletproof] names, else
    the ones chosen by their names), and notes on the choice."""
    if config.requirements is None:
        choice = choose_requirement_files(root, dev=chosen.dev)
        skipped = [f"not used: {why}" for why in choice.skipped]
        return list(choice.files), [*choice.used, *skipped, *choice.notes]
    named = [root / f for f in config.requirements]
    for given, path in zip(config.requirements, named, strict=True):
        if not path.is_file():
            raise InputError(
                f"pyproject.toml: [tool.bulletproof] requirements names {given!r}, "
                f"which is not a file in {directory}"
            )
    files: list[Path] = []
    notes = ["requirement files named in [tool.bulletproof] requirements"]
    seen: set[Path] = set()
    for path in named:
        found = parse_file(path, root, seen)
        files += found.files
        notes += found.notes
    return files, notes


def _unchosen(
    data: dict[str, Any],
    groups: dict[str, list[str]],
    chosen_groups: tuple[str, ...],
    chosen_extras: tuple[str, ...],
) -> tuple[str, ...]:
    """Requirements of the extras and groups not chosen, where they can be read: the first
    place an undeclared import is looked for."""
    out = [r for g, reqs in groups.items() if g not in chosen_groups for r in reqs]
    optional = data.get("project", {}).get("optional-dependencies", {})
    if isinstance(optional, dict):
        for extra, reqs in optional.items():
            if canonicalize_name(extra) not in chosen_extras and isinstance(reqs, list):
                out += [r for r in reqs if isinstance(r, str)]
    return tuple(out)


def _setup_name(root: Path) -> str | None:
    """The distribution name a setup.cfg or a literal ``setup(name=...)`` gives."""
    setup_cfg = root / "setup.cfg"
    parser = _read_setup_cfg(setup_cfg) if setup_cfg.is_file() else None
    if parser is not None and parser.has_option("metadata", "name"):
        return parser.get("metadata", "name").strip() or None
    setup_py = root / "setup.py"
    if setup_py.is_file():
        text = setup_py.read_text(encoding="utf-8", errors="replace")
        found = re.search(r"\bname\s*=\s*['\"]([A-Za-z0-9._-]+)['\"]", text)
        return found.group(1) if found else None
    return None


def _pipfile_requires(root: Path) -> str | None:
    pipfile = root / "Pipfile"
    return pipfile_python(pipfile) if pipfile.is_file() else None
