"""The web application a project's code defines, found in its syntax tree: a module-level name
bound to an ASGI or WSGI application object (``app = FastAPI()``, ``app = Flask(__name__)``,
``application = get_wsgi_application()``), and the literal GET routes its decorators declare
(``@app.get("/health")``, ``@app.route("/")``, ``@router.get("/items")``)."""

from __future__ import annotations

import ast
from pathlib import Path

from bulletproof.code.codeimports import python_files
from bulletproof.code.found import App, AppSkip

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
    return find_apps(root, source_roots)[0]


def find_apps(root: Path, source_roots: tuple[Path, ...]) -> tuple[App | None, tuple[AppSkip, ...]]:
    """The application to start, and every one not started (or the lack of any), with why."""
    candidates: list[tuple[str, str, str, str, Path]] = []
    skipped: list[AppSkip] = []
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
        found = _app_in(tree)
        if found is None:
            continue
        attribute, framework, line = found
        work = _work_at_import(tree)
        if work is not None:
            what, at = work
            skipped.append(
                AppSkip(
                    f"{rel.as_posix()}:{at}",
                    f"{attribute} (line {line}) not started: the module runs a top-level "
                    f"`{what}` when imported, and serving it would run that work",
                )
            )
            continue
        base = next((r for r in source_roots if path.is_relative_to(r)), root)
        module = ".".join(path.relative_to(base).with_suffix("").parts).removesuffix(".__init__")
        where = f"{rel.as_posix()}:{line}"
        candidates.append((module, attribute, framework, where, base))
    if not candidates:
        if not skipped:
            skipped.append(AppSkip("", "no module binds an ASGI or WSGI application at top level"))
        return None, tuple(skipped)
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
    else:  # a name called app in code that imports no web framework
        said = f"{attribute} = {framework}() not started: the code imports no web framework"
        return None, (*skipped, AppSkip(where, said))
    app = App(module, attribute, interface, framework, where, base, tuple(dict.fromkeys(routes)))
    return app, tuple(skipped)


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


def _work_at_import(tree: ast.Module) -> tuple[str, int] | None:
    """A script: it loops or opens contexts at import (``with app.app_context(): …``); the
    statement and its line. Serving it would run that work, so its ``app`` is not started."""
    for node in tree.body:
        if isinstance(node, ast.With | ast.AsyncWith | ast.For | ast.AsyncFor | ast.While):
            return type(node).__name__.removeprefix("Async").lower(), node.lineno
    return None


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
