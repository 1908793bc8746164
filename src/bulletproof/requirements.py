"""Read requirements files the way pip does, and say exactly where a line is wrong.

uv reads these files itself for the lock; this pass exists so that a bad line gets an error naming
the file, line and column before any tool runs, and so that files they include are known (they are
part of the lock's input hash).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bulletproof.errors import InputError

# Options pip accepts in a requirements file, each with whether it takes a value. uv reads
# these files for the lock and acts on the first set; bulletproof itself follows -r and -c.
_OPTIONS = {
    "-r": True,
    "--requirement": True,
    "-c": True,
    "--constraint": True,
    "-e": True,
    "--editable": True,
    "-i": True,
    "--index-url": True,
    "--extra-index-url": True,
    "-f": True,
    "--find-links": True,
    "--no-binary": True,
    "--only-binary": True,
    "--no-index": False,
    "--require-hashes": False,
}
# pip's options that uv ignores (it warns, and resolves without them): valid, so not refused,
# but said, since the environment is made as if they were not there
_IGNORED_OPTIONS = {
    "--pre": False,
    "--prefer-binary": False,
    "--trusted-host": True,
    "--use-feature": True,
}
_INCLUDES = {"-r", "--requirement", "-c", "--constraint"}


@dataclass(frozen=True)
class RequirementFiles:
    files: tuple[Path, ...]  # a requirements file and every file it includes, in order
    notes: tuple[str, ...] = ()  # the pip options in them that uv ignores, each with its place


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first physical line number, text) with comments stripped and continuations joined."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = "" if raw.lstrip().startswith("#") else raw
        for marker in (" #", "\t#"):
            line = line.split(marker, 1)[0]
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        pending += line
        if pending.strip():
            out.append((start, pending))
        pending = ""
    if pending.strip():
        out.append((start, pending))
    return out


def requirement_lines(path: Path) -> list[str]:
    """The requirements a requirements file names itself (options, includes, paths and URLs
    without a name left out): what the project asks for directly."""
    try:
        text = decode(path.read_bytes())
    except (OSError, ValueError):
        return []
    return [
        line.strip()
        for _, line in _logical_lines(text)
        if not line.strip().startswith("-") and not _is_path_or_url(line.strip())
    ]


def requirement_name(text: str) -> str:
    """The distribution a PEP 508 requirement names; the text itself when it does not parse."""
    try:
        return Requirement(text).name
    except InvalidRequirement:
        return text


def exact_pin(text: str) -> tuple[str, str] | None:
    """(normalized name, version) of a ``name==version`` line such as uv writes; None for any
    other line."""
    try:
        requirement = Requirement(text.strip())
    except InvalidRequirement:
        return None
    specs = list(requirement.specifier)
    if len(specs) != 1 or specs[0].operator != "==" or requirement.url:
        return None
    return canonicalize_name(requirement.name), specs[0].version


def declared_names(direct: Iterable[str], files: Iterable[Path]) -> list[str]:
    """The distributions asked for by name: ``direct`` (PEP 508 strings) and what the
    requirements ``files`` name themselves; markers for no extra are evaluated here."""
    names: list[str] = []
    for text in (*direct, *(line for path in files for line in requirement_lines(path))):
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        names.append(requirement.name)
    return list(dict.fromkeys(names))


def _is_path_or_url(text: str) -> bool:
    if text.startswith((".", "/", "~")):
        return True
    return "://" in text and "@" not in text.split("://", maxsplit=1)[0]


# Byte order marks uv honours in a requirements file (pip too). UTF-32's little-endian mark
# begins with UTF-16's: it is looked for first, and refused, since uv does not read UTF-32.
_UTF32 = (codecs.BOM_UTF32_BE, codecs.BOM_UTF32_LE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_BE, "utf-16"),
    (codecs.BOM_UTF16_LE, "utf-16"),
)


def decode(data: bytes) -> str:
    """A requirements file's text as uv reads it: by its byte order mark, else UTF-8.
    Raises UnicodeDecodeError (ValueError for UTF-32, which uv does not read)."""
    if data.startswith(_UTF32):
        raise ValueError("UTF-32, which uv does not read")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    return data.decode("utf-8")


def parse_file(path: Path, root: Path, seen: set[Path] | None = None) -> RequirementFiles:
    """Validate one requirements file; return it and every file it includes, in order, with
    notes on the options in them that uv ignores."""
    seen = set() if seen is None else seen
    resolved = path.resolve()
    if resolved in seen:
        return RequirementFiles(())
    seen.add(resolved)
    shown = _shown(path, root)
    try:
        text = decode(path.read_bytes())
    except FileNotFoundError:
        raise InputError(f"{shown}: file not found") from None
    except OSError as exc:
        raise InputError(f"{shown}: cannot be read ({exc.strerror or exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{shown}: not UTF-8 (byte {exc.object[exc.start]:#04x} at offset {exc.start})",
            hint="save it as UTF-8 (UTF-16 with a byte order mark is read too)",
        ) from None
    except ValueError as exc:
        raise InputError(f"{shown}: {exc}", hint="save it as UTF-8") from None
    files: list[Path] = [path]
    notes: list[str] = []
    for number, line in _logical_lines(text):
        stripped = line.strip()
        column = len(line) - len(line.lstrip()) + 1
        if stripped.startswith("-"):
            found = _option(stripped, path, root, f"{shown}:{number}:{column}", seen)
            files += found.files
            notes += found.notes
            continue
        requirement = stripped.split(" --", 1)[0].strip()  # drop per-line options (--hash=...)
        if not _is_path_or_url(requirement):
            _check_requirement(requirement, f"{shown}:{number}", column)
    return RequirementFiles(tuple(files), tuple(notes))


def _check_requirement(requirement: str, where: str, column: int) -> None:
    try:
        Requirement(requirement)
    except InvalidRequirement as exc:
        message, _, pointer = str(exc).rpartition("\n")
        caret = pointer.find("^")
        col = column + (caret - 4 if caret >= 4 else 0)
        first = message.splitlines()[0] if message else str(exc)
        raise InputError(
            f"{where}:{col}: invalid requirement {requirement!r}: {first}",
            hint="each line is a requirement such as 'requests==2.32.3' (PEP 508)",
        ) from None


def _option(text: str, path: Path, root: Path, where: str, seen: set[Path]) -> RequirementFiles:
    name, _, value = text.partition(" ")
    if "=" in name:  # --index-url=URL
        name, _, value = text.partition("=")
    if name.startswith("--hash"):
        raise InputError(f"{where}: --hash must follow a requirement on the same line")
    takes_value = _OPTIONS.get(name, _IGNORED_OPTIONS.get(name))
    if takes_value is None:
        raise InputError(f"{where}: unknown option {name!r} in a requirements file")
    value = value.strip()
    if takes_value and not value:
        raise InputError(f"{where}: option {name} needs a value")
    if name in _IGNORED_OPTIONS:
        note = (
            f"{where}: {text}: pip's option, which uv ignores; the environment is made without it"
        )
        return RequirementFiles((), (note,))
    if name in _INCLUDES:
        return parse_file((path.parent / value).expanduser(), root, seen)
    return RequirementFiles(())


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
