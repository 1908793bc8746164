"""Skip re-verifying an environment that has not changed since it was last verified.

The fingerprint covers every file each RECORD lists (size and mtime), the set of installed
distributions, the project's own sources and the interpreter: a file edited, deleted or added by
hand, or a package installed behind bulletproof's back, changes it. Stat is cheap where importing
and hashing are not; ``--full`` ignores the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from bulletproof import __version__
from bulletproof.fsutil import write_json
from bulletproof.host.pkgmgr import SYSTEM_RECORDS
from bulletproof.verify import accelerated
from bulletproof.verify.distributions import Distribution
from bulletproof.verify.values import (
    FailureKind,
    ImportStatus,
    IntegrityProblem,
    Judged,
    ModuleCheck,
    Skipped,
    Verdict,
    Verification,
)

CACHE_NAME = "bulletproof-verified.json"


def _stat(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return "-"
    return f"{st.st_size}:{st.st_mtime_ns}"


def fingerprint(env: Path, dists: list[Distribution], own_sources: list[Path]) -> str:
    h = hashlib.sha256(__version__.encode())
    h.update(_stat(env / "bin" / "python").encode())
    for dist in dists:
        h.update(f"\0{dist.dist_info.name}".encode())
        try:
            rows = dist.record()
        except (OSError, ValueError):
            h.update(b"\0unreadable")
            continue
        site = dist.site_packages
        for row in rows:
            h.update(f"\0{row.path}={_stat(site / row.path)}".encode())
    for path in own_sources:
        h.update(f"\0{path}={_stat(path)}".encode())
    # a library an extension found may be gone once a system package is removed
    for record in SYSTEM_RECORDS:
        h.update(f"\0{record}={_stat(Path(record))}".encode())
    return h.hexdigest()


def own_source_files(roots: tuple[Path, ...], packages: tuple[str, ...]) -> list[Path]:
    return sorted(p for r in roots for pkg in packages for p in (r / pkg).rglob("*.py"))


def to_dict(v: Verification) -> dict[str, Any]:
    return {
        "ok": v.ok,
        "cached": v.cached,
        "seconds": round(v.seconds, 3),
        "distributions": v.distributions,
        "modules": [
            {
                "module": m.module,
                "distribution": m.distribution,
                "status": m.status.value,
                "seconds": round(m.seconds, 4),
                "error": m.error,
                "libraries": list(m.libraries),
            }
            for m in v.modules
        ],
        "verdict": v.verdict.value,
        "consistency": {"ok": v.consistency_ok, "output": v.consistency_output},
        "judged": [
            {"module": j.module, "distribution": j.distribution, "kind": j.kind.value, "why": j.why}
            for j in v.judged
        ],
        "skipped": [
            {"module": s.module, "path": s.path, "distribution": s.distribution, "why": s.why}
            for s in v.skipped
        ],
        "accelerated": [accelerated.to_dict(a) for a in v.accelerated],
        "integrity": {
            "files_checked": v.files_checked,
            "problems": [
                {"distribution": p.distribution, "path": p.path, "problem": p.problem}
                for p in v.integrity_problems
            ],
        },
    }


def from_dict(data: dict[str, Any]) -> Verification:
    return Verification(
        modules=tuple(
            ModuleCheck(
                m["module"],
                m["distribution"],
                ImportStatus(m["status"]),
                m["seconds"],
                m["error"],
                tuple(m.get("libraries", ())),
            )
            for m in data["modules"]
        ),
        consistency_ok=data["consistency"]["ok"],
        consistency_output=data["consistency"]["output"],
        integrity_problems=tuple(
            IntegrityProblem(p["distribution"], p["path"], p["problem"])
            for p in data["integrity"]["problems"]
        ),
        files_checked=data["integrity"]["files_checked"],
        distributions=data["distributions"],
        cached=True,
        seconds=data["seconds"],
        judged=tuple(
            Judged(j["module"], j["distribution"], FailureKind(j["kind"]), j["why"])
            for j in data.get("judged", [])
        ),
        skipped=tuple(
            Skipped(s["module"], s["path"], s["distribution"], s["why"])
            for s in data.get("skipped", [])
        ),
        accelerated=tuple(accelerated.from_dict(a) for a in data.get("accelerated", [])),
    )


def load(env: Path, print_: str) -> Verification | None:
    try:
        data = json.loads((env / CACHE_NAME).read_text())
        if data.get("fingerprint") != print_:
            return None
        return from_dict(data["verification"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def store(env: Path, print_: str, verification: Verification) -> None:
    if verification.verdict is Verdict.BROKEN:  # failures are re-checked, never remembered
        (env / CACHE_NAME).unlink(missing_ok=True)
        return
    data = {"fingerprint": print_, "verification": to_dict(verification), "pid": os.getpid()}
    write_json(env / CACHE_NAME, data)
