"""The one place generated files (TROUBLESHOOTING.md, .env.template) are written.

A generated file ends with a marker line that carries the sha256 of the text above it, in the
file's own comment syntax (``#``; Markdown: an HTML comment; JSON with comments: ``//``). A file is
ours to replace only while it still carries that marker and its text still hashes to it: a file
the user wrote, or one they edited after we wrote it, is theirs and is never overwritten unless
they say ``--force`` (or name another path with ``--output``). Every body goes through
``proc.redact`` before it is hashed and written, so no secret the run saw reaches a file.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from bulletproof.errors import InputError
from bulletproof.fsutil import atomic_write
from bulletproof.proc import redact

_TAG = "bulletproof-generated sha256="
_MARKER = re.compile(r"^(?:#|<!--|//) " + re.escape(_TAG) + r"([0-9a-f]{64})(?: -->)?$")
# JSON with comments (devcontainer.json, VS Code's settings): ``//`` is its only line comment
_JSONC = (".json", ".jsonc")


def marker(path: Path, digest: str) -> str:
    """The marker line in the file's own comment syntax (Markdown: an HTML comment; JSON with
    comments: ``//``)."""
    suffix = path.suffix.lower()
    if suffix in (".md", ".markdown"):
        return f"<!-- {_TAG}{digest} -->"
    if suffix in _JSONC:
        return f"// {_TAG}{digest}"
    return f"# {_TAG}{digest}"


def is_ours(path: Path) -> bool:
    """Whether ``path`` is a regular file we generated and nobody has changed since."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    body, _, last = text.rstrip("\n").rpartition("\n")
    found = _MARKER.match(last)
    if found is None:
        return False
    return _digest(body + "\n") == found.group(1)


def write_generated(path: Path, body: str, *, force: bool = False) -> Path:
    """Write ``body`` (redacted) with its marker to ``path``; refuse to replace a file that is
    not ours unless ``force``. Returns the path written."""
    check_replaceable(path, force=force)
    text = redact(body).rstrip("\n") + "\n"
    # a link named like the file is replaced by the file, never written through
    atomic_write(path, (text + marker(path, _digest(text)) + "\n").encode())
    return path


def check_replaceable(path: Path, *, force: bool = False) -> None:
    """Raise the InputError ``write_generated`` would for ``path``: a kind that writes several
    files checks them all first, so a refusal leaves none of them half replaced."""
    if path.is_dir() and not path.is_symlink():
        raise InputError(f"{path} is a folder", hint="--output PATH names the file to write")
    if (path.exists() or path.is_symlink()) and not force and not is_ours(path):
        if path.is_symlink():
            why = f"is a link to {path.readlink()}, which is not followed"
        elif _tag_missing(path):
            why = "was not written by bulletproof"
        else:
            why = "was edited since bulletproof wrote it"
        raise InputError(
            f"{path} {why}: it is left as it is",
            hint="--force replaces it; --output PATH writes the generated file elsewhere",
        )


def _tag_missing(path: Path) -> bool:
    try:
        return _TAG not in path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return True


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
