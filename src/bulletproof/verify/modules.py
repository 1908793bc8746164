"""Which modules a distribution makes importable, read from what it actually installed (RECORD).

top_level.txt is not used: it lists names that are not importable (google-auth lists ``scripts`` and
``testing``, google-api-python-client lists ``googleapiclient/discovery_cache``) and misses the real
packages inside namespace packages. RECORD says what files are there; from them:
- ``name.py`` or an extension module ``name.<suffix>`` at the top is a module;
- a folder with ``__init__`` is a package: importing it is the check;
- a folder without one is a namespace package: importing it proves nothing, so the modules and
  packages inside it are checked instead (``google.auth``, ``opentelemetry.sdk``);
- ``.pth`` files, data folders and names that are not identifiers are not modules;
- a file with an extension's name that exports no init function is a shared library shipped in
  the package, not a module (``not_modules``): it is skipped, and said.
"""

from __future__ import annotations

import keyword
from collections.abc import Iterable
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path, PurePosixPath

from bulletproof.verify.elfsyms import init_symbols, is_python_module

_SOURCE = (".py",)
_BINARY = (*EXTENSION_SUFFIXES, ".so", ".pyd")


def _module_name(filename: str) -> str | None:
    """'x.py' -> 'x'; 'x.cpython-312-x86_64-linux-gnu.so' -> 'x'; anything else -> None."""
    for suffix in (*_SOURCE, *_BINARY):
        if filename.endswith(suffix):
            stem = filename[: -len(suffix)]
            if suffix in (".so", ".pyd"):
                stem = stem.split(".", 1)[0]  # an ABI tag this interpreter does not know
            return stem if _is_identifier(stem) else None
    return None


def _is_identifier(name: str) -> bool:
    return name.isidentifier() and not keyword.iskeyword(name)


def _walk(prefix: tuple[str, ...], files: list[tuple[str, ...]], depth: int = 0) -> list[str]:
    """Importable names at or under ``prefix``, given the paths (relative to it) of its files."""
    direct = {parts[0] for parts in files if len(parts) == 1}
    if any(_module_name(f) == "__init__" for f in direct):
        return [".".join(prefix)]
    if depth > 4:  # namespace folders this deep hold data, not packages
        return []
    names = [
        ".".join((*prefix, name))
        for f in sorted(direct)
        if (name := _module_name(f)) is not None and name != "__main__"
    ]
    children: dict[str, list[tuple[str, ...]]] = {}
    for parts in files:
        if len(parts) > 1 and _is_identifier(parts[0]) and parts[0] != "__pycache__":
            children.setdefault(parts[0], []).append(parts[1:])
    for child in sorted(children):
        names += _walk((*prefix, child), children[child], depth + 1)
    return names


def importable_modules(record_paths: Iterable[str]) -> list[str]:
    """Top-level importable names (or, under namespace packages, the first real ones)."""
    tops: dict[str, list[tuple[str, ...]]] = {}
    singles: list[str] = []
    for raw in record_paths:
        parts = PurePosixPath(raw).parts
        if not parts or parts[0] in ("..", "/") or "__pycache__" in parts:
            continue
        if parts[0].endswith((".dist-info", ".data", ".egg-info")):
            continue
        if len(parts) == 1:
            singles.append(parts[0])
        elif _is_identifier(parts[0]):
            tops.setdefault(parts[0], []).append(parts[1:])
    names = {n for f in singles if (n := _module_name(f)) is not None and n != "__main__"}
    for top, files in tops.items():
        names.update(_walk((top,), files))
    return sorted(names)


def package_modules(source_root: Path, package: str) -> list[str]:
    """A project's own package and every submodule in it, from its source tree."""
    base = source_root / package
    names = []
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(source_root).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if rel.name == "__main__" or not all(_is_identifier(p) for p in parts):
            continue
        # only folders that are packages: a loose script folder inside is not importable as one
        # (the top may be a namespace package of a project run from its folder)
        first = 1 if (base / "__init__.py").exists() else 2
        if all(
            (source_root.joinpath(*parts[:i]) / "__init__.py").exists()
            for i in range(first, len(parts))
        ):
            names.append(".".join(parts))
    return names


# Not parts a user imports: test suites, and start-up hooks that read their own environment.
_NOT_PUBLIC = {
    "tests",
    "test",
    "testing",
    "conftest",
    "__main__",
    "setup",
    "examples",
    "sitecustomize",
    "usercustomize",
}


def public_submodules(record_paths: Iterable[str], packages: Iterable[str]) -> list[str]:
    """The first-level public submodules of each package (a lazy package can hide a missing
    library in ``pkg.sub`` while ``import pkg`` works)."""
    wanted = {tuple(p.split(".")) for p in packages}
    found: set[str] = set()
    for raw in record_paths:
        parts = PurePosixPath(raw).parts
        for package in wanted:
            n = len(package)
            if len(parts) <= n or parts[:n] != package:
                continue
            rest = parts[n:]
            if len(rest) == 1:
                name = _module_name(rest[0])
            elif len(rest) == 2 and _module_name(rest[1]) == "__init__":
                name = rest[0]
            else:
                continue
            # pkg.pkg is the package's own implementation module, loaded by pkg itself (cv2.cv2)
            if (
                name
                and not name.startswith("_")
                and name not in _NOT_PUBLIC
                and name != package[-1]
            ):
                found.add(".".join((*package, name)))
    return sorted(found)


def extension_files(record_paths: Iterable[str]) -> dict[str, str]:
    """Each module name an extension-named file in RECORD would be imported as, and that file."""
    out: dict[str, str] = {}
    for raw in record_paths:
        path = PurePosixPath(raw)
        if not path.name.endswith(_BINARY) or (name := _module_name(path.name)) is None:
            continue
        parts = path.parts[:-1] if name == "__init__" else (*path.parts[:-1], name)
        out.setdefault(".".join(parts), raw)
    return out


def not_modules(site: Path, files: dict[str, str], modules: Iterable[str]) -> dict[str, str]:
    """Of ``modules``, those whose file (``files``: from ``extension_files``) is a shared library
    that exports no init function for its name, with why: importing one fails ("does not define
    module export function") whatever the environment holds. A file that cannot be read as ELF
    stays a module."""
    out: dict[str, str] = {}
    for module in modules:
        raw = files.get(module)
        last = module.rsplit(".", 1)[-1]
        if raw is not None and is_python_module(site / raw, last) is False:
            out[module] = (
                f"not a Python module (no {init_symbols(last)[0]}): "
                "a shared library shipped in the package"
            )
    return out
