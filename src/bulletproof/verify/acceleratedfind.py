"""Where the project's own code imports a compiled module of its own with a pure-Python
fallback, read from its syntax tree: a module-level ``try:`` importing names (or a module,
under an alias) from a module of the project's, and a handler catching ``ImportError``,
``ModuleNotFoundError`` or ``Exception`` that binds the same names from another module. Also
the check of ``[tool.bulletproof] benchmark`` against what those pairs bind."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bulletproof.errors import InputError
from bulletproof.model import Project
from bulletproof.verify.modules import package_modules

_CATCHING = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


@dataclass(frozen=True)
class Binding:
    name: str  # as the project module binds it
    compiled: str  # the compiled module's attribute it is ("": the module itself)
    fallback: str  # the fallback module's attribute it is


@dataclass(frozen=True)
class Pair:
    """One try/except import: the project module, the module tried first, the fallback."""

    module: str
    where: str  # path:line of the try, under the project's root
    compiled: str
    fallback: str
    bindings: tuple[Binding, ...]
    # the functions it gives the project: (name, compiled attribute, fallback attribute); for a
    # module bound under an alias, the attributes the project module uses of it
    functions: tuple[tuple[str, str, str], ...]


def find_pairs(project: Project) -> tuple[Pair, ...]:
    """Every try/except import of a compiled module of the project's own, in its own modules."""
    own = set(project.own_packages)
    found: list[Pair] = []
    for root in project.source_roots:
        for package in project.own_packages:
            for module in package_modules(root, package):
                path = root.joinpath(*module.split("."))
                is_package = (path / "__init__.py").is_file()
                file = path / "__init__.py" if is_package else path.with_suffix(".py")
                where = (
                    str(file.relative_to(project.root))
                    if file.is_relative_to(project.root)
                    else str(file)
                )
                found += _pairs_in(
                    file, module, module if is_package else module.rpartition(".")[0], where
                )
    return tuple(p for p in found if p.compiled.split(".")[0] in own)


def _pairs_in(file: Path, module: str, package: str, where: str) -> list[Pair]:
    try:
        data = file.read_bytes()
        if b"try" not in data or b"import" not in data:  # most files: not parsed at all
            return []
        tree = ast.parse(data, filename=where)
    except (OSError, SyntaxError, ValueError):
        return []  # the verification's imports say what is wrong with it
    pairs: list[Pair] = []
    for node in tree.body:
        if not isinstance(node, ast.Try):
            continue
        first = _bindings(node.body, package)
        for handler in node.handlers:
            if _catches_import_errors(handler):
                fallback = _bindings(handler.body, package)
                pairs += _paired(tree, module, f"{where}:{node.lineno}", first, fallback)
    return pairs


def _catches_import_errors(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    items = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    names = {i.id if isinstance(i, ast.Name) else getattr(i, "attr", "") for i in items}
    return bool(names & _CATCHING)


def _bindings(body: Sequence[ast.stmt], package: str) -> dict[str, tuple[str, str]]:
    """Each name an import statement of ``body`` binds: (module, attribute or "")."""
    bound: dict[str, tuple[str, str]] = {}
    for node in body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname or "." not in alias.name:
                    bound[alias.asname or alias.name] = (alias.name, "")
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, package)
            for alias in node.names:
                if base and alias.name != "*":
                    bound[alias.asname or alias.name] = (base, alias.name)
    return bound


def _absolute(module: str | None, level: int, package: str) -> str:
    """``from ..x import`` in ``package`` as an absolute module name ("" when it goes above)."""
    if level == 0:
        return module or ""
    parts = package.split(".") if package else []
    if level - 1 > len(parts) - 1 or not parts:
        return ""
    base = parts[: len(parts) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _paired(
    tree: ast.Module,
    module: str,
    where: str,
    first: dict[str, tuple[str, str]],
    fallback: dict[str, tuple[str, str]],
) -> list[Pair]:
    grouped: dict[tuple[str, str], list[Binding]] = {}
    for name in first.keys() & fallback.keys():
        (compiled, c_attr), (other, f_attr) = first[name], fallback[name]
        if compiled == other:
            if not (c_attr and f_attr and c_attr != f_attr):
                continue  # the same module both ways: nothing falls back
            # "from pkg import _native as impl": submodules of one package
            compiled, c_attr, other, f_attr = f"{compiled}.{c_attr}", "", f"{other}.{f_attr}", ""
        grouped.setdefault((compiled, other), []).append(Binding(name, c_attr, f_attr))
    pairs = []
    for (compiled, other), bindings in sorted(grouped.items()):
        ordered = tuple(sorted(bindings, key=lambda b: b.name))
        functions = [(b.name, b.compiled, b.fallback) for b in ordered if b.compiled]
        aliases = {b.name for b in ordered if not b.compiled}
        used = sorted(
            {
                n.attr
                for n in ast.walk(tree)
                if isinstance(n, ast.Attribute)
                and isinstance(n.value, ast.Name)
                and n.value.id in aliases
            }
        )
        functions += [(attr, attr, attr) for attr in used]
        pairs.append(Pair(module, where, compiled, other, ordered, tuple(functions)))
    return pairs


def check_benchmark(names: Sequence[str], pairs: Sequence[Pair]) -> None:
    """Every function ``[tool.bulletproof] benchmark`` names is one a pair gives the project."""
    known = sorted({f for p in pairs for f, _, _ in p.functions})
    for name in names:
        if name not in known:
            raise InputError(
                f"pyproject.toml: [tool.bulletproof] benchmark names {name!r}, which no "
                "try/except import of a compiled module in the project's code binds",
                hint=f"functions found: {', '.join(known)}"
                if known
                else "the project's code has no try/except import of a compiled module of its own",
            )
