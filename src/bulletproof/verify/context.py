"""The context the project's own modules are imported in: the way the project runs them.

A Django project's modules load only with ``DJANGO_SETTINGS_MODULE`` set (its ``manage.py``,
``wsgi.py`` or ``asgi.py`` names it, or pytest-django's configuration) and the app registry
ready (``django.setup()``); a project's tests run from its root with the ``pythonpath`` its
pytest configuration adds. The import worker enters this context before the first of the
project's own modules or of those its code imports; a dependency's other modules are imported
before it, as they are.

Also what a failure that still needs a context says, by framework: such a module is reported
as needing its framework's context, never as a broken environment."""

from __future__ import annotations

import ast
import configparser
import re
import shlex
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from pathlib import Path

from bulletproof.tomlcompat import tomllib
from bulletproof.verify.values import FailureKind


@dataclass(frozen=True)
class Framework:
    """A framework whose modules need a context set before they import."""

    name: str
    variable: str  # the environment variable that names its settings
    entry_files: tuple[str, ...]  # the project's files that set it, as globs under its root
    pytest_option: str  # the pytest plugin's command-line option for it (in addopts)
    setup: tuple[str, str]  # (module, function) called once the variable is set


FRAMEWORKS = (
    Framework(
        "Django",
        "DJANGO_SETTINGS_MODULE",
        # pytest-django looks for manage.py in the root and the folders right below it
        ("manage.py", "*/manage.py", "*/wsgi.py", "*/asgi.py", "*/*/wsgi.py", "*/*/asgi.py"),
        "--ds",
        ("django", "setup"),
    ),
)

# What a module that still needs its framework's context raises (the worker's "Type: message"):
# no environment change fixes it. (wording, what it needs)
_NEEDS = (
    (
        re.compile(
            r"^(?:ImproperlyConfigured|AppRegistryNotReady):"
            r"|settings are not configured|Apps aren't loaded yet"
            r"|isn't in an application in INSTALLED_APPS"
        ),
        "Django",
    ),
    (re.compile(r"Working outside of (?:the )?(?:application|request) context"), "Flask"),
)

_MISSING = re.compile(r"No module named '([\w.]+)'")
# what a module says when the framework's setup did not finish (so its failure may be why)
_SETUP_UNDONE = re.compile(r"AppRegistryNotReady|(?:Apps|Models) aren't loaded yet")

# pytest reads the first of these that has its section, from the project's root
_PYTEST_FILES = (
    ("pytest.ini", "pytest"),
    (".pytest.ini", "pytest"),
    ("pyproject.toml", ""),
    ("tox.ini", "pytest"),
    ("setup.cfg", "tool:pytest"),
)


@dataclass(frozen=True)
class ImportContext:
    cwd: Path  # the project's root: relative paths its modules open resolve as when it runs
    path: tuple[str, ...] = ()  # folders put first on sys.path, in order
    environ: tuple[tuple[str, str], ...] = ()  # set unless the environment already has them
    setup: tuple[tuple[str, str], ...] = ()  # (module, function), each called once, guarded
    said: tuple[str, ...] = ()  # what was set, and where it was read
    files: tuple[Path, ...] = ()  # the configuration files read (a change invalidates a cache)

    def value(self, variable: str) -> str:
        return next((v for k, v in self.environ if k == variable), "")

    def describe(self) -> str:
        return "; ".join(self.said) if self.said else "from the project's root"


def needed_context(error: str) -> str:
    """The framework whose context a failed import's error says it needs, or ""."""
    return next((name for wording, name in _NEEDS if wording.search(error)), "")


def context_judgement(
    framework: str,
    error: str,
    said: str,
    *,
    context: ImportContext | None,
    installed: Callable[[str], bool],
    project_names: Set[str],
) -> tuple[FailureKind, str]:
    """A module that needs its framework's context: that, unless the framework's setup, which
    would have given it, failed for a module nothing installed provides (one its settings name,
    as INSTALLED_APPS)."""
    setup = _MISSING.search(said) if _SETUP_UNDONE.search(error) else None
    needed = setup.group(1) if setup else ""
    top = needed.split(".")[0]
    if needed and not installed(needed) and top not in project_names:
        why = f"{top} is needed by {framework}'s setup ({said}) and nothing installed provides it"
        return FailureKind.UNDECLARED, why
    return FailureKind.CONTEXT, _context_why(framework, error, said, context)


def _context_why(framework: str, error: str, said: str, context: ImportContext | None) -> str:
    """Which context the module needs, what it was imported with, and what to do."""
    why = f"needs {framework}'s context: {error}"
    needs = next((f for f in FRAMEWORKS if f.name == framework), None)
    if needs is not None and context is not None and not context.value(needs.variable):
        why += (
            f"; nothing in the project names {needs.variable} (its entry points, its pytest "
            "configuration): set it in the environment to import its modules as it runs them"
        )
    elif context is not None:
        why += f"; imported with {context.describe()}"
    if said:
        why += f"; {said}"
    if needs is None:
        why += "; it loads inside the running application, not imported on its own"
    return why + "; no environment change fixes it"


