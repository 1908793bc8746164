"""What is wrong in a Rust extension's packaging, read from the project's own files: the crate
its Python build backend (maturin, setuptools-rust) is to build is not where the backend looks,
or that manifest is a Cargo workspace with no package of its own, or it is not TOML.

It does not read the build's output: a build can fail before it gets that far ("Rust not found"
when no toolchain is installed) and its wording changes between releases, while the files say
the same. Only called when the project's own package did not build: it explains, never gates.
Nothing here raises on odd input: a fault, or nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulletproof.analyze.cratedeps import CARGO, cargo_manifests
from bulletproof.tomlcompat import tomllib

_EXTENSION_DEPENDENCIES = ("pyo3", "pyo3-ffi")
_LINE = re.compile(r"at line (\d+)")
# setup.py: RustExtension("pkg._lib", path="rust/Cargo.toml"), the simple form only
_RUST_EXTENSION = re.compile(r"RustExtension\s*\(([^)]*)\)")
_PATH_ARGUMENT = re.compile(r"""\bpath\s*=\s*["']([^"']+)["']""")


@dataclass(frozen=True)
class PackagingFault:
    """One fault in the project's packaging: the file to change (relative to the project's
    root), what is wrong, and the fix with the lines to write."""

    file: str
    problem: str
    fix: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "problem": self.problem, "fix": self.fix}


# how the fix names a crate for the backend: the line to write, given the manifest's path
Naming = Callable[[str], str]


def rust_packaging_faults(root: Path) -> tuple[PackagingFault, ...]:
    """The faults in the Rust packaging of the project at ``root``; () for a project that is
    not built by a Rust backend, or whose crate is where its backend looks for it."""
    try:
        pyproject = _toml(root / "pyproject.toml")
        backend = _table(pyproject, "build-system").get("build-backend")
        if isinstance(backend, str) and backend.split(".")[0] == "maturin":
            return _maturin_faults(root, pyproject)
        return _setuptools_rust_faults(root, pyproject)
    except (OSError, ValueError, RecursionError):  # an unreadable file explains nothing
        return ()


def _maturin_faults(root: Path, pyproject: dict[str, Any]) -> tuple[PackagingFault, ...]:
    """Where maturin looks for its crate, as maturin does it (project_layout.rs): the
    `[tool.maturin] manifest-path`, else rust/Cargo.toml when the Python source is set apart
    (`python-source`, or src/<import name>), else Cargo.toml beside pyproject.toml."""
    maturin = _table(pyproject, "tool", "maturin")

    def naming(path: str) -> str:
        return (
            f'name the extension crate in pyproject.toml: [tool.maturin] manifest-path = "{path}"'
        )

    manifest = maturin.get("manifest-path")
    if isinstance(manifest, str):
        path = root / manifest
        if not _inside(path, root):
            return (
                PackagingFault(
                    "pyproject.toml",
                    f"pyproject.toml's [tool.maturin] manifest-path = {manifest!r} is outside "
                    "the project: maturin refuses a Cargo.toml outside the folder of "
                    "pyproject.toml",
                    _naming_fix(root, naming, "move the crate into the project"),
                ),
            )
        if not path.is_file():
            return (
                PackagingFault(
                    "pyproject.toml",
                    f"pyproject.toml's [tool.maturin] manifest-path names {manifest}, "
                    "which is not there",
                    _naming_fix(root, naming, f"add the crate's Cargo.toml at {manifest}"),
                ),
            )
        return _manifest_faults(root, path, "maturin", naming)
    rust = root / "rust" / CARGO
    if rust.is_file() and _python_source_apart(root, pyproject, maturin):
        return _manifest_faults(root, rust, "maturin", naming)
    path = root / CARGO
    if not path.is_file():
        return (
            PackagingFault(
                "pyproject.toml",
                "pyproject.toml builds with maturin, but there is no Cargo.toml beside it, "
                "where maturin looks ([tool.maturin] manifest-path is not set)",
                _naming_fix(root, naming, "add the crate's Cargo.toml beside pyproject.toml"),
            ),
        )
    return _manifest_faults(root, path, "maturin", naming)


def _python_source_apart(root: Path, pyproject: dict[str, Any], maturin: dict[str, Any]) -> bool:
    if isinstance(maturin.get("python-source"), str):
        return True
    name = _table(pyproject, "project").get("name")
    return isinstance(name, str) and (root / "src" / name.replace("-", "_")).is_dir()


def _setuptools_rust_faults(root: Path, pyproject: dict[str, Any]) -> tuple[PackagingFault, ...]:
    """setuptools-rust: each extension's `path` (Cargo.toml by default) in
    `[tool.setuptools-rust]`, or in setup.py's `RustExtension(...)` calls."""
    faults: list[PackagingFault] = []
    table = _table(pyproject, "tool", "setuptools-rust")
    for kind in ("ext-modules", "bins"):
        entries = table.get(kind)
        for entry in entries if isinstance(entries, list) else ():
            path = entry.get("path", CARGO) if isinstance(entry, dict) else None
            if isinstance(path, str):
                faults += _named_crate_faults(root, path, "pyproject.toml", f"[tool.{kind}]")
    setup_py = root / "setup.py"
    if not faults and setup_py.is_file():
        source = setup_py.read_text(encoding="utf-8", errors="replace")
        for call in _RUST_EXTENSION.finditer(source):
            found = _PATH_ARGUMENT.search(call.group(1))
            path = found.group(1) if found else CARGO
            faults += _named_crate_faults(root, path, "setup.py", "RustExtension(...)")
    return tuple(dict.fromkeys(faults))  # two extensions of one crate: said once


