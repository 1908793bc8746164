"""The web application a project's code defines, found in its syntax tree: a module-level name
bound to an ASGI or WSGI application object (``app = FastAPI()``, ``app = Flask(__name__)``,
``application = get_wsgi_application()``), and the literal GET routes its decorators declare
(``@app.get("/health")``, ``@app.route("/")``, ``@router.get("/items")``)."""

from __future__ import annotations

import ast
from pathlib import Path

from bulletproof.analyze.codeimports import python_files
from bulletproof.model import App

# the classes and factories that make an application object, by the interface it speaks
_ASGI = {"FastAPI", "Starlette", "Quart", "Litestar", "get_asgi_application", "Sanic"}
_WSGI = {"Flask", "get_wsgi_application", "Bottle"}
_ROUTE_METHODS = {"get", "route", "api_route"}
_CONVENTIONAL = {"app", "application", "api"}  # what servers look for: "module:app"
# the frameworks whose import says which interface an app made by the project's own factory is
_ASGI_FRAMEWORKS = {"fastapi", "starlette", "quart", "litestar", "sanic"}
_WSGI_FRAMEWORKS = {"flask", "bottle", "django", "pyramid", "falcon"}
_TEST_PARTS = {"tests", "test", "testing"}


def find_app(root: Path, source_roots: tuple[Path, ...]) -> App | None:
    """The first application the code defines (its top-level modules first)."""
    candidates: list[tuple[str, str, str, str, Path]] = []
    frameworks: set[str] = set()
    routes: list[str] = []  # declared anywhere: a factory's routes live beside it
    for path in python_files(root):
        rel = path.relative_to(root)
        if _TEST_PARTS & set(rel.parts[:-1]) or rel.name.startswith("test_"):
            continue
        try:
            tree = ast.parse(path.read_bytes(), filename=str(rel))
        except (SyntaxError, ValueError, OSError):
            continue
        frameworks |= _frameworks(tree)
        routes += _routes(tree)
        found = _app_in(tree) if not _does_work(tree) else None
        if found is None:
            continue
        attribute, framework, line = found
        base = next((r for r in source_roots if path.is_relative_to(r)), root)
        module = ".".join(path.relative_to(base).with_suffix("").parts).removesuffix(".__init__")
        where = f"{rel.as_posix()}:{line}"
        candidates.append((module, attribute, framework, where, base))
    if not candidates:
        return None
    # made by a framework's own class first, then the shortest module path
    candidates.sort(key=lambda c: (c[2] not in _ASGI | _WSGI, c[0].count("."), c[0]))
    module, attribute, framework, where, base = candidates[0]
    if framework in _ASGI:
        interface = "asgi"
    elif framework in _WSGI:
        interface = "wsgi"
    elif frameworks & _ASGI_FRAMEWORKS:
        interface = "asgi"
    elif frameworks & _WSGI_FRAMEWORKS:
        interface = "wsgi"
    else:
        return None  # a name called app in code that imports no web framework
    return App(module, attribute, interface, framework, where, base, tuple(dict.fromkeys(routes)))


def _app_in(tree: ast.Module) -> tuple[str, str, int] | None:
    """A module-level application: made by a framework's class or factory, or the conventional
    name (``app = create_app()``) bound to any call."""
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        func = node.value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        target = node.targets[0]
        if isinstance(target, ast.Name) and (name in _ASGI | _WSGI or target.id in _CONVENTIONAL):
            return target.id, name, node.lineno
    return None


def _does_work(tree: ast.Module) -> bool:
    """A script: it loops or opens contexts at import (``with app.app_context(): …``). Serving
    it would run that work, so its ``app`` is not started."""
    return any(isinstance(node, ast.With | ast.For | ast.While) for node in tree.body)


def _frameworks(tree: ast.Module) -> set[str]:
    """The web frameworks a module imports (top-level names)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names & (_ASGI_FRAMEWORKS | _WSGI_FRAMEWORKS)


def _routes(tree: ast.Module) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
                continue
            if decorator.func.attr not in _ROUTE_METHODS or not decorator.args:
                continue
            first = decorator.args[0]
            methods = next((k.value for k in decorator.keywords if k.arg == "methods"), None)
            if methods is not None and "GET" not in ast.unparse(methods):
                continue
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.startswith("/")
                and "{" not in first.value
                and "<" not in first.value
            ):
                found.append(first.value)
    return found
