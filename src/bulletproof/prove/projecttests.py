"""``--tests``: the project's work proved in its environment (a ``ProofReport``): the services
its settings name probed, its application started and asked, its tests run with every failure
classified, the variables its code requires checked, all held to the gate. A passing run of the
tests is remembered for as long as neither the environment (its verification fingerprint) nor
any file of the project changes; services, the app and the variables are checked every time."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from bulletproof.code.apps import find_apps
from bulletproof.code.configured import configured_services
from bulletproof.code.envvars import code_trees, env_vars
from bulletproof.code.found import AppSkip
from bulletproof.code.services import one_per_url, services
from bulletproof.fsutil import MAX_PROJECT_FILES, walk_project, write_json
from bulletproof.model import Project
from bulletproof.prove.appcheck import check_app
from bulletproof.prove.probe import probe
from bulletproof.prove.results import (
    AppCheck,
    CaseOutcome,
    CaseResult,
    FailureClass,
    ProofReport,
    ServiceCheck,
    SuiteReport,
)
from bulletproof.prove.testrun import dotenv_of, find_tests, run_tests
from bulletproof.verify.cache import CACHE_NAME

DEFAULT_PASS_RATE = 0.8  # the plan's "core functionality tests achieve > 80 % pass rate"
DEFAULT_TIMEOUT = 1800.0
TESTS_CACHE = "bulletproof-tests.json"


def check_tests(
    project: Project, env: Path, *, timeout: float, threshold: float | None, full: bool
) -> ProofReport | None:
    """The services its settings name, probed (always: a service can stop at any time), its
    application started and asked, then the project's tests in ``env``; None when there is
    nothing to prove: no tests, no service, no application (one found and not started is
    said, so it counts)."""
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
    if plan is None and not probed and started is None and all(not s.where for s in skipped):
        return None  # no app at all, in a project with nothing else, is not news
    key = _key(project.root, env, plan.words, gate) if plan else ""
    suite = _load(env, key) if key and not full else None
    ran = plan is not None and suite is None
    if plan is not None and suite is None:
        suite = run_tests(
            project,
            env,
            plan,
            timeout=timeout,
            variables=tuple(v.name for v in variables),
            failed_services=tuple(c for c in probed if not c.ok),
        )
    proof = ProofReport(suite, gate, probed, started, skipped, missing)
    if key and ran:
        _store(env, key, proof)
    return proof


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
        return _suite_from_dict(data["report"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _store(env: Path, key: str, proof: ProofReport) -> None:
    """Only a run whose whole proof passed is remembered (a run beside a service that did not
    answer, or a variable unset, is run again); failures never are."""
    if proof.suite is None or not proof.ok:
        (env / TESTS_CACHE).unlink(missing_ok=True)
        return
    write_json(env / TESTS_CACHE, {"key": key, "report": _suite_dict(proof.suite)})


def to_dict(report: ProofReport) -> dict[str, Any]:
    """The JSON report's ``tests`` object (docs/json-report.md): the gate and the run's keys
    side by side as they always were; a project with no tests has them empty."""
    suite = report.suite or SuiteReport((), "no tests found", (), 0.0, 0)
    rate = suite.pass_rate
    return {
        "ok": report.ok,
        "found": report.suite is not None,
        **_suite_dict(suite),
        "cached": suite.cached,
        "threshold": report.threshold,
        "pass_rate": round(rate, 4) if rate is not None else None,
        "counts": {o.value: suite.count(o) for o in CaseOutcome},
        "environment_failures": len(suite.environment_failures),
        "missing_variables": list(report.missing_variables),
        "services": [_service_dict(c) for c in report.services],
        "app": _app_dict(report.app, report.app_skipped),
    }


def _suite_dict(suite: SuiteReport) -> dict[str, Any]:
    """What one run gave: the JSON report's part of it, and what the cache keeps."""
    return {
        "command": list(suite.command),
        "found_by": suite.found_by,
        "seconds": suite.seconds,
        "exit_code": suite.exit_code,
        "problem": suite.problem,
        "cases": [
            {
                "id": c.id,
                "outcome": c.outcome.value,
                "seconds": c.seconds,
                "class": c.failure_class.value if c.failure_class else None,
                "needs": c.needs,
                "message": c.message,
            }
            for c in suite.cases
        ],
    }


def _suite_from_dict(data: dict[str, Any]) -> SuiteReport:
    """A remembered passing run (``cached``)."""
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
        data["exit_code"],
        data["problem"],
        cached=True,
    )


def _service_dict(check: ServiceCheck) -> dict[str, Any]:
    return {
        "setting": check.service.setting,
        "source": check.service.source,
        "url": check.service.redacted,
        "ok": check.ok,
        "gates": check.service.gates,
        "client": check.client,
        "cause": check.cause,
        "hint": check.hint,
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
        "metrics_problem": check.metrics_problem,
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
