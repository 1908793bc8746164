""".env.template for a project: every variable its code reads (code/envvars.py), each with
whether it is required, its default and type, and where it is read; secrets left empty. An
``.env.example`` the project keeps comes first, as written (its comments too), and what the code
reads beyond it follows. The project's own files are never changed: only ``.env.template`` is
written, and only when it is absent or is as this command wrote it (its marker and hash)."""

from __future__ import annotations

from pathlib import Path

from bulletproof.code.found import EnvVar
from bulletproof.errors import InputError
from bulletproof.generate.owned import write_generated

NAME = ".env.template"
EXAMPLES = (".env.example", ".env.sample", "example.env", ".env.dist")
HEADER = "# .env.template: written by `bulletproof generate env`"
MAX_READERS = 3


def render(project_name: str, variables: list[EnvVar], example: tuple[str, str] | None) -> str:
    """The template's text. ``example``: (file name, its text) of the project's own example."""
    lines = [
        f"{HEADER} from what {project_name}'s code reads.",
        "# Copy it to .env and fill in what is required; a secret is never given a value here.",
        "",
    ]
    listed: set[str] = set()
    if example is not None:
        name, text = example
        lines += [f"# --- {name}, as the project wrote it ---", text.rstrip("\n"), ""]
        listed = _names_in(text)
    rest = [v for v in variables if v.name not in listed]
    if rest:
        if example is not None:
            lines += [f"# --- read by the code and not in {example[0]} ---", ""]
        for var in rest:
            lines += [_describe(var), f"{var.name}={'' if var.secret else var.default}"]
    elif not variables:
        lines.append("# the code reads no environment variable by a name written in it")
    return "\n".join(lines).rstrip("\n") + "\n"


def _describe(var: EnvVar) -> str:
    parts = ["required" if var.required else f"optional, default {var.default or 'empty'}"]
    if var.secret:
        parts.append("secret")
    if var.type:
        parts.append(var.type)
    readers = ", ".join(var.readers[:MAX_READERS])
    more = len(var.readers) - MAX_READERS
    if more > 0:
        readers += f" and {more} more"
    parts.append(f"read at {readers} ({var.style})")
    return "# " + " · ".join(parts)


def _names_in(text: str) -> set[str]:
    """The names an env file sets (``NAME=...``, ``export NAME=...``, ``#NAME=`` commented out)."""
    names = set()
    for raw in text.splitlines():
        line = raw.strip().lstrip("#").strip()
        line = line.removeprefix("export ").strip()
        name, sep, _ = line.partition("=")
        if sep and name and name.replace("_", "").isalnum() and " " not in name:
            names.add(name)
    return names


def find_example(root: Path) -> tuple[str, str] | None:
    for name in EXAMPLES:
        path = root / name
        if path.is_file():
            try:
                return name, path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise InputError(f"{path}: cannot be read ({exc})") from None
    return None


def write_template(
    root: Path, text: str, *, output: Path | None = None, force: bool = False
) -> Path:
    """Write the template to ``output`` (default DIR/.env.template); a file there that this
    command did not write, or that was edited since, is refused (generate/owned.py)."""
    return write_generated(output or root / NAME, text, force=force)
