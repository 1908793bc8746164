"""The environment variables a project's code reads, found in its syntax tree (never by running
it): ``os.environ[...]``, ``os.environ.get``/``os.getenv``, pydantic-settings ``BaseSettings``
fields (``env_prefix``, aliases, nested delimiters), environs and django-environ ``Env`` readers,
python-decouple's ``config``. Each with whether it is required, its default and type where the
code says, whether it is a secret, and where it is read. Tests are left out: what a test suite
reads about its runner (``CI``) is not the application's configuration."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bulletproof.code.codeimports import python_files

_SECRET = re.compile(r"(^|_)(KEY|SECRET|TOKEN|PASSWORD|PASSWD|PASS|PWD|CREDENTIALS?|PRIVATE)(_|$)")
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
_UNSET = object()
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


@dataclass(frozen=True)
class EnvVar:
    name: str
    required: bool  # read with no default: the code fails without it
    default: str  # as the code writes it, when a literal ("" when none)
    type: str  # "str", "int", "bool", "url"… ("" when the code does not say)
    secret: bool  # a name that says so, or a SecretStr field: never given a value in a template
    readers: tuple[str, ...]  # "path:line" of each place that reads it
    style: str  # "os.environ", "pydantic-settings", "environs", "django-environ", "decouple"


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


def _literal(node: ast.AST | None) -> object:
    if node is None:
        return _UNSET
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return ast.unparse(node)  # an expression: shown as written


def _name(node: ast.AST) -> str:
    """A variable's name as the code writes it: a string literal ("" for one made at run time)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ""


def _text(value: object) -> str:
    if value is _UNSET or value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else ""
    return ""


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


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
        settings = _settings_classes(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load):
                self._subscript(node)
            elif isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.ClassDef) and node.name in settings:
                self.found.extend(_settings_fields(node, self.rel, tree))
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
                library = env_classes.get(_dotted(node.value.func))
                if library is None:
                    continue
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.env_readers[target.id] = library
                for k in node.value.keywords:  # django-environ: Env(DEBUG=(bool, False))
                    if k.arg and isinstance(k.value, ast.Tuple) and k.value.elts:
                        kind = _dotted(k.value.elts[0])
                        default = _text(_literal(k.value.elts[1])) if len(k.value.elts) > 1 else ""
                        self.env_schemes[k.arg] = (kind, default)

    def _add(
        self,
        name: object,
        node: ast.AST,
        *,
        default: object = _UNSET,
        kind: str = "",
        style: str = "os.environ",
    ) -> None:
        if not isinstance(name, str) or not name:
            return  # a name computed at run time cannot be listed
        where = f"{self.rel}:{getattr(node, 'lineno', 0)}"
        self.found.append(
            EnvVar(
                name,
                default is _UNSET,
                _text(default),
                kind,
                bool(_SECRET.search(name.upper())),
                (where,),
                style,
            )
        )

    def _subscript(self, node: ast.Subscript) -> None:
        if _dotted(node.value) in self.environ:
            self._add(_name(node.slice), node)

    def _call(self, node: ast.Call) -> None:
        func = _dotted(node.func)
        args = node.args
        if func in self.getenv and args:
            default = args[1] if len(args) > 1 else _keyword(node, "default")
            self._add(_name(args[0]), node, default=_none_if_absent(default))
        elif func in self.decouple and args:
            cast = _keyword(node, "cast")
            self._add(
                _name(args[0]),
                node,
                default=_literal(args[1] if len(args) > 1 else _keyword(node, "default")),
                kind=_dotted(cast) if cast is not None else "",
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
        name = _name(node.args[0])
        default = _literal(node.args[1] if len(node.args) > 1 else _keyword(node, "default"))
        kind = _TYPED.get(method, "")
        if isinstance(name, str) and name in self.env_schemes:
            scheme_kind, scheme_default = self.env_schemes[name]
            kind = kind or scheme_kind
            if default is _UNSET and scheme_default:
                default = scheme_default
        self._add(name, node, default=default, kind=kind, style=library)


def _none_if_absent(node: ast.AST | None) -> object:
    """``os.getenv("X")`` returns None when unset: the code chose to cope, so it is optional."""
    return None if node is None else _literal(node)


# pydantic-settings ---------------------------------------------------------------------------


def _settings_classes(tree: ast.Module) -> set[str]:
    """Classes that are settings: a base named BaseSettings, or a class of this file that is."""
    classes = [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)]
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for cls in classes:
            if cls.name in found:
                continue
            bases = {_dotted(b).rsplit(".", 1)[-1] for b in cls.bases}
            if "BaseSettings" in bases or bases & found:
                found.add(cls.name)
                changed = True
    return found


