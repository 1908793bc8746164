"""Pipenv's ``Pipfile`` (TOML: [packages], [dev-packages]) as PEP 508 strings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulletproof.errors import InputError
from bulletproof.shapes.groups import check_requirement
from bulletproof.tomlcompat import tomllib

SECTIONS = {"packages": "main", "dev-packages": "dev"}
_MARKER_KEYS = ("os_name", "sys_platform", "platform_machine", "platform_system", "python_version")


def _marker(key: str, value: str) -> str:
    """Pipenv's ``sys_platform = "== 'win32'"`` (or a bare value) as a PEP 508 marker."""
    op = value[:2] if value[:2] in ("==", "!=", ">=", "<=") else "=="
    rest = value[2:].strip() if value[:2] == op else value.strip()
    quoted = rest if rest[:1] in ("'", '"') else f"'{rest}'"
    return f"{key} {op} {quoted}"


def _requirement(name: str, spec: Any, root: Path, where: str) -> str:
    if isinstance(spec, str):
        text = name if spec.strip() in ("*", "") else f"{name}{spec}"
        return check_requirement(text, where)
    if not isinstance(spec, dict):
        raise InputError(f"{where} must be a version string or a table")
    extras = spec.get("extras", [])
    head = f"{name}[{','.join(extras)}]" if extras else name
    markers = [spec["markers"]] if isinstance(spec.get("markers"), str) else []
    markers += [
        _marker(key, value)
        for key, value in spec.items()
        if key in _MARKER_KEYS and isinstance(value, str)
    ]
    tail = f" ; {' and '.join(f'({m})' for m in markers)}" if markers else ""
    if "path" in spec or "file" in spec:
        target = spec.get("path") or spec["file"]
        location = (root / target).resolve().as_uri() if "://" not in target else target
        return check_requirement(f"{head} @ {location}{tail}", where)
    if "git" in spec:
        ref = f"@{spec['ref']}" if spec.get("ref") else ""
        url = spec["git"] if spec["git"].startswith("git+") else f"git+{spec['git']}"
        return check_requirement(f"{head} @ {url}{ref}{tail}", where)
    version = spec.get("version", "*")
    version = "" if version.strip() in ("*", "") else version
    return check_requirement(f"{head}{version}{tail}", where)


def read_pipfile(path: Path) -> dict[str, list[str]]:
    """{"main": [...], "dev": [...]}."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot be read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path.name}: not valid TOML: {exc}") from None
    out: dict[str, list[str]] = {}
    for section, group in SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise InputError(f"{path.name}: [{section}] must be a table")
        out[group] = [
            _requirement(name, spec, path.parent, f"{path.name}: [{section}] {name}")
            for name, spec in table.items()
        ]
    return out


def pipfile_python(path: Path) -> str | None:
    """[requires] python_version / python_full_version as a specifier."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    requires = data.get("requires", {})
    full = requires.get("python_full_version")
    if isinstance(full, str):
        return f"=={full}"
    short = requires.get("python_version")
    return f"=={short}.*" if isinstance(short, str) and short.strip() else None
