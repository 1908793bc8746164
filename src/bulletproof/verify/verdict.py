"""What each failed import means: the environment's to fix (broken, an undeclared import), or
not (an optional part whose dependency nothing requires, an import the project guards, the
project's own code, a package that imports a name another no longer has).

Each meaning is a rule: a function from a ``Failure`` (verify/importfailure.py: one failed import
and the facts about it) to a judgement, or None when it does not apply. ``RULES`` is the one
order they are asked in; the first that answers decides, and what none answers is broken."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Set

from packaging.utils import canonicalize_name

from bulletproof.code.codeimports import CodeImport
from bulletproof.knowledge import removed_in
from bulletproof.model import Project
from bulletproof.verify.context import ImportContext, context_judgement, needed_context
from bulletproof.verify.importfailure import Failure, Surroundings
from bulletproof.verify.values import FailureKind, Judged, ModuleCheck

# os.environ["NAME"] of an unset variable, as the import worker reports it
_ENV_KEY = re.compile(r"KeyError: '([A-Za-z_][A-Za-z0-9_]*)' \((?:<frozen os>|[^)]*/os\.py)")
# django-environ's words for an unset variable
_SET_THE_VARIABLE = re.compile(r"^ImproperlyConfigured: Set the (\w+) environment variable")
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

Judgement = tuple[FailureKind, str]


def unset_variable(f: Failure) -> Judgement | None:
    """The project's module reads os.environ[...] at import: no package fixes it."""
    found = (
        _ENV_KEY.match(f.error) if f.error_type == "KeyError" else None
    ) or _SET_THE_VARIABLE.match(f.error)
    if not (found and f.is_own):
        return None
    return (
        FailureKind.OWN_CODE,
        f"reads the environment variable {found.group(1)} when imported, and it is not set: "
        "set it (in the environment or .env; see bulletproof generate env)",
    )


def guarded(f: Failure) -> Judgement | None:
    """The project imports it only where a failure is handled, or as a script's sibling."""
    code = f.code
    if code is None or not code.guarded or f.is_own:
        return None
    if code.script_sibling:
        return (
            FailureKind.GUARDED,
            f"imported by a bare name only where the file runs as a script ({code.where}); "
            "its package imports it relatively",
        )
    return FailureKind.GUARDED, f"imported only where a failure is handled ({code.where})"


def another_platform(f: Failure) -> Judgement | None:
    """A part written for another system refuses, by design, to load on this one."""
    elsewhere = f.for_another_platform if "." in f.module else ""
    return (FailureKind.UPSTREAM, f"it is for {elsewhere} only: {f.error}") if elsewhere else None


def framework_context(f: Failure) -> Judgement | None:
    """A module that still needs its framework's context (Django's settings)."""
    framework = needed_context(f.error)
    if not framework:
        return None
    return context_judgement(
        framework,
        f.error,
        f.said,
        context=f.around.context,
        installed=f.around.installed,
        project_names=f.around.own | f.around.local,
    )


def removed_from_stdlib(f: Failure) -> Judgement | None:
    """Needs a module the standard library no longer has on this Python."""
    if not (f.missing_uninstalled and f.for_itself):
        return None
    gone = removed_in(f.missing_top, f.around.python_minor)
    if not gone:
        return None
    return (
        FailureKind.BROKEN,
        f"needs {f.missing_top}, which the standard library no longer has since Python {gone}: "
        f"a release of {f.distribution} that does not use it, or a Python older than {gone}",
    )


def stdlib_missing_here(f: Failure) -> Judgement | None:
    """A standard-library module this interpreter was built without."""
    top = f.missing_top
    if not (f.missing_uninstalled and f.for_itself and top in f.around.stdlib):
        return None
    if top in f.around.own or top in f.around.local:
        return None
    return (
        FailureKind.INTERPRETER,
        f"the standard library's {top} is missing from this interpreter: a system package or "
        "another build of Python provides it, not the index",
    )


def bare_sibling(f: Failure) -> Judgement | None:
    """The project's file imports a file beside it by a bare name."""
    if not (f.is_own and f.missing_uninstalled and f.missing_top in f.around.local):
        return None
    return (
        FailureKind.OWN_CODE,
        f"imports its sibling {f.missing} by a bare name: it runs only with its own folder on "
        "the path (as pytest puts it there), not as a module of the project",
    )


def undeclared(f: Failure) -> Judgement | None:
    """The project's code imports what nothing installed provides."""
    if not f.missing_uninstalled or f.missing_top in f.around.own:
        return None
    if not (f.is_own or f.code is not None):
        return None
    where = f.code.where if f.code else f.module
    return (
        FailureKind.UNDECLARED,
        f"{f.missing_top} is imported ({where}) and nothing installed provides it",
    )


def own_bug(f: Failure) -> Judgement | None:
    """Raised by the project's own code, and not for a missing module or library."""
    if not f.is_own:
        return None
    in_own_file = f.raised_in_project and f.error_type not in (
        "ModuleNotFoundError",
        "ImportError",
        "OSError",
    )
    if f.error_type not in _OWN_BUGS and not in_own_file:
        return None
    return FailureKind.OWN_CODE, f"raised in the project's own code: {f.error}"