def _settings_config(cls: ast.ClassDef, classes: dict[str, ast.ClassDef]) -> dict[str, object]:
    """``model_config = SettingsConfigDict(...)`` (v2) or ``class Config:`` (v1), over what the
    class's bases in this file set (a subclass inherits its base's prefix)."""
    config: dict[str, object] = {}
    for base in cls.bases:
        inherited = classes.get(_dotted(base))
        if inherited is not None and inherited is not cls:
            config.update(_settings_config(inherited, classes))
    for node in cls.body:
        if (
            isinstance(node, ast.Assign | ast.AnnAssign)
            and _target_name(node) == "model_config"
            and isinstance(node.value, ast.Call)
        ):
            config.update({k.arg: _literal(k.value) for k in node.value.keywords if k.arg})
        elif isinstance(node, ast.ClassDef) and node.name == "Config":
            for item in node.body:
                if isinstance(item, ast.Assign) and _target_name(item):
                    config[_target_name(item)] = _literal(item.value)
    return config


def _target_name(node: ast.Assign | ast.AnnAssign) -> str:
    target = node.targets[0] if isinstance(node, ast.Assign) else node.target
    return target.id if isinstance(target, ast.Name) else ""


def _settings_fields(
    cls: ast.ClassDef,
    rel: str,
    tree: ast.Module,
    *,
    prefix: str | None = None,
    delimiter: str | None = None,
) -> list[EnvVar]:
    """A settings class's fields as variables; a nested model's fields (with its parent's
    delimiter, and no prefix of their own) as ``PARENT<delimiter>FIELD``."""
    models = {n.name: n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    config = _settings_config(cls, models)
    if prefix is None:
        prefix = _text(config.get("env_prefix"))
    if delimiter is None:
        delimiter = _text(config.get("env_nested_delimiter"))
    case_sensitive = config.get("case_sensitive") is True
    found: list[EnvVar] = []
    for node in cls.body:
        if not isinstance(node, ast.AnnAssign) or not isinstance(node.target, ast.Name):
            continue
        field = node.target.id
        annotation = ast.unparse(node.annotation)
        if field == "model_config" or field.startswith("_") or "ClassVar" in annotation:
            continue
        default, alias = _field_default(node.value)
        name = alias or prefix + field
        if not case_sensitive:
            name = name.upper()
        inner = models.get(annotation)
        if delimiter and inner is not None and inner.name != cls.name:
            # a nested model: each of its fields is its own variable, FIELD<delimiter>SUB
            for sub in _settings_fields(inner, rel, tree, prefix="", delimiter=delimiter):
                found.append(
                    EnvVar(
                        f"{name}{delimiter}{sub.name}",
                        sub.required and default is _UNSET,
                        sub.default,
                        sub.type,
                        sub.secret,
                        sub.readers,
                        "pydantic-settings",
                    )
                )
            continue
        found.append(
            EnvVar(
                name,
                default is _UNSET,
                _text(default),
                _annotation_type(annotation),
                "Secret" in annotation or bool(_SECRET.search(name.upper())),
                (f"{rel}:{node.lineno}",),
                "pydantic-settings",
            )
        )
    return found


def _field_default(value: ast.AST | None) -> tuple[object, str]:
    """The field's default (``_UNSET`` when required) and its alias, if any."""
    if value is None:
        return _UNSET, ""
    if isinstance(value, ast.Call) and _dotted(value.func).rsplit(".", 1)[-1] == "Field":
        alias = ""
        for key in ("validation_alias", "alias", "env"):
            given = _keyword(value, key)
            if given is None:
                continue
            if isinstance(given, ast.Call) and given.args:  # AliasChoices("A", "B"): the first
                given = given.args[0]
            literal = _literal(given)
            if isinstance(literal, str):
                alias = literal
                break
        if _keyword(value, "default_factory") is not None:
            return "", alias
        first = value.args[0] if value.args else _keyword(value, "default")
        if first is None or (isinstance(first, ast.Constant) and first.value is Ellipsis):
            return _UNSET, alias
        return _literal(first), alias
    return _literal(value), ""


def _annotation_type(annotation: str) -> str:
    plain = re.sub(r"\s*\|\s*None|Optional\[(.*)\]", r"\1", annotation).strip()
    lowered = plain.lower()
    for word, kind in (("secretstr", "str"), ("dsn", "url"), ("url", "url"), ("path", "path")):
        if word in lowered:
            return kind
    return plain