def import_context(
    root: Path, source_roots: Sequence[Path], environ: Mapping[str, str]
) -> ImportContext:
    """The context the project sets for its own modules: each framework's settings variable
    (the environment's value first, then the project's entry points, then its pytest
    configuration), the folders its pytest configuration and ``manage.py`` put on the path."""
    config, config_file = _pytest_config(root)
    path: list[Path] = [root / p for p in config.get("pythonpath", "").split()]
    said = [f"pythonpath {' '.join(config['pythonpath'].split())} ({config_file})"] if path else []
    variables: list[tuple[str, str]] = []
    setup: list[tuple[str, str]] = []
    for framework in FRAMEWORKS:
        module, where, runner = _named(framework, root, environ, config, config_file)
        if runner is not None:  # running manage.py puts its own folder first on the path
            path.append(runner)
        if not module:
            continue
        known = [*path, *source_roots]
        if _folder_of(module, known) is None:
            found = _folder_of(module, [root, root / "src"])
            if found is not None:
                path.append(found)
        variables.append((framework.variable, module))
        setup.append(framework.setup)
        said.append(f"{framework.variable}={module} ({where})")
    files = tuple(root / name for name, _ in _PYTEST_FILES if (root / name).is_file())
    return ImportContext(
        cwd=root,
        path=tuple(dict.fromkeys(str(p) for p in path)),
        environ=tuple(variables),
        setup=tuple(setup),
        said=tuple(said),
        files=files,
    )


def _named(
    framework: Framework,
    root: Path,
    environ: Mapping[str, str],
    config: Mapping[str, str],
    config_file: str,
) -> tuple[str, str, Path | None]:
    """The settings module, where it was read, and the folder of a ``manage.py`` found."""
    runner: Path | None = None
    module, where = environ.get(framework.variable, ""), "the environment"
    for pattern in framework.entry_files:
        for file in sorted(root.glob(pattern)):
            if any(part.startswith(".") for part in file.relative_to(root).parts):
                continue
            if file.name == "manage.py" and runner is None:
                runner = file.parent
            if not module and (named := _set_in(file, framework.variable)):
                module, where = named[0], f"{file.relative_to(root)}:{named[1]}"
    if not module:
        module = config.get(framework.variable, "") or config.get(framework.variable.lower(), "")
        where = config_file
    if not module:
        module, where = _option(config.get("addopts", ""), framework.pytest_option), config_file
    return module, where, runner


def _set_in(file: Path, variable: str) -> tuple[str, int] | None:
    """The value ``os.environ.setdefault(VARIABLE, "x")`` or ``os.environ[VARIABLE] = "x"``
    sets, and its line."""
    try:
        tree = ast.parse(file.read_bytes(), str(file))
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        key: ast.AST | None = None
        value: ast.AST | None = None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "setdefault" and len(node.args) == 2:
                key, value = node.args
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            key, value = node.targets[0].slice, node.value
        if (
            isinstance(key, ast.Constant)
            and key.value == variable
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
            and value.value
        ):
            return value.value, getattr(node, "lineno", 0)
    return None


def _pytest_config(root: Path) -> tuple[dict[str, str], str]:
    """The project's pytest options (values as written, lists joined by spaces), and the file."""
    for name, section in _PYTEST_FILES:
        file = root / name
        if not file.is_file():
            continue
        if not section:
            try:
                data = tomllib.loads(file.read_text(encoding="utf-8", errors="replace"))
            except (OSError, tomllib.TOMLDecodeError):
                continue
            tool = data.get("tool")
            table = tool.get("pytest") if isinstance(tool, dict) else None
            # pytest 9 reads a native [tool.pytest] table too
            options = table.get("ini_options", table) if isinstance(table, dict) else None
            if isinstance(options, dict) and options:
                return {
                    str(k): " ".join(map(str, v)) if isinstance(v, list) else str(v)
                    for k, v in options.items()
                }, name
            continue
        parser = _CaseKept(interpolation=None, strict=False)
        try:
            parser.read_string(file.read_text(encoding="utf-8", errors="replace"), name)
        except (OSError, configparser.Error):
            continue
        if parser.has_section(section):
            return dict(parser.items(section)), name
        if name in ("pytest.ini", ".pytest.ini"):
            return {}, name  # pytest takes this file even without its section
    return {}, ""


class _CaseKept(configparser.ConfigParser):
    """pytest's ini keys are read as written (``DJANGO_SETTINGS_MODULE``)."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def _option(addopts: str, option: str) -> str:
    """``--ds=x.settings`` or ``--ds x.settings`` in pytest's addopts."""
    try:
        words = shlex.split(addopts)
    except ValueError:
        words = addopts.split()
    for i, word in enumerate(words):
        if word.startswith(option + "="):
            return word.split("=", 1)[1]
        if word == option and i + 1 < len(words):
            return words[i + 1]
    return ""


def _folder_of(module: str, folders: Sequence[Path]) -> Path | None:
    """The folder the module is importable from (its file or package under it), if any."""
    rel = Path(*module.split("."))
    for folder in folders:
        if (folder / rel.with_suffix(".py")).is_file() or (folder / rel / "__init__.py").is_file():
            return folder
    return None