def _named_crate_faults(root: Path, path: str, file: str, where: str) -> list[PackagingFault]:
    """A crate setuptools-rust is given in ``file`` (``where`` in it)."""
    where = where.replace("[tool.", "[tool.setuptools-rust.")

    def naming(crate: str) -> str:
        if file == "setup.py":
            return (
                f'point the extension at its crate in setup.py: RustExtension(..., path="{crate}")'
            )
        return f'point the extension at its crate in pyproject.toml\'s {where}: path = "{crate}"'

    manifest = root / path
    if not _inside(manifest, root) or not manifest.is_file():
        return [
            PackagingFault(
                file,
                f"{file} builds a Rust extension with setuptools-rust from {path} ({where}), "
                "which is not there",
                _naming_fix(root, naming, f"add the crate's Cargo.toml at {path}"),
            )
        ]
    return list(_manifest_faults(root, manifest, "setuptools-rust", naming))


def _manifest_faults(
    root: Path, manifest: Path, builder: str, naming: Naming
) -> tuple[PackagingFault, ...]:
    """The manifest the backend builds from: TOML, with a [package]."""
    shown = _relative(manifest, root)
    try:
        cargo = _toml(manifest)
    except ValueError as exc:  # tomllib's error says the line and column
        line = _LINE.search(str(exc))
        at = f" at line {line.group(1)}" if line else ""
        return (
            PackagingFault(
                shown,
                f"{shown} is not valid TOML{at}: {exc}",
                f"correct {shown}{at} (cargo and {builder} read it as TOML)",
            ),
        )
    if isinstance(cargo.get("package"), dict):
        return ()  # a crate: whatever failed, it is not where the crate is
    if "workspace" in cargo:
        members = _members(root, manifest, cargo)
        problem = (
            f"{shown} is a Cargo workspace with no [package]: {builder} has no crate to "
            "build from it"
        )
    else:
        members = ()
        problem = f"{shown} has no [package]: {builder} has no crate to build from it"
    return (PackagingFault(shown, problem, _naming_fix(root, naming, "", members)),)


def _naming_fix(root: Path, naming: Naming, otherwise: str, among: tuple[str, ...] = ()) -> str:
    """The fix that names the crate to build: among the workspace's members when given, else
    among the crates in the project's tree, the likely extension first."""
    crates = among or _crates(root)
    if not crates:
        return otherwise or (
            "add the extension crate's Cargo.toml (with [package] and [lib] crate-type = "
            f'["cdylib"]), then {naming("path/to/Cargo.toml")}'
        )
    fix = naming(crates[0])
    if len(crates) > 1:
        fix += f" (the other crates found: {', '.join(crates[1:6])})"
    return fix


def _members(root: Path, manifest: Path, cargo: dict[str, Any]) -> tuple[str, ...]:
    """The workspace's members that are packages (globs such as "crates/*" expanded, `exclude`
    left out), relative to the project's root, the likely extension first."""
    workspace = cargo["workspace"] if isinstance(cargo["workspace"], dict) else {}
    base = manifest.parent
    excluded = {(base / e).resolve() for e in _strings(workspace.get("exclude"))}
    found: list[Path] = []
    for pattern in _strings(workspace.get("members")):
        if not pattern.strip() or Path(pattern).is_absolute():
            continue
        try:
            globbed = any(c in pattern for c in "*?[")
            folders = sorted(base.glob(pattern)) if globbed else [base / pattern]
        except (ValueError, NotImplementedError):  # a pattern pathlib does not take
            continue
        found += [f / CARGO for f in folders if f.resolve() not in excluded]
    return _ranked(root, found)


def _crates(root: Path) -> tuple[str, ...]:
    """Every Cargo.toml in the project's tree that is a package, the likely extension first."""
    return _ranked(root, cargo_manifests(root))


def _ranked(root: Path, manifests: list[Path]) -> tuple[str, ...]:
    """The manifests that are packages inside the project: extensions (a cdylib, or built on
    pyo3) first, each group in the order found."""
    packages: list[tuple[bool, str]] = []
    for manifest in dict.fromkeys(manifests):
        if not _inside(manifest, root) or not manifest.is_file():
            continue
        try:
            cargo = _toml(manifest)
        except (OSError, ValueError):
            continue
        if isinstance(cargo.get("package"), dict):
            packages.append((_is_extension(cargo), _relative(manifest, root)))
    return tuple(path for extension, path in sorted(packages, key=lambda p: not p[0]))


def _is_extension(cargo: dict[str, Any]) -> bool:
    kinds = _table(cargo, "lib").get("crate-type")
    dependencies = _table(cargo, "dependencies")
    return (isinstance(kinds, list) and "cdylib" in kinds) or any(
        name in dependencies for name in _EXTENSION_DEPENDENCIES
    )


def _toml(path: Path) -> dict[str, Any]:
    """The file as TOML ({} when it is not there); ValueError when it is not TOML."""
    if not path.is_file():
        return {}
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8", errors="replace"))
    return data


def _table(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    """A nested table, {} where any level is missing or not a table."""
    for key in keys:
        value = data.get(key)
        data = value if isinstance(value, dict) else {}
    return data


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _strings(value: object) -> list[str]:
    """A list of strings as written; anything else is no list."""
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
