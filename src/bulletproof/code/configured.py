"""Services a project names other than through a variable's value: a Django settings module's
``DATABASES``, URLs in the config files its code names (and ``alembic.ini``, which alembic reads
by convention), and service URLs its code writes as literals (a Celery broker, an engine URL).

Found by structure and by the value's shape, never by a project's name: a settings dict with an
``ENGINE``, a file name the code writes, a string that is ``scheme://host…`` for a scheme with a
server port. A literal in the code is probed and reported but does not gate: it may be only a
default that the project's tests never use."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

from bulletproof.code.envvars import CodeTrees, code_trees
from bulletproof.code.found import Service
from bulletproof.code.services import DEFAULT_PORTS, one_per_url, service_from_url

# a URL of a server's own protocol (http is an API's, and a literal one is not probed)
_URL = re.compile(
    r"\b(?:postgres(?:ql)?|mysql|mariadb|redis|rediss|mongodb|amqp|amqps)(?:\+\w+)?://[^\s'\"<>]+"
)
_CONFIG_SUFFIXES = (".ini", ".cfg", ".toml", ".yaml", ".yml", ".json", ".conf", ".env")
_CONVENTIONAL_CONFIG = ("alembic.ini",)
_MAX_CONFIG_BYTES = 256 * 1024
_ENGINES = {"postgresql": "postgresql", "postgis": "postgresql", "mysql": "mysql"}
_GETTERS = ("getenv", "environ.get", "get", "config", "env", "str", "int")


def configured_services(
    root: Path,
    environ: Mapping[str, str],
    dotenv: Mapping[str, str],
    trees: CodeTrees | None = None,
) -> list[Service]:
    """Django's databases, then config files' URLs, then literals in the code; one per URL.
    ``trees``: the code already parsed (``code_trees``), when the caller has it."""
    trees = code_trees(root) if trees is None else trees
    return one_per_url(
        [
            *_django_databases(root, trees, {**dotenv, **environ}),
            *_config_file_urls(root, trees),
            *_code_literals(trees),
        ]
    )


# --- Django -----------------------------------------------------------------------------------


def _django_databases(root: Path, trees: CodeTrees, given: Mapping[str, str]) -> list[Service]:
    """``DATABASES`` of the settings module in use (DJANGO_SETTINGS_MODULE, else the one
    manage.py names, else every module that assigns it), with the star imports it builds on."""
    by_file = dict(trees)
    module = given.get("DJANGO_SETTINGS_MODULE") or _settings_module_named(trees)
    chosen = [rel for rel in by_file if _module_file(rel, module)] if module else []
    if not chosen:
        chosen = [rel for rel, tree in trees if _assigned(tree, "DATABASES") is not None]
    found = []
    for rel in chosen:
        databases, where = _databases(rel, by_file, given, depth=0)
        for alias, settings in databases.items():
            service = _django_service(alias, settings, where)
            if service is not None:
                found.append(service)
    return found


def _settings_module_named(trees: CodeTrees) -> str:
    """The module ``os.environ.setdefault("DJANGO_SETTINGS_MODULE", "x.settings")`` names."""
    for _, tree in trees:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and len(node.args) == 2
                and all(isinstance(a, ast.Constant) for a in node.args)
                and getattr(node.args[0], "value", None) == "DJANGO_SETTINGS_MODULE"
            ):
                return str(getattr(node.args[1], "value", ""))
    return ""


def _module_file(rel: str, module: str) -> bool:
    """``rel`` is the module's file, at the top or under a source folder (``src/``)."""
    path = module.replace(".", "/")
    return any(rel == f or rel.endswith(f"/{f}") for f in (f"{path}.py", f"{path}/__init__.py"))


def _assigned(tree: ast.Module, name: str) -> ast.Assign | None:
    last = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            last = node
    return last


def _databases(
    rel: str, by_file: dict[str, ast.Module], given: Mapping[str, str], depth: int
) -> tuple[dict[str, dict[str, str | None]], str]:
    """The aliases' settings (each value resolved, None where it cannot be), and where."""
    tree = by_file[rel]
    node = _assigned(tree, "DATABASES")
    if node is None and depth < 3:  # ``from .base import *``: the settings it builds on
        for base in _star_imports(rel, tree):
            if base in by_file:
                found, where = _databases(base, by_file, given, depth + 1)
                if found:
                    return found, where
    if node is None or not isinstance(node.value, ast.Dict):
        return {}, ""
    databases: dict[str, dict[str, str | None]] = {}
    for key, value in zip(node.value.keys, node.value.values, strict=True):
        if isinstance(key, ast.Constant) and isinstance(value, ast.Dict):
            databases[str(key.value)] = {
                str(k.value): _resolve(v, given)
                for k, v in zip(value.keys, value.values, strict=True)
                if isinstance(k, ast.Constant)
            }
    return databases, f"{rel}:{node.lineno}"


