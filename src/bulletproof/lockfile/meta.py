"""The [tool.bulletproof] table bulletproof appends to pylock.toml, as one typed value.

``LockMeta.from_table`` and ``LockMeta.to_table`` are its only reader and writer: every other
module reads the fields. Reading is lenient (a malformed entry is left out, a missing key takes
its default) because the table may come from a damaged lock or an older bulletproof; whether
the lock may be reused is decided from the hashes, never from what could be read here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bulletproof.lockfile.values import AddedRequirement, MovedPin, SetAside
from bulletproof.model import Selection


@dataclass(frozen=True)
class LockMeta:
    """What a lock was made from and for (the keys are the table's, in its own spelling)."""

    input_hash: str = ""  # input-hash: base-hash with the moved pins and set-aside requirements
    packages_hash: str = ""  # packages-hash: of the body uv wrote, before this table
    packages: int | None = None  # how many packages the body locks (None: not recorded)
    python: str = ""  # the target interpreter's version
    python_path: str = ""
    python_stat: str = ""  # host.pythons.stat_key of the interpreter when the lock was made
    python_headers: bool = False
    implementation: str = "cpython"
    machine: str = ""
    yanked: tuple[str, ...] = ()  # name==version pins uv warned are yanked
    base_hash: str = ""  # the project's own inputs with the added requirements: carries fixes
    moved_pins: tuple[MovedPin, ...] = ()
    added: tuple[AddedRequirement, ...] = ()  # requirements added for undeclared imports
    set_aside: tuple[SetAside, ...] = ()  # requirements the lock was made without
    notes: tuple[str, ...] = ()
    own_build_error: str = ""  # the project's own metadata did not build: uv's words
    selection: Selection | None = None  # the extras and groups asked for (None: not recorded)

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> LockMeta:
        """The table as read from TOML; what is missing or malformed takes its default."""
        packages = table.get("packages")
        return cls(
            input_hash=_text(table.get("input-hash")),
            packages_hash=_text(table.get("packages-hash")),
            packages=packages if isinstance(packages, int) else None,
            python=_text(table.get("python")),
            python_path=_text(table.get("python-path")),
            python_stat=_text(table.get("python-stat")),
            python_headers=bool(table.get("python-headers")),
            implementation=_text(table.get("implementation")) or "cpython",
            machine=_text(table.get("machine")),
            yanked=tuple(y for y in _items(table.get("yanked")) if isinstance(y, str)),
            base_hash=_text(table.get("base-hash")),
            moved_pins=tuple(
                p for p in map(MovedPin.from_dict, _items(table.get("moved-pins"))) if p
            ),
            added=tuple(
                a for a in map(AddedRequirement.from_dict, _items(table.get("added"))) if a
            ),
            set_aside=tuple(
                SetAside(str(r["package"]), str(r.get("stage", "")), str(r.get("cause", "")))
                for r in _items(table.get("set-aside"))
                if isinstance(r, dict) and r.get("package")
            ),
            notes=tuple(str(n) for n in _items(table.get("notes"))),
            own_build_error=_text(table.get("own-build-error")),
            selection=_selection(table.get("selection")),
        )

    def to_table(self) -> dict[str, Any]:
        """The table as written: every key, in the order bulletproof has always written them."""
        return {
            "input-hash": self.input_hash,
            "packages-hash": self.packages_hash,
            "packages": self.packages or 0,
            "python": self.python,
            "python-path": self.python_path,
            "python-stat": self.python_stat,
            "python-headers": self.python_headers,
            "implementation": self.implementation,
            "machine": self.machine,
            "yanked": list(self.yanked),
            "base-hash": self.base_hash,
            "moved-pins": [p.as_dict() for p in self.moved_pins],
            "added": [a.as_dict() for a in self.added],
            "set-aside": [s.as_dict() for s in self.set_aside],
            "notes": list(self.notes),
            "own-build-error": self.own_build_error,
            "selection": _selection_table(self.selection or Selection()),
        }


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _items(value: object) -> Iterable[Any]:
    return value if isinstance(value, list) else ()


def _selection(raw: object) -> Selection | None:
    if not isinstance(raw, dict):
        return None
    return Selection(
        extras=tuple(str(e) for e in _items(raw.get("extras"))),
        all_extras=bool(raw.get("all-extras")),
        groups=tuple(str(g) for g in _items(raw.get("groups"))),
        only_groups=tuple(str(g) for g in _items(raw.get("only-groups"))),
        dev=bool(raw.get("dev", True)),
        locked=bool(raw.get("locked")),
    )


def _selection_table(selection: Selection) -> dict[str, Any]:
    """The extras and groups asked for, as recorded: verify finds the same inputs."""
    return {
        "extras": list(selection.extras),
        "all-extras": selection.all_extras,
        "groups": list(selection.groups),
        "only-groups": list(selection.only_groups),
        "dev": selection.dev,
        "locked": selection.locked,
    }
