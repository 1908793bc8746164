"""The environment variables a project's code reads, found in its syntax tree (never by running
it): ``os.environ[...]``, ``os.environ.get``/``os.getenv``, pydantic-settings ``BaseSettings``
fields (``env_prefix``, aliases, nested delimiters), environs and django-environ ``Env`` readers,
python-decouple's ``config``. Each with whether it is required, its default and type where the
code says, whether it is a secret, and where it is read. Tests are left out: what a test suite
reads about its runner (``CI``) is not the application's configuration."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from bulletproof.code.astvalues import UNSET, dotted, keyword, literal, string_name, text
from bulletproof.code.codeimports import python_files
from bulletproof.code.found import EnvVar, secret_name
from bulletproof.code.settingsfields import settings_classes, settings_fields

# Env readers' typed methods (environs and django-environ share most): the type they return
_TYPED = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "list": "list",
    "dict": "dict",
    "json": "json",
    "url": "url",
    "path": "path",
    "decimal": "decimal",
    "db": "url",
    "db_url": "url",
    "dj_db_url": "url",
    "cache": "url",
    "cache_url": "url",
    "email": "url",
    "email_url": "url",
    "search_url": "url",
    "timedelta": "timedelta",
    "log_level": "str",
}
# what an imported name means here: os.environ, os.getenv, an Env class, decouple's config
_FROM_IMPORTS = {
    ("os", "environ"): "environ",
    ("os", "getenv"): "getenv",
    ("environs", "Env"): "environs",
    ("environ", "Env"): "django-environ",
    ("decouple", "config"): "decouple",
}
_MODULE_IMPORTS = {  # import environ → environ.Env
    "environs": ("Env", "environs"),
    "environ": ("Env", "django-environ"),
    "decouple": ("config", "decouple"),
}


CodeTrees = list[tuple[str, ast.Module]]  # (path relative to the root, its syntax tree)


def code_trees(root: Path) -> CodeTrees:
    """The syntax tree of every Python file of the project's code, its tests left out (a file
    that does not parse is left out too)."""
    trees = []
    for path in python_files(root):
        rel = path.relative_to(root).as_posix()
        if _is_test(rel):
            continue
        try:
            trees.append((rel, ast.parse(path.read_bytes(), filename=rel)))
        except (SyntaxError, ValueError, OSError):
            continue
    return trees


def env_vars(root: Path, trees: CodeTrees | None = None) -> list[EnvVar]:
    """Every variable the project's code (not its tests) reads, merged by name: required when any
    reader has no default. In the order of their first reader (file, then line). ``trees``: the
    code already parsed (``code_trees``), when the caller has it."""
    merged: dict[str, EnvVar] = {}
    for rel, tree in code_trees(root) if trees is None else trees:
        for var in sorted(_Reader(rel).read(tree), key=lambda v: _place(v.readers[0])):
            known = merged.get(var.name)
            merged[var.name] = var if known is None else _merge(known, var)
    return sorted(merged.values(), key=lambda v: _place(v.readers[0]))


def _place(reader: str) -> tuple[str, int]:
    path, _, line = reader.rpartition(":")
    return path, int(line)


def _is_test(rel: str) -> bool:
    """A test's file (its reads are the tests' own business, not the code's)."""
    parts = rel.split("/")
    name = parts[-1]
    return (
        any(p in ("tests", "test", "testing") for p in parts[:-1])
        or name == "conftest.py"
        or name.startswith("test_")
        or name.endswith("_test.py")
    )


def _merge(a: EnvVar, b: EnvVar) -> EnvVar:
    return EnvVar(
        a.name,
        a.required or b.required,
        a.default or b.default,
        a.type or b.type,
        a.secret or b.secret,
        a.readers + tuple(r for r in b.readers if r not in a.readers),
        a.style,
    )