def _star_imports(rel: str, tree: ast.Module) -> list[str]:
    folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
    found = []
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            name = (node.module or "").replace(".", "/")
            if node.level:
                parts = folder.split("/") if folder else []
                base = "/".join(parts[: len(parts) - (node.level - 1)])
                name = f"{base}/{name}" if base else name
            found += [f"{name}.py", f"{name}/__init__.py"]
    return found


def _resolve(node: ast.AST, given: Mapping[str, str]) -> str | None:
    """A settings value as the code will see it: a literal, or a variable read (its value here,
    else the default the code gives); None when it is computed some other way."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)):
        return str(node.value)
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return given.get(str(node.slice.value))  # os.environ["X"]
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = ast.unparse(node.func)
        if func.endswith(_GETTERS):
            name = str(node.args[0].value)
            if name in given:
                return given[name]
            default = node.args[1] if len(node.args) > 1 else None
            default = next((k.value for k in node.keywords if k.arg == "default"), default)
            return _resolve(default, given) if default is not None else None
    return None


def _django_service(alias: str, settings: dict[str, str | None], where: str) -> Service | None:
    engine = settings.get("ENGINE") or ""
    scheme = next((s for key, s in _ENGINES.items() if key in engine), None)
    if scheme is None:
        return None  # SQLite, or an engine with nothing to probe
    if any(settings.get(k) is None and k in settings for k in ("HOST", "PORT", "USER", "NAME")):
        return None  # computed in a way that cannot be followed here: not guessed
    host = settings.get("HOST") or ""
    port = settings.get("PORT") or str(DEFAULT_PORTS[scheme])
    user = quote(settings.get("USER") or "", safe="")
    password = settings.get("PASSWORD")
    auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
    # no HOST: the client's own default (PostgreSQL's local socket), as Django connects
    netloc = f"{host}:{port}" if host and not host.startswith("/") else ""
    url = f"{scheme}://{auth}{netloc}/{quote(settings.get('NAME') or '', safe='')}"
    if not netloc:
        return Service(f"DATABASES[{alias!r}]", where, url, scheme, "localhost", int(port))
    return service_from_url(f"DATABASES[{alias!r}]", where, url)


# --- config files and literals --------------------------------------------------------------


def _config_file_urls(root: Path, trees: CodeTrees) -> list[Service]:
    """URLs in the config files the code names (by a literal file name) and alembic.ini."""
    names = set(_CONVENTIONAL_CONFIG)
    for _, tree in trees:
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and node.value.endswith(_CONFIG_SUFFIXES)
                and len(node.value) < 200
            ):
                names.add(node.value)
    found = []
    for name in sorted(names):
        path = (root / name).resolve()
        if not path.is_file() or root.resolve() not in path.parents:
            continue
        if path.stat().st_size > _MAX_CONFIG_BYTES or path.name.startswith(".env"):
            continue  # .env is read as variables, not as a config file
        rel = path.relative_to(root.resolve()).as_posix()
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        for number, line in enumerate(lines, 1):
            if line.lstrip().startswith(("#", ";")):
                continue
            for match in _URL.finditer(line):
                key = re.split(r"[=:]", line[: match.start()], maxsplit=1)[0].strip(" \"'")
                service = service_from_url(key or "a URL", f"{rel}:{number}", match.group(0))
                if service is not None:
                    found.append(service)
    return found


def _code_literals(trees: CodeTrees) -> list[Service]:
    found = []
    for rel, tree in trees:
        docstrings = {id(d) for d in _docstrings(tree)}
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and _URL.fullmatch(node.value.strip())
            ):
                service = service_from_url(
                    "a literal in the code", f"{rel}:{node.lineno}", node.value, gates=False
                )
                if service is not None:
                    found.append(service)
    return found


def _docstrings(tree: ast.Module) -> Iterable[ast.AST]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                yield body[0].value
