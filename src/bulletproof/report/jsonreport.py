"""The --json report. Its schema is documented in docs/json-report.md; bump SCHEMA_VERSION on
any change that is not a pure addition."""

from __future__ import annotations

import platform
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bulletproof import __version__
from bulletproof.analyze.values import Diagnosis
from bulletproof.fsutil import write_json
from bulletproof.host.values import Host, Interpreter, Target
from bulletproof.lockfile.values import LockResult
from bulletproof.reporter import RunRecord
from bulletproof.verify.cache import to_dict
from bulletproof.verify.fingerprint import Fingerprint
from bulletproof.verify.values import Verification

SCHEMA_VERSION = 1


def _interp(i: Interpreter) -> dict[str, Any]:
    return {
        "path": str(i.path),
        "version": i.version,
        "implementation": i.implementation,
        "has_headers": i.has_headers,
        "source": i.source,
    }


def host_dict(host: Host) -> dict[str, Any]:
    return {
        "os": asdict(host.os),
        "arch": host.arch,
        "libc": asdict(host.libc),
        "interpreters": [_interp(i) for i in host.interpreters],
        "compilers": dict(host.compilers),
        "package_manager": host.package_manager,
    }


def diagnosis_dict(d: Diagnosis) -> dict[str, Any]:
    return {
        "blocking": len(d.blocking),
        "findings": [{**asdict(f), "severity": f.severity.value} for f in d.findings],
        "source_builds": list(d.source_builds),
        "build_constraints": list(d.build_constraints),
        "system": {
            "ecosystem": d.system.ecosystem,
            "manager": d.system.manager,
            "needed": list(d.system.needed),
            "missing": list(d.system.missing),
            "commands": [list(c) for c in d.system.commands],
        },
    }


def build(
    record: RunRecord,
    *,
    exit_code: int,
    message: str,
    host: Host | None = None,
    target: Target | None = None,
    lock: LockResult | None = None,
    environment: dict[str, Any] | None = None,
    verification: Verification | None = None,
    diagnosis: Diagnosis | None = None,
    fingerprint: Fingerprint | None = None,
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {
            "name": "bulletproof",
            "version": __version__,
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "command": record.command,
        "project_dir": str(record.project_dir),
        "host": host_dict(host) if host else None,
        "target": {**_interp(target.interpreter), "reason": target.reason} if target else None,
        "lock": {
            "path": str(lock.path),
            "input_hash": lock.input_hash,
            "reused": lock.reused,
            "packages": lock.packages,
            "packages_hash": lock.packages_hash,
            "seconds": round(lock.seconds, 3),
        }
        if lock
        else None,
        "environment": environment,
        "steps": [
            {"name": s.name, "seconds": round(s.seconds, 3), "detail": s.detail}
            for s in record.steps
        ],
        "messages": list(record.messages),
        "diagnosis": diagnosis_dict(diagnosis) if diagnosis else None,
        "verification": to_dict(verification) if verification else None,
        "fingerprint": fingerprint.to_dict() if fingerprint else None,
        "result": {"ok": exit_code == 0, "exit_code": exit_code, "message": message},
    }


def write(path: Path, report: dict[str, Any]) -> None:
    write_json(path, report, indent=2)
