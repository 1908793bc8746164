"""Where `bulletproof report DIR` finds the report it renders when not given `--from`:
`DIR/.bulletproof/last-report.json`, the JSON report (docs/json-report.md) of the last `setup`
or `verify` of DIR that built one (asked with `--json` or `--html`). A run that built no report
leaves it as it was: the report costs a probe of the host and a fingerprint of every installed
file, which a plain run does not pay."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bulletproof.apply.statedir import OWNER_MARK
from bulletproof.errors import InputError
from bulletproof.fsutil import write_json

STATE = ".bulletproof"
LAST_REPORT = "last-report.json"


def last_report_path(directory: Path) -> Path:
    return directory / STATE / LAST_REPORT


def save_last(directory: Path, report: dict[str, Any]) -> bool:
    """Keep ``report`` as DIR's last; only inside a state folder bulletproof made and marked
    (a real folder, not a link: apply/statedir.py), which this never creates. Whether it was
    kept."""
    state = directory / STATE
    if state.is_symlink() or not (state / OWNER_MARK).is_file():
        return False
    write_json(last_report_path(directory), report, indent=2)  # redacted as it is written
    return True


def load(path: Path, *, directory: Path | None = None) -> dict[str, Any]:
    """A JSON report read back; InputError naming the file (and, for DIR's last report, how
    to make one) when it is missing or not a report."""
    hint = (
        f"run: bulletproof verify {directory} --html FILE (or --json FILE), or give --from "
        "REPORT.json"
        if directory is not None
        else "give a report written by setup or verify --json"
    )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no report there", hint=hint) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a JSON report ({exc})", hint=hint) from None
    if not isinstance(data, dict) or "result" not in data or "schema_version" not in data:
        raise InputError(f"{path}: not a bulletproof JSON report", hint=hint)
    return data
