"""What each failed import means: the environment's to fix (broken, an undeclared import), or
not (an optional part whose dependency nothing requires, an import the project guards, the
project's own code, a package that imports a name another no longer has)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Mapping, Set
from pathlib import Path

from packaging.utils import canonicalize_name

from bulletproof.code.codeimports import CodeImport
from bulletproof.knowledge import removed_in
from bulletproof.model import FailureKind, Judged, ModuleCheck, Project
from bulletproof.verify.context import ImportContext, context_judgement, needed_context

# os.environ["NAME"] of an unset variable, as the import worker reports it
_ENV_KEY = re.compile(r"KeyError: '([A-Za-z_][A-Za-z0-9_]*)' \((?:<frozen os>|[^)]*/os\.py)")
# django-environ's words for an unset variable
_SET_THE_VARIABLE = re.compile(r"^ImproperlyConfigured: Set the (\w+) environment variable")
_MISSING = re.compile(r"No module named '([\w.]+)'")
_CANNOT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")
_WHERE = re.compile(r"\(([^()]+):(\d+)\)$")
_OWN_BUGS = ("SyntaxError", "IndentationError", "TabError", "NameError")
# What an environment change can fix: a missing module, library or file, a build, a pin.
_ENVIRONMENT_ERRORS = (
    "ModuleNotFoundError",
    "ImportError",
    "OSError",
    "FileNotFoundError",
    "SyntaxError",
    "AttributeError",
    "TypeError",
)


# "can only be imported on Windows", "only available on macOS", "Windows only", "not supported
# on this platform (darwin)": an import refused on purpose, by a platform name this one is not
_PLATFORMS = {
    "windows": "Windows",
    "win32": "Windows",
    "macos": "macOS",
    "mac os": "macOS",
    "darwin": "macOS",
    "os x": "macOS",
    "ios": "iOS",
    "android": "Android",
    "emscripten": "Emscripten",
    "wasi": "WASI",
}
_REFUSED = re.compile(r"\bonly\b|not (?:supported|available)|unsupported|requires?\b", re.I)


def _for_another_platform(error: str) -> str:
    """The platform an ImportError raised on purpose says the module is for, when it is not
    this one; "" otherwise (a missing module is not that: it names no platform)."""
    kind = error.split(":", 1)[0]
    if kind not in ("ImportError", "RuntimeError", "OSError") or _MISSING.search(error):
        return ""
    message = error.split(":", 1)[1] if ":" in error else ""
    if not _REFUSED.search(message):
        return ""
    here = sys.platform
    for word, name in _PLATFORMS.items():
        if re.search(rf"\b{word}\b", message, re.I) and not here.startswith(
            {"Windows": "win", "macOS": "darwin"}.get(name, name.lower())
        ):
            return name
    return ""


def _raised_in(error: str, root: Path) -> bool:
    found = _WHERE.search(error)
    if not found:
        return False
    path = Path(found.group(1))
    return path.is_absolute() and path.is_relative_to(root) and ".venv" not in path.parts


def judge(  # noqa: PLR0912, PLR0915, PLR0917  (one branch per verdict; the facts, each named)
    failed: Iterable[ModuleCheck],
    project: Project,
    provided: set[str],
    imports: Mapping[str, CodeImport],
    extras_of: Mapping[str, Mapping[str, set[str]]],
    local: Set[str] = frozenset(),
    *,
    python_minor: str = "",
    stdlib: Set[str] = frozenset(),
    context: ImportContext | None = None,
) -> tuple[Judged, ...]:
    """``provided``: importable names the installed distributions provide; ``imports``: what
    the project's code imports, by module; ``extras_of``: per distribution, its extras and the
    names they require (to say which one would bring a missing module); ``python_minor``: the
    environment's Python (a module its standard library no longer has is not looked for);
    ``stdlib``: the module names of that interpreter's standard library (one it lacks is the
    interpreter's to fix, never the package index's); ``context``: what the project's modules
    were imported with (a failure that still needs its framework's context says which)."""
    own = set(project.own_packages)
    out: list[Judged] = []

    def installed(module: str) -> bool:
        return any(module == p or module.startswith(p + ".") for p in provided)

    for check in failed:
        error, said = _apart(check.error)
        kind_name = error.split(":", 1)[0]
        missing = _MISSING.search(error)
        missing_name = missing.group(1) if missing else ""
        missing_top = missing_name.split(".")[0]
        cannot = _CANNOT.search(error)
        code = imports.get(check.module)
        is_own = check.module.split(".")[0] in own
        kind, why = FailureKind.BROKEN, error
        variable = (
            _ENV_KEY.match(error) if kind_name == "KeyError" else None
        ) or _SET_THE_VARIABLE.match(error)
        if variable and is_own:
            # os.environ[...] at import: no package fixes it; the variable must be set
            kind, why = (
                FailureKind.OWN_CODE,
                f"reads the environment variable {variable.group(1)} when imported, and it is "
                "not set: set it (in the environment or .env; see bulletproof generate env)",
            )
        elif code is not None and code.guarded and not is_own:
            kind, why = (
                FailureKind.GUARDED,
                f"imported by a bare name only where the file runs as a script ({code.where}); "
                "its package imports it relatively"
                if code.script_sibling
                else f"imported only where a failure is handled ({code.where})",
            )
        elif "." in check.module and (elsewhere := _for_another_platform(error)):
            # a part written for another system refuses, by design, to load on this one
            kind, why = (FailureKind.UPSTREAM, f"it is for {elsewhere} only: {error}")
        elif framework := needed_context(error):
            kind, why = context_judgement(
                framework,
                error,
                said,
                context=context,
                installed=installed,
                project_names=own | local,
            )
        elif (
            missing
            and not installed(missing_name)
            # what is imported for its own sake: a distribution's top level, the project's code
            # (a dependency's submodule that needs it is an optional part, judged below)
            and (is_own or code is not None or check.module in provided)
            and (gone := removed_in(missing_top, python_minor))
        ):
            kind, why = (
                FailureKind.BROKEN,
                (
                    f"needs {missing_top}, which the standard library no longer has since "
                    f"Python {gone}: a release of {check.distribution} that does not use it, "
                    f"or a Python older than {gone}"
                ),
            )
        elif (
            missing
            and not installed(missing_name)
            and (is_own or code is not None or check.module in provided)
            and missing_top in stdlib
            and missing_top not in own
            and missing_top not in local
        ):
            kind, why = (
                FailureKind.INTERPRETER,
                (
                    f"the standard library's {missing_top} is missing from this interpreter: "
                    "a system package or another build of Python provides it, not the index"
                ),
            )
        elif is_own and missing and missing_top in local and not installed(missing_name):
            kind, why = (
                FailureKind.OWN_CODE,
                (
                    f"imports its sibling {missing_name} by a bare name: it runs only with its own "
                    "folder on the path (as pytest puts it there), not as a module of the project"
                ),
            )
        elif (
            missing
            and not installed(missing_name)
            and missing_top not in own
            and (is_own or code is not None)
        ):
            where = code.where if code else check.module
            kind, why = (
                FailureKind.UNDECLARED,
                f"{missing_top} is imported ({where}) and nothing installed provides it",
            )
        elif is_own and (
            kind_name in _OWN_BUGS
            or (
                _raised_in(error, project.root)
                and kind_name not in ("ModuleNotFoundError", "ImportError", "OSError")
            )
        ):
            kind, why = FailureKind.OWN_CODE, f"raised in the project's own code: {error}"
        elif cannot and cannot.group(2).split(".")[0] in own:
            kind, why = (
                FailureKind.OWN_CODE,
                f"the project's own {cannot.group(2)} has no {cannot.group(1)}",
            )
        elif (
            not is_own
            and code is None
            and ("partially initialized module" in error or _own_attribute(error, check.module))
        ):
            kind, why = (
                FailureKind.UPSTREAM,
                (
                    f"{error}: a circular import inside {check.distribution} when this submodule "
                    "is imported first; no environment change fixes it"
                ),
            )
        elif (
            not is_own
            and code is None
            and check.module not in provided
            and _private_part(missing_name, check.module)
        ):
            kind, why = (
                FailureKind.OPTIONAL,
                f"needs {missing_name}, a part of {check.distribution} that was not built or "
                f"installed (an accelerator); {check.module.split('.')[0]} itself imports",
            )
        elif (
            not is_own
            and code is None
            and check.module not in provided
            and kind_name not in _ENVIRONMENT_ERRORS
        ):
            kind, why = (
                FailureKind.UPSTREAM,
                f"{error}: this submodule's own code refuses to load on its own (it is meant "
                "for a context of its own); no environment change fixes it",
            )
        elif cannot or (kind_name == "AttributeError" and "has no attribute" in error):
            if not is_own and code is None and check.module not in provided:
                kind, why = (
                    FailureKind.UNREACHED,
                    f"{error}: a part of {check.distribution} the project's code does not import "
                    "needs a name the installed packages do not have; listed, and no pin is "
                    "moved for it",
                )
            else:
                kind, why = (
                    FailureKind.INCOMPATIBLE,
                    f"{error}: it needs a name the installed version no longer has (a pin "
                    "candidate)",
                )
        elif (
            missing
            and not installed(missing_name)
            and not is_own
            and code is None
            and (
                check.module not in provided  # a submodule: an optional part of its package
                or (
                    extra := _extra_for(
                        extras_of.get(canonicalize_name(check.distribution), {}), missing_top
                    )
                )
            )
        ):
            extra = _extra_for(
                extras_of.get(canonicalize_name(check.distribution), {}), missing_top
            )
            hint = f"; install with --extra {extra} of {check.distribution}" if extra else ""
            kind, why = (
                FailureKind.OPTIONAL,
                (f"needs {missing_top}, which {check.distribution} does not require{hint}"),
            )
        out.append(Judged(check.module, check.distribution, kind, why))
    return tuple(out)


def _apart(error: str) -> tuple[str, str]:
    """The import's own error, and what entering the project's context said (a framework's
    setup that failed), which the worker appends."""
    own, _, said = error.partition(" [context: ")
    return own, said.removesuffix("]")


def _private_part(missing: str, module: str) -> bool:
    """A submodule that needs a private module of its own package (``yaml._yaml``): the
    package's optional compiled part, absent."""
    parts = missing.split(".")
    same_package = parts[0] == module.split(".", maxsplit=1)[0]
    return len(parts) > 1 and same_package and parts[-1].startswith("_")


def _own_attribute(error: str, module: str) -> bool:
    """An AttributeError about a module of the same package: a circular import inside it."""
    found = re.search(r"module '([\w.]+)' has no attribute", error) or _CANNOT.search(error)
    if found is None:
        return False
    return found.group(found.lastindex or 1).split(".")[0] == module.split(".", maxsplit=1)[0]


def _extra_for(extras: Mapping[str, set[str]], module: str) -> str | None:
    wanted = canonicalize_name(module)
    for extra, names in sorted(extras.items()):
        if wanted in names or any(wanted in n or n in wanted for n in names):
            return extra
    return None
