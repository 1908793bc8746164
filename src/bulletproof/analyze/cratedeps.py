"""The registry crates a project's own Rust manifests depend on, read from its Cargo.toml files.

What a cargo build needs when its output names no crate: with a Cargo.lock in place, cargo that
cannot reach crates.io says only "Unable to update registry `crates-io`". The crates it needs
from a registry are then the ones the manifests name (their own dependencies come with the
system packages of those crates)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulletproof.fsutil import MAX_PROJECT_FILES, walk_project
from bulletproof.tomlcompat import tomllib

CARGO = "Cargo.toml"
# folders no manifest of the project's own is in: cargo's build output, npm's
_NOT_CRATES = frozenset({"target", "node_modules"})
_TABLES = ("dependencies", "build-dependencies")


def cargo_manifests(root: Path) -> list[Path]:
    """Every Cargo.toml in the project's tree (hidden folders and build output left out), in
    the walk's stable order."""
    found: list[Path] = []
    seen = 0
    for folder, dirs, files in walk_project(root):
        dirs[:] = [d for d in dirs if d not in _NOT_CRATES and not d.startswith(".")]
        seen += len(files)
        if seen > MAX_PROJECT_FILES:
            break
        if CARGO in files:
            found.append(folder / CARGO)
    return found


def manifest_crates(root: Path) -> list[str]:
    """The crates from a registry that the Cargo.toml files under ``root`` depend on (a path or
    git dependency is the project's own or fetched elsewhere: left out), each once, in order."""
    found: dict[str, None] = {}
    for manifest in cargo_manifests(root):
        for name in _crates(manifest):
            found.setdefault(name)
    return list(found)


def _crates(manifest: Path) -> list[str]:
    try:
        data = tomllib.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return []
    tables = [data.get(t) for t in _TABLES]
    tables.append(_get(data, "workspace").get("dependencies"))
    for platform in _get(data, "target").values():
        if isinstance(platform, dict):
            tables += [platform.get(t) for t in _TABLES]
    names: list[str] = []
    for table in tables:
        if isinstance(table, dict):
            names += [n for key, spec in table.items() if (n := _registry_name(key, spec))]
    return names


def _registry_name(key: str, spec: Any) -> str:
    """The crate a dependency entry gets from a registry, "" when it does not."""
    if isinstance(spec, str):
        return key
    if not isinstance(spec, dict) or {"path", "git"} & spec.keys() or spec.get("workspace"):
        return ""  # the workspace's own entry is read from [workspace.dependencies]
    package = spec.get("package")
    return package if isinstance(package, str) else key


def _get(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    return value if isinstance(value, dict) else {}
