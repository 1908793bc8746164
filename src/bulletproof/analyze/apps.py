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
_TEST_PARTS = {"tests", "test", "testing"}


def find_app(root: Path, source_roots: tuple[Path, ...]) -> App | None:
    """The first application the code defines (its top-level modules first)."""
    candidates = []
    for path in python_files(root):
        rel = path.relative_to(root)
        if _TEST_PARTS & set(rel.parts[:-1]) or rel.name.startswith("test_"):
            continue
        try:
            tree = ast.parse(path.read_bytes(), filename=str(rel))
        except (SyntaxError, ValueError, OSError):
            continue
        found = _app_in(tree)
        if found is None:
            continue
        attribute, framework, line = found
        base = next((r for r in source_roots if path.is_relative_to(r)), root)
        module = ".".join(path.relative_to(base).with_suffix("").parts).removesuffix(".__init__")
        interface = "asgi" if framework in _ASGI else "wsgi"
        routes = _routes(tree)
        where = f"{rel.as_posix()}:{line}"
        candidates.append(App(module, attribute, interface, framework, where, base, routes))
    candidates.sort(key=lambda a: (a.module.count("."), a.module))
    return candidates[0] if candidates else None


def _app_in(tree: ast.Module) -> tuple[str, str, int] | None:
    for node in tree.body:
        if not (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)):
            continue
        func = node.value.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in _ASGI | _WSGI and isinstance(node.targets[0], ast.Name):
            return node.targets[0].id, name, node.lineno
    return None


def _routes(tree: ast.Module) -> tuple[str, ...]:
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
    return tuple(dict.fromkeys(found))
