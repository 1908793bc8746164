"""Where uv looks for packages when it locks a project: the index settings from the environment,
the requirement files' options and uv's own settings, as the places to name when a package is
not found (uv's own message does not name them). Credentials are redacted."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bulletproof.model import Project
from bulletproof.proc import redact
from bulletproof.tomlcompat import tomllib

DEFAULT_INDEX = "https://pypi.org/simple"  # uv's default when nothing names another
_OPTION = re.compile(
    r"^\s*(-i|--index-url|--extra-index-url|-f|--find-links|--no-index)(?:[\s=]+(\S+))?", re.M
)
_KINDS = {"-i": "index", "--index-url": "index", "--extra-index-url": "extra", "-f": "links"}


class _Found:
    def __init__(self) -> None:
        self.index: str | None = None
        self.extra: list[str] = []
        self.links: list[str] = []
        self.no_index = False

    def add(self, kind: str, value: str) -> None:
        if kind == "index":
            self.index = self.index or value  # the first setting read wins, as uv's precedence
        elif kind == "extra":
            self.extra.append(value)
        else:
            self.links.append(value)


# pip's index settings, which uv does not read, passed to uv under its own names (unless set)
PIP_TO_UV = {"PIP_INDEX_URL": "UV_INDEX_URL", "PIP_EXTRA_INDEX_URL": "UV_EXTRA_INDEX_URL"}


def index_env() -> dict[str, str]:
    return {
        uv: os.environ[pip]
        for pip, uv in PIP_TO_UV.items()
        if pip in os.environ and uv not in os.environ
    }


def index_locations(project: Project | None, environ: Mapping[str, str] | None = None) -> list[str]:
    """The indexes and find-links locations uv was given, in the order uv consults them."""
    env = {**(os.environ if environ is None else environ), **index_env()}
    found = _Found()
    found.no_index = env.get("UV_NO_INDEX", "").lower() in ("1", "true", "yes", "on")
    found.index = env.get("UV_DEFAULT_INDEX") or env.get("UV_INDEX_URL") or None
    for value in env.get("UV_INDEX", "").split():
        found.add("extra", value.partition("=")[2] if "=" in value.split("://")[0] else value)
    found.extra += env.get("UV_EXTRA_INDEX_URL", "").split()
    found.links += env.get("UV_FIND_LINKS", "").replace(",", " ").split()
    if project is not None:
        for path in project.requirement_files:
            _from_requirements(path, found)
        for settings in (project.pyproject, project.root / "uv.toml"):
            if settings is not None and settings.is_file():
                _from_settings(settings, found)
    where: list[str] = []
    if not found.no_index:
        where += [found.index or DEFAULT_INDEX, *found.extra]
    where += [f"{link} (find-links)" for link in found.links]
    return [redact(w) for w in dict.fromkeys(where)] or ["no index (--no-index) and no find-links"]


def _from_requirements(path: Path, found: _Found) -> None:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return
    for name, value in _OPTION.findall(text):
        if name == "--no-index":
            found.no_index = True
        elif value:
            found.add(_KINDS.get(name, "links"), value)


def _from_settings(path: Path, found: _Found) -> None:
    """uv's settings in pyproject.toml ([tool.uv], [tool.uv.pip]) or uv.toml (top level)."""
    try:
        with path.open("rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError):
        return
    top = data.get("tool", {}).get("uv", {}) if path.name == "pyproject.toml" else data
    for table in (top, top.get("pip", {}) if isinstance(top, dict) else {}):
        if not isinstance(table, dict):
            continue
        if table.get("no-index") is True:
            found.no_index = True
        if isinstance(table.get("index-url"), str):
            found.add("index", table["index-url"])
        for kind, key in (("extra", "extra-index-url"), ("links", "find-links")):
            values = table.get(key, [])
            for value in [values] if isinstance(values, str) else values:
                found.add(kind, str(value))
        for index in table.get("index", []) if isinstance(table.get("index"), list) else []:
            if isinstance(index, dict) and "url" in index:
                found.add("index" if index.get("default") else "extra", str(index["url"]))
