"""``--tests``: the project's tests run in its environment, every failure classified, and the
variables its code requires checked; a passing result is remembered for as long as neither the
environment (its verification fingerprint) nor any file of the project changes."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from bulletproof.code.apps import find_apps
from bulletproof.code.configured import configured_services
from bulletproof.code.envvars import code_trees, env_vars
from bulletproof.code.services import one_per_url, services
from bulletproof.fsutil import MAX_PROJECT_FILES, walk_project, write_json
from bulletproof.model import (
    AppCheck,
    AppSkip,
    CaseOutcome,
    CaseResult,
    FailureClass,
    Project,
    SuiteReport,
)
from bulletproof.prove.appcheck import check_app
from bulletproof.prove.probe import probe
from bulletproof.prove.testrun import dotenv_of, find_tests, run_tests
from bulletproof.verify.cache import CACHE_NAME

DEFAULT_PASS_RATE = 0.8  # the plan's "core functionality tests achieve > 80 % pass rate"
DEFAULT_TIMEOUT = 1800.0
TESTS_CACHE = "bulletproof-tests.json"


def check_tests(
    project: Project, env: Path, *, timeout: float, threshold: float | None, full: bool
) -> SuiteReport | None:
    """The services its settings name, probed (always: a service can stop at any time), then
    the project's tests in ``env``; None when it has neither."""
    gate = threshold if threshold is not None else project.config.tests_pass_rate
    gate = DEFAULT_PASS_RATE if gate is None else gate
    trees = code_trees(project.root)  # parsed once for the variables and the settings
    variables = env_vars(project.root, trees)
    dotenv = dotenv_of(project.root)
    named = one_per_url(
        [
            *services(variables, dotenv),
            *configured_services(project.root, os.environ, dotenv, trees),
        ]
    )
    probed = tuple(probe(s, env / "bin" / "python") for s in named)
    plan = find_tests(project, env)
    given = {**os.environ, **dotenv, **(plan.env if plan else {})}
    missing = tuple(v.name for v in variables if v.required and v.name not in given)
    app, skipped = find_apps(project.root, project.source_roots)
    started = check_app(app, env / "bin" / "python", dotenv, project.root) if app else None
    if plan is None:
        # a module not started is said; no app at all, in a project with nothing else, is not news
        if not probed and started is None and all(not s.where for s in skipped):
            return None
        return SuiteReport(
            (),
            "no tests found",
            (),
            0.0,
            gate,
            0,
            missing_variables=missing,
            services=probed,
            app=started,
            app_skipped=skipped,
        )
    key = _key(project.root, env, plan.words, gate)
    if key and not full and (cached := _load(env, key)) is not None:
        return replace(cached, services=probed, app=started, app_skipped=skipped)
    report = run_tests(
        project,
        env,
        plan,
        timeout=timeout,
        threshold=gate,
        variables=tuple(v.name for v in variables),
        missing_variables=missing,
        failed_services=tuple(c for c in probed if not c.ok),
    )
    report = replace(report, services=probed, app=started, app_skipped=skipped)
    if key:
        _store(env, key, report)
    return report


def _key(root: Path, env: Path, words: tuple[str, ...], gate: float) -> str:
    """Empty when the environment carries no verification fingerprint (not one of ours)."""
    try:
        verified = json.loads((env / CACHE_NAME).read_text()).get("fingerprint", "")
    except (OSError, ValueError, AttributeError):
        return ""
    if not verified:
        return ""
    digest = hashlib.sha256(f"{verified}\0{words}\0{gate}".encode())
    count = 0
    for folder, _, files in walk_project(root):
        for name in files:
            if name.startswith(".coverage"):  # written by the test run itself
                continue
            path = folder / name
            try:
                st = path.stat()
            except OSError:
                continue
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
            count += 1
            if count > MAX_PROJECT_FILES:  # a tree this large is not fingerprinted: run every time
                return ""
    return digest.hexdigest()


def _load(env: Path, key: str) -> SuiteReport | None:
    try:
        data = json.loads((env / TESTS_CACHE).read_text())
        if data.get("key") != key:
            return None
        return from_dict(data["report"], cached=True)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(env: Path, key: str, report: SuiteReport) -> None:
    if not report.ok:  # failures are run again, never remembered
        (env / TESTS_CACHE).unlink(missing_ok=True)
        return
    write_json(env / TESTS_CACHE, {"key": key, "report": to_dict(report)})


def to_dict(report: SuiteReport) -> dict[str, Any]:
    rate = report.pass_rate
    return {
        "ok": report.ok,
        "command": list(report.command),
        "found_by": report.found_by,
        "seconds": report.seconds,
        "exit_code": report.exit_code,
        "problem": report.problem,
        "cached": report.cached,
        "threshold": report.threshold,
        "pass_rate": round(rate, 4) if rate is not None else None,
        "counts": {o.value: report.count(o) for o in CaseOutcome},
        "environment_failures": len(report.environment_failures),
        "missing_variables": list(report.missing_variables),
        "services": [
            {
                "setting": c.service.setting,
                "source": c.service.source,
                "url": c.service.redacted,
                "ok": c.ok,
                "gates": c.service.gates,
                "client": c.client,
                "cause": c.cause,
                "hint": c.hint,
            }
            for c in report.services
        ],
        "app": _app_dict(report.app, report.app_skipped),
        "cases": [
            {
                "id": c.id,
                "outcome": c.outcome.value,
                "seconds": c.seconds,
                "class": c.failure_class.value if c.failure_class else None,
                "needs": c.needs,
                "message": c.message,
            }
            for c in report.cases
        ],
    }


def _app_dict(check: AppCheck | None, skipped: tuple[AppSkip, ...]) -> dict[str, Any] | None:
    """The app started and what it answered; every app not started (or none found), and why."""
    said = [{"where": s.where, "reason": s.reason} for s in skipped]
    if check is None:
        return {"ok": None, "target": None, "skipped": said} if said else None
    app = check.app
    return {
        "ok": check.ok,
        "target": f"{app.module}:{app.attribute}",
        "interface": app.interface,
        "framework": app.framework,
        "where": app.where,
        "server": check.server,
        "problem": check.problem,
        "metrics": check.metrics,
        "ran_in": check.ran_in,
        "discarded": list(check.discarded),
        "appeared": list(check.appeared),
        "changed": list(check.changed),
        "reaped": check.reaped,
        "skipped": said,
        "answers": [
            {"path": a.path, "status": a.status, "seconds": a.seconds} for a in check.answers
        ],
    }


def from_dict(data: dict[str, Any], *, cached: bool = False) -> SuiteReport:
    return SuiteReport(
        tuple(data["command"]),
        data["found_by"],
        tuple(
            CaseResult(
                c["id"],
                CaseOutcome(c["outcome"]),
                c["seconds"],
                FailureClass(c["class"]) if c["class"] else None,
                c["needs"],
                c["message"],
            )
            for c in data["cases"]
        ),
        data["seconds"],
        data["threshold"],
        data["exit_code"],
        data["problem"],
        cached,
        tuple(data["missing_variables"]),
    )