def own_name_missing(f: Failure) -> Judgement | None:
    """A name imported from the project's own package that it does not have."""
    if f.cannot is None or f.cannot[1].split(".")[0] not in f.around.own:
        return None
    name, module = f.cannot
    return FailureKind.OWN_CODE, f"the project's own {module} has no {name}"


def circular_inside(f: Failure) -> Judgement | None:
    """A dependency's submodule imported first trips a circular import inside its package."""
    if f.is_own or f.code is not None:
        return None
    if "partially initialized module" not in f.error and not f.lacks_own_package_name:
        return None
    return (
        FailureKind.UPSTREAM,
        f"{f.error}: a circular import inside {f.distribution} when this submodule is imported "
        "first; no environment change fixes it",
    )


def private_part_absent(f: Failure) -> Judgement | None:
    """A submodule needs its package's optional compiled part (``yaml._yaml``), not built."""
    if not (f.unasked_part and f.missing_private_part):
        return None
    return (
        FailureKind.OPTIONAL,
        f"needs {f.missing}, a part of {f.distribution} that was not built or installed (an "
        f"accelerator); {f.module.split('.')[0]} itself imports",
    )


def refuses_alone(f: Failure) -> Judgement | None:
    """A submodule's own code refuses to load outside the context it is meant for."""
    if not f.unasked_part or f.error_type in _ENVIRONMENT_ERRORS:
        return None
    return (
        FailureKind.UPSTREAM,
        f"{f.error}: this submodule's own code refuses to load on its own (it is meant for a "
        "context of its own); no environment change fixes it",
    )


def name_gone(f: Failure) -> Judgement | None:
    """Needs a name an installed package no longer has: a pin candidate, unless only the check
    reached that part."""
    if f.cannot is None and not (
        f.error_type == "AttributeError" and "has no attribute" in f.error
    ):
        return None
    if f.unasked_part:
        return (
            FailureKind.UNREACHED,
            f"{f.error}: a part of {f.distribution} the project's code does not import needs a "
            "name the installed packages do not have; listed, and no pin is moved for it",
        )
    return (
        FailureKind.INCOMPATIBLE,
        f"{f.error}: it needs a name the installed version no longer has (a pin candidate)",
    )


def optional_dependency(f: Failure) -> Judgement | None:
    """A dependency's part needs a module its distribution does not require (an extra)."""
    if not f.missing_uninstalled or f.is_own or f.code is not None:
        return None
    extras = f.around.extras_of.get(canonicalize_name(f.distribution), {})
    extra = _extra_for(extras, f.missing_top)
    if f.module in f.around.provided and extra is None:
        return None  # a top level that needs what no extra brings: broken
    hint = f"; install with --extra {extra} of {f.distribution}" if extra else ""
    return (
        FailureKind.OPTIONAL,
        f"needs {f.missing_top}, which {f.distribution} does not require{hint}",
    )


# The order is the meaning: the first rule that answers decides, and each is asked before those
# that would misread its failure.
RULES: tuple[Callable[[Failure], Judgement | None], ...] = (
    # Django's ImproperlyConfigured("Set the X environment variable") also reads as "needs its
    # framework's context": the variable is the precise answer, so it goes first.
    unset_variable,
    # the project already handles the failure: whatever it is, it is not the environment's
    guarded,
    # a refusal on purpose names no missing thing: before any rule about what is missing
    another_platform,
    # a module without its framework's context may name a missing module its settings list:
    # context_judgement tells that apart, so before the missing-module rules
    framework_context,
    # a missing module nothing installed provides, from the most specific cause to the least:
    # removed from the standard library, missing from this interpreter's, a sibling file
    # imported by a bare name; only then an import nothing declares (the engine looks it up on
    # the index, which none of those three answers)
    removed_from_stdlib,
    stdlib_missing_here,
    bare_sibling,
    undeclared,
    # the project's own code: before the rules for dependencies' names (a name missing from
    # its own package is not a pin to move)
    own_bug,
    own_name_missing,
    # a dependency's submodule checked alone: a circular import (worded "cannot import name"
    # or "has no attribute") and an absent private part (worded "No module named") before the
    # rules those wordings would otherwise reach
    circular_inside,
    private_part_absent,
    refuses_alone,
    # a name another package no longer has, then a module only an extra brings; what none of
    # the rules explains is broken
    name_gone,
    optional_dependency,
)


def judge(  # noqa: PLR0917  (the facts a failure is judged against, each named)
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
    around = Surroundings(
        project, provided, imports, extras_of, local, python_minor, stdlib, context
    )
    return tuple(_judged(Failure.of(check, around)) for check in failed)


def _judged(failure: Failure) -> Judged:
    kind, why = next(
        (found for rule in RULES if (found := rule(failure)) is not None),
        (FailureKind.BROKEN, failure.error),
    )
    return Judged(failure.module, failure.distribution, kind, why)


def _extra_for(extras: Mapping[str, set[str]], module: str) -> str | None:
    wanted = canonicalize_name(module)
    for extra, names in sorted(extras.items()):
        if wanted in names or any(wanted in n or n in wanted for n in names):
            return extra
    return None
