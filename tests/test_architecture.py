"""The house's floors as docs/architecture.md draws them: no import from a lower floor to a
higher one, no import circle, and the terminal only in the user interface.

The imports are read from the source's syntax trees (every import, also inside functions), so a
lazy import is held to the same rules as one at the top of a module.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "bulletproof"
DOC = ROOT / "docs" / "architecture.md"
# the user interface: the only floors that may talk to the terminal
INTERFACE = {"report", "commands", "cli", "__main__"}


def floors(doc: str) -> dict[str, int]:
    """The Floors table of the architecture document: unit name -> floor number."""
    section = doc.split("## Floors", 1)[1].split("\n## ", 1)[0]
    found: dict[str, int] = {}
    for line in section.splitlines():
        row = re.match(r"\|\s*(\d+)\s*\|([^|]*)\|", line)
        if row:
            for name in re.findall(r"`([\w.]+)`", row.group(2)):
                found[name] = int(row.group(1))
    return found


def modules(package: Path) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its own name)."""
    found = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules ``name`` imports: bulletproof's by module name, others by top-level name."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolved against this module's package
                parent = name.split(".")[: len(name.split(".")) - node.level + is_package]
                base = ".".join([*parent, *([node.module] if node.module else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {_owner(m, known) for m in found} - {name}


def _owner(module: str, known: set[str]) -> str:
    """The nearest module of ours a dotted name lies in, or the name itself if it is not ours."""
    probe = module
    while probe not in known and "." in probe:
        probe = probe.rsplit(".", 1)[0]
    return probe if probe in known else module


def unit(module: str) -> str:
    """The floor unit a module belongs to: its package under bulletproof, or the module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def graph() -> dict[str, set[str]]:
    found = modules(PACKAGE)
    known = set(found)
    return {name: imports(name, path, known) for name, path in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def upward(edges: dict[str, set[str]], table: dict[str, int]) -> list[str]:
    return [
        f"{module} (floor {table[unit(module)]}) imports {dep} (floor {table[unit(dep)]})"
        for module, deps in edges.items()
        for dep in deps
        if dep.startswith("bulletproof") and table[unit(dep)] > table[unit(module)]
    ]


def terminal_leaks(edges: dict[str, set[str]]) -> list[str]:
    """Imports of rich or of the terminal report from outside the user interface."""
    return [
        f"{module} imports {dep}"
        for module, deps in edges.items()
        if unit(module) not in INTERFACE
        for dep in deps
        if dep.split(".")[0] == "rich" or (dep.startswith("bulletproof.") and unit(dep) == "report")
    ]


def test_every_package_and_module_has_a_floor_in_the_document() -> None:
    table = floors(DOC.read_text(encoding="utf-8"))
    units = {unit(m) for m in modules(PACKAGE)}
    assert units - set(table) == set(), "give these a floor in docs/architecture.md"
    assert set(table) - units == set(), "the document names units that no longer exist"


def test_no_import_reaches_up_a_floor() -> None:
    assert upward(graph(), floors(DOC.read_text(encoding="utf-8"))) == []


def test_no_import_circle() -> None:
    edges = graph()
    ours = {m: {d for d in deps if d in edges} for m, deps in edges.items()}
    assert cycles(ours) == []


def test_only_the_user_interface_imports_the_terminal() -> None:
    assert terminal_leaks(graph()) == []


# the checks above must be able to fail: the same functions, given a house that breaks them


def test_the_checks_see_an_upward_import_a_circle_and_a_terminal_leak(tmp_path: Path) -> None:
    pkg = tmp_path / "bulletproof"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("")
    (pkg / "low" / "a.py").write_text("def f():\n    from bulletproof.high import b\n")
    (pkg / "high.py").write_text("from bulletproof.low import a\nimport rich.console\n")
    found = modules(pkg)
    edges = {name: imports(name, path, set(found)) for name, path in found.items()}
    assert "bulletproof.high" in edges["bulletproof.low.a"]  # the lazy import is seen
    assert cycles({m: {d for d in ds if d in edges} for m, ds in edges.items()}) == [
        ["bulletproof.high", "bulletproof.low.a"]
    ]
    assert terminal_leaks(edges) == ["bulletproof.high imports rich.console"]
    table = floors("## Floors\n| 1 | `high` |\n| 0 | `low`, `bulletproof` |\n## Next\n| 5 | `x` |")
    assert table == {"high": 1, "low": 0, "bulletproof": 0}
    assert upward(edges, table) == [
        "bulletproof.low.a (floor 0) imports bulletproof.high (floor 1)"
    ]


@pytest.mark.parametrize("relative", ["from . import a", "from .a import f"])
def test_relative_imports_are_resolved(tmp_path: Path, relative: str) -> None:
    pkg = tmp_path / "bulletproof"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("")
    (pkg / "low" / "a.py").write_text("def f(): pass\n")
    (pkg / "low" / "b.py").write_text(relative + "\n")
    found = modules(pkg)
    assert imports("bulletproof.low.b", found["bulletproof.low.b"], set(found)) == {
        "bulletproof.low.a"
    }
