"""What the project's own code imports, read from the AST of every .py file in it (tests and
scripts included; the docs' toolchain is not the project's code)."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bulletproof.fsutil import MAX_PROJECT_FILES, walk_project

# Folders of the project's tree (fsutil.walk_project's) that are not its code, or belong to a
# toolchain of their own: its docs, build output, other ecosystems' installs, hidden tool folders.
_NOT_CODE = {"node_modules", "build", "dist", "site-packages", "docs", "doc", "venv", "env"}
# Build scripts: what they import is the build backend's business, not the environment's.
_BUILD_SCRIPTS = {"setup.py", "noxfile.py", "fabfile.py", "dodo.py"}


@dataclass(frozen=True)
class CodeImport:
    module: str  # as imported: "a.b" for "import a.b" and for "from a.b import c"
    where: str  # "path:line" of the first place it is imported
    guarded: bool  # only inside try/except ImportError, or under TYPE_CHECKING
    # imported by a bare name only in the branch that runs the file as a script, its package
    # importing it relatively in the other: a sibling module, not something to install
    script_sibling: bool = False

    @property
    def top(self) -> str:
        return self.module.split(".")[0]


def python_files(root: Path) -> Iterator[Path]:
    """The project's own Python files, in walk_project's order: folders that are not its code
    and build scripts left out; none past MAX_PROJECT_FILES files of the tree."""
    count = 0
    for folder, dirs, files in walk_project(root):
        dirs[:] = [d for d in dirs if d not in _NOT_CODE and not d.startswith(".")]
        for name in files:
            count += 1
            if count > MAX_PROJECT_FILES:
                return
            path = folder / name
            if path.suffix == ".py" and name not in _BUILD_SCRIPTS:
                yield path


def local_names(root: Path) -> set[str]:
    """Names a file or folder of the project's own tree provides (a test helper beside its
    tests, a script's sibling module): not something to install."""
    names: set[str] = set()
    for path in python_files(root):
        names.add(path.stem)
        names.update(p for p in path.relative_to(root).parts[:-1])
    return names


def _guards(node: ast.Try) -> bool:
    for handler in node.handlers:
        names = []
        if handler.type is None:
            return True
        for item in handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]:
            if isinstance(item, ast.Name):
                names.append(item.id)
            elif isinstance(item, ast.Attribute):
                names.append(item.attr)
        if {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"} & set(names):
            return True
    return False


def _relative(body: list[ast.stmt]) -> frozenset[str]:
    """The names a branch imports from its own package (``from . import x``)."""
    return frozenset(
        alias.name
        for node in body
        if isinstance(node, ast.ImportFrom) and node.level >= 1 and not node.module
        for alias in node.names
    )


def _visit(tree: ast.AST, rel: str, found: dict[str, CodeImport]) -> None:
    def walk(node: ast.AST, guarded: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = guarded
            if isinstance(child, ast.Try) and _guards(child):
                for part in child.body:
                    walk_one(part, True)
                for rest in (*child.handlers, *child.orelse, *child.finalbody):
                    walk_one(rest, guarded)
                continue
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for part in child.body:
                    walk_one(part, True)
                for part in child.orelse:
                    walk_one(part, guarded)
                continue
            if isinstance(child, ast.If):
                # "if __package__: from . import x / else: import x": the bare import is the
                # file run as a script, its own folder on the path; the module is its sibling
                siblings = _relative(child.body) | _relative(child.orelse)
                for part in (*child.body, *child.orelse):
                    walk_one(part, guarded, siblings)
                walk_one(child.test, guarded)
                continue
            walk_one(child, inner)

    def walk_one(node: ast.AST, guarded: bool, siblings: frozenset[str] = frozenset()) -> None:
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            where = f"{rel}:{getattr(node, 'lineno', 0)}"
            sibling = name in siblings
            old = found.get(name)
            if old is None or (old.guarded and not (guarded or sibling)):
                found[name] = CodeImport(name, where, guarded or sibling, sibling and not guarded)
        walk(node, guarded)

    walk(tree, False)


def code_imports(root: Path) -> tuple[list[CodeImport], list[str]]:
    """(every absolute import of a module outside the standard library, files that do not
    parse as "path:line: message")."""
    found: dict[str, CodeImport] = {}
    unparsable: list[str] = []
    for path in python_files(root):
        rel = str(path.relative_to(root))
        try:
            tree = ast.parse(path.read_bytes(), filename=rel)
        except (SyntaxError, ValueError) as exc:
            unparsable.append(f"{rel}:{getattr(exc, 'lineno', 0)}: {exc}")
            continue
        _visit(tree, rel, found)
    stdlib = set(sys.stdlib_module_names) | {"__future__"}
    imports = [i for i in found.values() if i.top not in stdlib]
    return sorted(imports, key=lambda i: i.module), unparsable