class _Reader:
    """One file's reads. The names that mean os.environ, getenv, an Env reader or decouple's
    config are learned from its imports and assignments first."""

    def __init__(self, rel: str) -> None:
        self.rel = rel
        self.environ = {"os.environ"}
        self.getenv = {"os.getenv", "os.environ.get"}
        self.env_readers: dict[str, str] = {}  # name bound to an Env() → its library
        self.env_schemes: dict[
            str, tuple[str, str]
        ] = {}  # django-environ Env(NAME=(type, default))
        self.decouple = {"decouple.config"}
        self.found: list[EnvVar] = []

    def read(self, tree: ast.Module) -> Iterator[EnvVar]:
        self._learn_names(tree)
        settings = settings_classes(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                self._subscript(node)
            elif isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.ClassDef) and node.name in settings:
                self.found.extend(settings_fields(node, self.rel, tree))
        yield from self.found

    def _learn_names(self, tree: ast.Module) -> None:
        env_classes: dict[str, str] = {}  # the name an Env class goes by here → its library
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                bound = [
                    (alias.asname or alias.name, _FROM_IMPORTS.get((node.module, alias.name)))
                    for alias in node.names
                ]
            elif isinstance(node, ast.Import):
                bound = [
                    (
                        f"{alias.asname or alias.name}.{_MODULE_IMPORTS[alias.name][0]}",
                        _MODULE_IMPORTS[alias.name][1],
                    )
                    for alias in node.names
                    if alias.name in _MODULE_IMPORTS
                ]
            else:
                continue
            for local, role in bound:
                if role == "environ":
                    self.environ.add(local)
                    self.getenv.add(f"{local}.get")
                elif role == "getenv":
                    self.getenv.add(local)
                elif role == "decouple":
                    self.decouple.add(local)
                elif role:
                    env_classes[local] = role
        self._learn_env_readers(tree, env_classes)

    def _learn_env_readers(self, tree: ast.Module, env_classes: dict[str, str]) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                library = env_classes.get(dotted(node.value.func))
                if library is None:
                    continue
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.env_readers[target.id] = library
                for k in node.value.keywords:  # django-environ: Env(DEBUG=(bool, False))
                    if k.arg and isinstance(k.value, ast.Tuple) and k.value.elts:
                        kind = dotted(k.value.elts[0])
                        default = text(literal(k.value.elts[1])) if len(k.value.elts) > 1 else ""
                        self.env_schemes[k.arg] = (kind, default)

    def _add(
        self,
        name: object,
        node: ast.AST,
        *,
        default: object = UNSET,
        kind: str = "",
        style: str = "os.environ",
    ) -> None:
        if not isinstance(name, str) or not name:
            return  # a name computed at run time cannot be listed
        where = f"{self.rel}:{getattr(node, 'lineno', 0)}"
        self.found.append(
            EnvVar(
                name,
                default is UNSET,
                text(default),
                kind,
                secret_name(name),
                (where,),
                style,
            )
        )

    def _subscript(self, node: ast.Subscript) -> None:
        if dotted(node.value) in self.environ:
            self._add(string_name(node.slice), node)

    def _call(self, node: ast.Call) -> None:
        func = dotted(node.func)
        args = node.args
        if func in self.getenv and args:
            default = args[1] if len(args) > 1 else keyword(node, "default")
            self._add(string_name(args[0]), node, default=_none_if_absent(default))
        elif func in self.decouple and args:
            cast = keyword(node, "cast")
            self._add(
                string_name(args[0]),
                node,
                default=literal(args[1] if len(args) > 1 else keyword(node, "default")),
                kind=dotted(cast) if cast is not None else "",
                style="decouple",
            )
        else:
            self._env_reader(node, func)

    def _env_reader(self, node: ast.Call, func: str) -> None:
        reader, _, method = func.partition(".")
        library = self.env_readers.get(reader)
        if library is None or "." in method or not node.args:
            return
        if method and method not in _TYPED:
            return  # env.read_env(), env.prefixed(): not a read of one variable
        name = string_name(node.args[0])
        default = literal(node.args[1] if len(node.args) > 1 else keyword(node, "default"))
        kind = _TYPED.get(method, "")
        if isinstance(name, str) and name in self.env_schemes:
            scheme_kind, scheme_default = self.env_schemes[name]
            kind = kind or scheme_kind
            if default is UNSET and scheme_default:
                default = scheme_default
        self._add(name, node, default=default, kind=kind, style=library)


def _none_if_absent(node: ast.AST | None) -> object:
    """``os.getenv("X")`` returns None when unset: the code chose to cope, so it is optional."""
    return None if node is None else literal(node)


# pydantic-settings ---------------------------------------------------------------------------
