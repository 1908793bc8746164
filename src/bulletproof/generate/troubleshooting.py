"""TROUBLESHOOTING.md for a project: the failures setup met on it and what fixed them first
(kept in DIR/.bulletproof/attempts.json by every setup that met one), then every general
entry of the signature data."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bulletproof.analyze.signatures import signatures
from bulletproof.fsutil import write_json
from bulletproof.generate.owned import write_generated
from bulletproof.mitigate.values import Attempt

HISTORY = Path(".bulletproof") / "attempts.json"
NAME = "TROUBLESHOOTING.md"


def save_attempts(project_dir: Path, attempts: Sequence[Attempt]) -> None:
    """Merge this run's attempts (each as it was settled: the log's ``final()``) into the
    project's history (one entry per package, signature and fix: the latest outcome wins)."""
    state = project_dir / ".bulletproof"
    if not attempts or state.is_symlink() or not state.is_dir():  # never written through a link
        return
    history = {_key(e): e for e in load_attempts(project_dir)}
    for attempt in attempts:
        entry = attempt.as_dict()
        history[_key(entry)] = entry
    write_json(project_dir / HISTORY, list(history.values()), indent=2)


def load_attempts(project_dir: Path) -> list[dict[str, Any]]:
    """The project's history; none from a state folder that is a link (never followed out of
    the project: what it points to is not this project's history) or an attempts file that is."""
    if (project_dir / ".bulletproof").is_symlink() or (project_dir / HISTORY).is_symlink():
        return []
    try:
        data = json.loads((project_dir / HISTORY).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [e for e in data if isinstance(e, dict)] if isinstance(data, list) else []


def _key(entry: dict[str, Any]) -> str:
    fix = entry.get("fix") or {}
    return f"{entry.get('package')}|{entry.get('signature')}|{fix.get('value', '')}"


def render(project_name: str, met: list[dict[str, Any]]) -> str:
    out = [f"# Troubleshooting {project_name}", ""]
    out += [
        "Written by `bulletproof generate troubleshooting`. `bulletproof setup` diagnoses and",
        "fixes these by itself; this page says what it does, for when you set up by hand.",
        "",
        "## Met on this project",
        "",
    ]
    if not met:
        out += ["Nothing has failed here yet.", ""]
    for e in met:
        fix = e.get("fix") or {}
        out.append(
            f"### {e.get('package') or 'the resolver'}: {e.get('signature') or 'unrecognised'}"
        )
        out.append("")
        out.append(f"- **Stage:** {e.get('stage')}")
        out.append(f"- **Cause:** {e.get('cause')}")
        if e.get("evidence"):
            out += ["- **Evidence:**", "", "  ```", *[f"  {ln}" for ln in e["evidence"]], "  ```"]
        out.append(f"- **Fix tried:** {fix.get('what', 'none known')} — {e.get('outcome')}")
        out.append("")
    out += ["## General failures and their fixes", ""]
    for s in signatures():
        cause, fix = (re.sub(r"\{(\w+)\}", r"<\1>", t) for t in (s.cause, s.fix))
        out += [
            f"### {s.id}",
            "",
            f"- **Looks like:** `{s.example.strip()}`",
            f"- **Cause:** {cause}",
            f"- **Fix:** {fix}",
            "",
        ]
    return "\n".join(out).rstrip() + "\n"


def write(
    project_dir: Path, project_name: str, *, output: Path | None = None, force: bool = False
) -> Path:
    """Write the page to ``output`` (default DIR/TROUBLESHOOTING.md); the user's own page, or
    one edited since it was generated, is refused (generate/owned.py)."""
    return write_generated(
        output or project_dir / NAME, render(project_name, load_attempts(project_dir)), force=force
    )
