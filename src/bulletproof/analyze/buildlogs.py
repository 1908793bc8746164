"""The logs a build tool wrote and named in its output (``config.log``, ``meson-log.txt``,
``CMakeError.log``…), read into the failure's text before it is matched.

A configure step often prints only "see config.log for details": the line that says which header or
library was missing is in that file. The file is found by the name the output gives it, whatever the
tool: an absolute path, or a bare name looked up in the folders the output names. Only the end of a
log is kept (the check that stopped the build is last; the many probes a configure step makes for
optional features come before it and would otherwise read as needs)."""

from __future__ import annotations

import re
from pathlib import Path

from bulletproof.model import Failure, Stage

# a file name that says it is a log: config.log, meson-log.txt, CMakeError.log, build.log…
_LOG_NAME = r"[\w.+-]*log[\w.+-]*\.(?:log|txt)|[\w.+-]+\.log"
_ABSOLUTE = re.compile(rf"(/(?:[^\s'\"`:;,()]+/)*(?:{_LOG_NAME}))", re.IGNORECASE)
_BARE = re.compile(rf"(?<![/\w.-])((?:{_LOG_NAME}))(?![\w/])", re.IGNORECASE)
_FOLDER = re.compile(r"(/(?:[^\s'\"`:;,()=]+/)+)")

TAIL_LINES = 80  # the end of a log: enough for the failing check and what it printed
MAX_LOGS = 4  # a build that names more is listing its outputs, not pointing at an error
# autoconf's config.log ends with the values it found; the failing check is just before them
_AUTOCONF_VALUES = re.compile(r"^## -+ ##\n## Cache variables\. ##", re.MULTILINE)


def build_failure(package: str, text: str) -> Failure:
    """A build failure whose text carries the ends of the logs its output names."""
    return Failure(package, Stage.BUILD, text + "".join(_sections(text)))


def named_logs(text: str) -> list[Path]:
    """The log files the output names that are still there, in the order named."""
    found: dict[Path, None] = {}
    for name in _ABSOLUTE.findall(text):
        path = Path(name)
        if path.is_file():
            found[path] = None
    bare = set(_BARE.findall(text)) - {p.name for p in found}
    if bare:
        for folder in _folders(text):
            for name in sorted(bare):
                path = folder / name
                if path.is_file():
                    found[path] = None
    return list(found)[:MAX_LOGS]


def _folders(text: str) -> list[Path]:
    """Folders the output names (a compiler's -I, a "cd" line, a source path), and their parents
    two levels up: a configure step's log sits at the top of the tree it ran in."""
    seen: dict[Path, None] = {}
    for name in _FOLDER.findall(text):
        folder = Path(name)
        for candidate in (folder, *list(folder.parents)[:2]):
            if candidate != Path("/") and candidate.is_dir():
                seen[candidate] = None
        if len(seen) > 200:  # a build output names many folders; the first ones are enough
            break
    return list(seen)


def _sections(text: str) -> list[str]:
    sections = []
    for path in named_logs(text):
        try:
            content = path.read_text(errors="replace")
        except OSError:
            continue
        cut = _AUTOCONF_VALUES.search(content)
        if cut:
            content = content[: cut.start()]
        tail = "\n".join(content.rstrip().splitlines()[-TAIL_LINES:])
        sections.append(f"\n--- the end of {path}, which the build named ---\n{tail}\n")
    return sections
