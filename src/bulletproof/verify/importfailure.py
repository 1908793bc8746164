"""A failed import and the facts the verdict's rules ask of it: what its error names (a missing
module, a name another module lacks, the project file it was raised in, another platform it is
for), and what it was imported as (the project's own, imported by its code, a dependency's part).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Mapping, Set
from dataclasses import dataclass
from pathlib import Path

from bulletproof.code.codeimports import CodeImport
from bulletproof.model import Project
from bulletproof.verify.context import ImportContext
from bulletproof.verify.values import ModuleCheck

_MISSING = re.compile(r"No module named '([\w.]+)'")
_CANNOT = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")
_NO_ATTRIBUTE = re.compile(r"module '([\w.]+)' has no attribute")
_WHERE = re.compile(r"\(([^()]+):(\d+)\)$")

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


@dataclass(frozen=True)
class Surroundings:
    """What every failure is judged against: the project and the environment it failed in."""

    project: Project
    provided: Set[str]  # importable names the installed distributions provide
    imports: Mapping[str, CodeImport]  # what the project's code imports, by module
    extras_of: Mapping[str, Mapping[str, set[str]]]  # per distribution: extra -> names
    local: Set[str]  # names the project's own tree provides (siblings, test helpers)
    python_minor: str  # the environment's Python
    stdlib: Set[str]  # the module names of its standard library
    context: ImportContext | None  # what the project's modules were imported with

    @property
    def own(self) -> frozenset[str]:
        return frozenset(self.project.own_packages)

    def installed(self, module: str) -> bool:
        return any(module == p or module.startswith(p + ".") for p in self.provided)


@dataclass(frozen=True)
class Failure:
    """One failed import and the facts about it."""

    module: str
    distribution: str
    error: str  # the import's own error, "Type: message"
    said: str  # what entering the project's context said (a framework's setup that failed)
    missing: str  # the module a "No module named" names, or ""
    cannot: tuple[str, str] | None  # (name, module) of "cannot import name NAME from MODULE"
    code: CodeImport | None  # how the project's code imports this module, if it does
    around: Surroundings

    @classmethod
    def of(cls, check: ModuleCheck, around: Surroundings) -> Failure:
        # the worker appends what entering the context said
        error, _, said = check.error.partition(" [context: ")
        missing = _MISSING.search(error)
        cannot = _CANNOT.search(error)
        return cls(
            check.module,
            check.distribution,
            error,
            said.removesuffix("]"),
            missing.group(1) if missing else "",
            (cannot.group(1), cannot.group(2)) if cannot else None,
            around.imports.get(check.module),
            around,
        )

    @property
    def error_type(self) -> str:
        return self.error.split(":", 1)[0]

    @property
    def missing_top(self) -> str:
        return self.missing.split(".")[0]

    @property
    def missing_uninstalled(self) -> bool:
        """A module is missing, and nothing installed provides it."""
        return bool(self.missing) and not self.around.installed(self.missing)

    @property
    def is_own(self) -> bool:
        """One of the project's own modules."""
        return self.module.split(".")[0] in self.around.own

    @property
    def for_itself(self) -> bool:
        """Imported for its own sake: the project's code, what it imports, or a distribution's
        top level (a dependency's submodule is only a part of it)."""
        return self.is_own or self.code is not None or self.module in self.around.provided

    @property
    def unasked_part(self) -> bool:
        """A dependency's submodule that neither the project's code imports nor is anyone's
        top level: only the check reached it."""
        return not self.is_own and self.code is None and self.module not in self.around.provided

    @property
    def missing_private_part(self) -> bool:
        """Needs a private module of its own package (``yaml._yaml``): the package's optional
        compiled part, absent."""
        parts = self.missing.split(".")
        same_package = parts[0] == self.module.split(".", maxsplit=1)[0]
        return len(parts) > 1 and same_package and parts[-1].startswith("_")

    @property
    def lacks_own_package_name(self) -> bool:
        """A name missing from a module of its own package ("has no attribute", "cannot import
        name"): a circular import inside it."""
        found = _NO_ATTRIBUTE.search(self.error) or _CANNOT.search(self.error)
        if found is None:
            return False
        top = found.group(found.lastindex or 1).split(".")[0]
        return top == self.module.split(".", maxsplit=1)[0]

    @property
    def raised_in_project(self) -> bool:
        """Raised in a file of the project's tree (not in its environment)."""
        found = _WHERE.search(self.error)
        if not found:
            return False
        path = Path(found.group(1))
        root = self.around.project.root
        return path.is_absolute() and path.is_relative_to(root) and ".venv" not in path.parts

    @property
    def for_another_platform(self) -> str:
        """The platform an ImportError raised on purpose says the module is for, when it is
        not this one; "" otherwise (a missing module is not that: it names no platform)."""
        if self.error_type not in ("ImportError", "RuntimeError", "OSError") or self.missing:
            return ""
        message = self.error.split(":", 1)[1] if ":" in self.error else ""
        if not _REFUSED.search(message):
            return ""
        for word, name in _PLATFORMS.items():
            prefix = {"Windows": "win", "macOS": "darwin"}.get(name, name.lower())
            if re.search(rf"\b{word}\b", message, re.I) and not sys.platform.startswith(prefix):
                return name
        return ""
