"""PEP 804 name mappings: which ecosystem this host is, and its package names for PEP 725 ids.

The project ships one mapping per supported release (mappings/*.mapping.json). PEP 804 files
installed in the standard data directory (``share/external-packaging-metadata-mappings``) fill
in identifiers ours do not know; ours win where both speak, because ours are checked per release.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from bulletproof.model import OsInfo

log = logging.getLogger(__name__)

STANDARD_DIR = "external-packaging-metadata-mappings"
ROLES = ("build", "host", "run")
# An Ubuntu base named by its codename (Linux Mint and other derivatives set UBUNTU_CODENAME).
UBUNTU_CODENAMES = {"jammy": "22.04", "noble": "24.04"}
DEBIAN_CODENAMES = {"bookworm": "12", "trixie": "13"}


@dataclass(frozen=True)
class PackageManager:
    name: str
    install: tuple[str, ...]  # with one "{}" where the package names go
    elevate: bool  # the install needs root
    query: tuple[str, ...]  # with one "{}": one package per query

    def install_command(self, names: tuple[str, ...]) -> tuple[str, ...]:
        return _render(self.install, names)

    def query_command(self, name: str) -> tuple[str, ...]:
        return _render(self.query, (name,))


def _render(template: tuple[str, ...], names: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for arg in template:
        out.extend(names if arg == "{}" else (arg,))
    return tuple(out)


@dataclass(frozen=True)
class DistroMapping:
    ecosystem: str  # "debian-12", "ubuntu-24.04", "fedora", ...
    name: str
    manager: PackageManager
    python_headers: str  # package name template with {minor}; "" when interpreters carry them
    specs: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    descriptions: dict[str, str] = field(default_factory=dict)

    def packages(self, identifier: str, role: str) -> tuple[str, ...] | None:
        """Package names for an identifier in a role; None when the mapping does not know it."""
        entry = self.specs.get(identifier.split("@", 1)[0])
        return None if entry is None else entry.get(role, ())

    def description(self, identifier: str) -> str:
        return self.descriptions.get(identifier.split("@", 1)[0], "")


def ecosystem_for(os_info: OsInfo, platform: str = sys.platform) -> str | None:
    """The mapping that fits this host, or None for a system the project has no mapping for."""
    if platform == "darwin":
        return "homebrew"
    family = (os_info.id, *os_info.id_like)
    major = os_info.version_id.split(".")[0]
    if os_info.id == "ubuntu" or ("ubuntu" in family and os_info.ubuntu_codename):
        version = UBUNTU_CODENAMES.get(os_info.ubuntu_codename) or os_info.version_id
        return "ubuntu-22.04" if version < "24.04" else "ubuntu-24.04"
    if "debian" in family:
        major = DEBIAN_CODENAMES.get(os_info.version_codename, major)
        # testing and unstable carry no VERSION_ID: the newest release is the nearest
        return (
            "debian-12" if major == "12" or (major.isdigit() and int(major) < 12) else "debian-13"
        )
    for known in ("fedora", "arch", "alpine"):
        if known in family:
            return known
    return None


def _read_file(path: Path | Any) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("ignoring PEP 804 mapping %s: %s", path, exc)
        return None
    return data if isinstance(data, dict) and isinstance(data.get("mappings"), list) else None


def standard_dirs() -> list[Path]:
    prefixes = dict.fromkeys([Path(sys.prefix), Path("/usr/local"), Path("/usr")])
    return [p / "share" / STANDARD_DIR for p in prefixes]


def load_mapping(ecosystem: str, extra_dirs: list[Path] | None = None) -> DistroMapping:
    own = _read_file(resources.files(__package__) / "mappings" / f"{ecosystem}.mapping.json")
    if own is None:
        raise ValueError(f"no mapping named {ecosystem}")
    manager = own["package_managers"][0]
    commands = manager["commands"]
    specs: dict[str, dict[str, tuple[str, ...]]] = {}
    descriptions: dict[str, str] = {}
    family = ecosystem.split("-", maxsplit=1)[0]
    for folder in extra_dirs if extra_dirs is not None else standard_dirs():
        for path in sorted(folder.glob("*.mapping.json")) if folder.is_dir() else ():
            if path.name.split(".mapping")[0] in (ecosystem, family):
                data = _read_file(path)
                if data:
                    specs.update(_entries(data["mappings"]))
                    descriptions.update(_descriptions(data["mappings"]))
    specs.update(_entries(own["mappings"]))
    descriptions.update(_descriptions(own["mappings"]))
    return DistroMapping(
        ecosystem=ecosystem,
        name=own["name"],
        manager=PackageManager(
            name=manager["name"],
            install=tuple(commands["install"]["command"]),
            elevate=bool(commands["install"].get("requires_elevation", False)),
            query=tuple(commands["query"]["command"]),
        ),
        python_headers=own.get("x-bulletproof-python-headers", ""),
        specs=specs,
        descriptions=descriptions,
    )


def _entries(mappings: list[dict[str, Any]]) -> dict[str, dict[str, tuple[str, ...]]]:
    """PEP 804 entries normalized to {id: {role: names}}; specs_from followed within the file."""
    raw = {m["id"]: m for m in mappings if isinstance(m, dict) and "id" in m}
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for ident, first in raw.items():
        entry, seen = first, {ident}
        while "specs" not in entry and entry.get("specs_from") in raw.keys() - seen:
            seen.add(entry["specs_from"])
            entry = raw[entry["specs_from"]]
        specs = entry.get("specs", [])
        if isinstance(specs, str | list):  # one list for every role
            names = (specs,) if isinstance(specs, str) else tuple(specs)
            roles = dict.fromkeys(ROLES, names)
        else:
            roles = {r: _names(specs.get(r, ())) for r in ROLES}
        out[ident] = roles
    return out


def _descriptions(mappings: list[dict[str, Any]]) -> dict[str, str]:
    return {
        m["id"]: str(m.get("description", ""))
        for m in mappings
        if isinstance(m, dict) and "id" in m
    }


def _names(value: str | list[str]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)
