"""The HTML report: one self-contained file rendered from the JSON report's dict
(docs/json-report.md), for people to read. The verdict first, then what failed and why, every
fix tried and its outcome, the seconds of each stage as bars, the system packages, the tests
with their classes, services and app checks, the environment, and `diff`'s rows when given.

No script, no stylesheet or image fetched: the page is read offline, in a mail or a CI
artefact. Every string is redacted by the one redactor before it is escaped (a secret holding
`&` is still found as written), and the page is redacted again as it is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bulletproof.errors import ExitCode
from bulletproof.fsutil import write_text
from bulletproof.redaction import redact_data
from bulletproof.report.htmlparts import (
    facts,
    fields,
    page,
    pre,
    section,
    state,
    table,
    text,
    timing_chart,
)
from bulletproof.report.htmlproof import tests_section
from bulletproof.verify.accelerated import duration

# usable (exit 4) and incomplete (exit 6): delivered, not failed, and not a pass either
_DELIVERED = (ExitCode.USABLE, ExitCode.INCOMPLETE)


def render(report: dict[str, Any], diff: dict[str, Any] | None = None) -> str:
    """The page for ``report`` (and ``diff``, `diff A B`'s `diff` object, when given)."""
    report = redact_data(report)
    diff = redact_data(diff) if diff is not None else None
    sections = [
        ("failed", "What failed and why", _failures(report)),
        ("fixes", "Fixes tried", _fixes(report.get("mitigation") or [])),
        ("timings", "Time per stage", timing_chart(report.get("steps") or [])),
        ("system", "System packages", _system(report)),
        ("tests", "Tests, services and the app", tests_section(report.get("tests"))),
        ("environment", "The environment", _environment(report)),
    ]
    if compiled := (report.get("verification") or {}).get("accelerated"):
        sections.insert(-1, ("compiled", "Compiled modules", _compiled(compiled)))
    if diff is not None:
        sections.append(("diff", "What differs from another environment", _diff(diff)))
    if report.get("messages"):
        said = "".join(f"<li>{text(m)}</li>" for m in report["messages"])
        sections.append(("messages", "Messages", f"<ul>{said}</ul>"))
    command = report.get("command") or "run"
    title = f"bulletproof {command}: {report.get('project_dir') or ''}"
    nav = [("verdict", "Verdict"), *((a, h) for a, h, _ in sections)]
    body = "".join(section(a, h, c) for a, h, c in sections)
    return page(title, _verdict(report), nav, body)


def write(path: Path, report: dict[str, Any], diff: dict[str, Any] | None = None) -> None:
    write_text(path, render(report, diff))


def _verdict(report: dict[str, Any]) -> str:
    result = report.get("result") or {}
    code = result.get("exit_code")
    verdict = (report.get("verification") or {}).get("verdict")
    tone = (
        "good"
        if code == ExitCode.OK
        else "warn"
        if code in _DELIVERED  # an environment was switched to, with what it lacks said
        else "bad"
    )
    word = {"good": "✓ Passed", "warn": "! Delivered with reservations", "bad": "✗ Failed"}[tone]
    lines = [f"<p><strong>{text(word)}</strong>: {text(result.get('message'))}</p>"]
    detail = [f"exit code {text(code)}"]
    if verdict:
        detail.append(f"environment {text(verdict)}")
    tests = report.get("tests")
    if tests:
        detail.append("tests " + ("passed" if tests.get("ok") else "did not pass"))
    lines.append(f"<p>{'; '.join(detail)}</p>")
    return (
        f'<section id="verdict" aria-labelledby="verdict-h" class="verdict {tone}">'
        f'<h2 id="verdict-h">Verdict</h2>{"".join(lines)}</section>'
    )


def _failures(report: dict[str, Any]) -> str:
    parts: list[str] = []
    result = report.get("result") or {}
    if not result.get("ok"):
        parts.append(f"<p>The run ended: {text(result.get('message'))}</p>")
    verification = report.get("verification") or {}
    judged = verification.get("judged") or []
    parts.append(
        table(
            "Modules that failed to import, and what each failure means",
            ("module", "distribution", "meaning", "why"),
            fields(judged, "module", "distribution", "kind", "why"),
        )
    )
    consistency = verification.get("consistency") or {}
    if consistency and not consistency.get("ok"):
        parts.append("<h3>Consistency (uv pip check)</h3>" + pre(consistency.get("output")))
    problems = (verification.get("integrity") or {}).get("problems") or []
    parts.append(
        table(
            "Installed files that differ from their RECORD",
            ("distribution", "file", "problem"),
            fields(problems, "distribution", "path", "problem"),
        )
    )
    if stale := report.get("out_of_date"):
        items = "".join(f"<li>{text(r)}</li>" for r in stale)
        parts.append(f"<h3>Out of date</h3><ul>{items}</ul>")
    parts.append(
        table(
            "Set aside so the rest could be delivered",
            ("package", "stage", "cause"),
            fields(report.get("set_aside") or [], "package", "stage", "cause"),
        )
    )
    tests = report.get("tests") or {}
    if tests and not tests.get("ok"):
        failed = [c for c in tests.get("cases") or [] if c.get("outcome") in ("failed", "error")]
        parts.append(
            f"<p>The tests did not pass: {len(failed)} failed or raised an error; each, with "
            f'its class, is in <a href="#tests">Tests, services and the app</a>.</p>'
        )
    if report.get("stopped_short"):
        parts.append(f"<p>The repair stopped short: {text(report['stopped_short'])}</p>")
    parts.append(_own_build(report.get("environment") or {}))
    findings = [
        f
        for f in (report.get("diagnosis") or {}).get("findings") or []
        if f.get("severity") == "blocker"
    ]
    parts.append(
        table(
            "Blocking findings",
            ("package", "finding", "why", "fix"),
            fields(findings, "package", "title", "why", "fix"),
        )
    )
    shown = "".join(parts)
    return shown or "<p>✓ Nothing failed.</p>"


def _own_build(env: dict[str, Any]) -> str:
    """The project's own package did not build: what in its packaging is wrong (the file and
    the fix) when its files say, and what the build said."""
    error = env.get("own_build_error")
    if not error:
        return ""
    faults = env.get("own_build_faults") or []
    said = [line.strip() for line in str(error).splitlines() if line.strip()][-12:]
    return (
        "<h3>The project's own package does not build</h3>"
        "<p>A fault in its packaging, not in the environment: its dependencies are installed "
        "and its source is on the path.</p>"
        + table(
            "What in the project's packaging is wrong, and the fix",
            ("file", "problem", "fix"),
            fields(faults, "file", "problem", "fix"),
        )
        + "<p>What the build said (its last lines):</p>"
        + pre("\n".join(said))
    )


def _fixes(attempts: list[dict[str, Any]]) -> str:
    if not attempts:
        return "<p>No fix was needed or tried.</p>"
    rows = []
    for a in attempts:
        evidence = "".join(pre(line) for line in (a.get("evidence") or [])[:3])
        fix = a.get("fix") or {}
        rows.append(
            (
                f"{text(a.get('package') or '(resolver)')} ({text(a.get('stage'))})",
                text(a.get("cause")) + evidence,
                text(fix.get("what") or "none"),
                _outcome(a.get("outcome")),
            )
        )
    return table("Every fix tried, in order", ("package (stage)", "why", "fix", "outcome"), rows)


def _outcome(outcome: object) -> str:
    if outcome == "fixed":
        return state(True, "fixed", "")
    if outcome in ("pending", "set aside"):
        return state(None, "", "", str(outcome))
    return state(False, "", str(outcome))


def _system(report: dict[str, Any]) -> str:
    system = (report.get("diagnosis") or {}).get("system") or {}
    parts = [
        facts(
            "Build needs from the system",
            [
                ("package manager", system.get("manager")),
                ("needed", ", ".join(system.get("needed") or [])),
                ("missing before the run", ", ".join(system.get("missing") or [])),
            ],
        )
    ]
    commands = [" ".join(c) for c in system.get("commands") or []]
    if commands:
        parts.append("<h3>Install commands</h3>" + "".join(pre(c) for c in commands))
    installed = [
        a for a in report.get("mitigation") or [] if (a.get("fix") or {}).get("kind") == "system"
    ]
    parts.append(
        table(
            "Installed by a fix",
            ("package", "fix", "outcome"),
            [
                (text(a.get("package")), text(a["fix"].get("what")), _outcome(a.get("outcome")))
                for a in installed
            ],
        )
    )
    runtime = (report.get("fingerprint") or {}).get("system_packages") or []
    parts.append(
        table(
            "System packages the environment loads libraries from",
            ("package", "version"),
            fields(runtime, "name", "version"),
        )
    )
    shown = "".join(parts)
    return shown or "<p>No system package was needed or recorded in this run.</p>"


def _environment(report: dict[str, Any]) -> str:
    target, lock = report.get("target") or {}, report.get("lock") or {}
    env, host = report.get("environment") or {}, report.get("host") or {}
    verification = report.get("verification") or {}
    modules = verification.get("modules") or []
    return (
        facts(
            "What this run worked on",
            [
                ("system", ((host.get("os") or {}).get("pretty_name"))),
                (
                    "interpreter",
                    f"{target.get('implementation', '')} {target.get('version', '')}".strip()
                    if target
                    else None,
                ),
                ("interpreter chosen because", target.get("reason")),
                ("environment", env.get("path")),
                ("generation", env.get("generation")),
                ("locked packages", lock.get("packages")),
                ("lock reused", _yes_no(lock.get("reused"))),
                ("distributions installed", verification.get("distributions")),
                ("modules imported", len(modules) if modules else None),
                ("verification seconds", verification.get("seconds")),
                ("bulletproof", (report.get("tool") or {}).get("version")),
            ],
        )
        or "<p>No environment was described by this run.</p>"
    )


def _compiled(pairs: list[dict[str, Any]]) -> str:
    """Each compiled module with a pure-Python fallback, which one is in use, and the timings
    the project asked for."""
    uses = [
        (
            text(p.get("module")),
            text(p.get("compiled")),
            text(p.get("fallback")),
            state(None, "", "", str(p.get("state")))
            if not p.get("in_use")
            else state(True, "compiled in use", ""),
            text(p.get("file") if p.get("in_use") else p.get("error") or p.get("file")),
        )
        for p in pairs
    ]
    timed = [
        (
            text(b.get("function")),
            text(duration(b["compiled_seconds"]) if not b.get("problem") else "-"),
            text(duration(b["fallback_seconds"]) if not b.get("problem") else "-"),
            text(f"{b.get('sample_bytes')} bytes"),
            text(f"{b['ratio']}x" if not b.get("problem") else b.get("problem")),
        )
        for p in pairs
        for b in p.get("benchmarks") or []
    ]
    return table(
        "Each compiled module with a fallback, and which one is in use",
        ("project module", "compiled module", "fallback", "in use", "its file, or why not"),
        uses,
    ) + table(
        "Each function timed on both sides (per call, best of 3)",
        ("function", "compiled", "fallback", "argument", "compiled is faster by"),
        timed,
    )


def _yes_no(value: object) -> str | None:
    return None if value is None else "yes" if value else "no"


def _diff(diff: dict[str, Any]) -> str:
    left, right = diff.get("left") or {}, diff.get("right") or {}
    sides = facts(
        "The two sides",
        [
            ("A", f"{left.get('label')} ({left.get('kind')}): {left.get('verdict')}"),
            ("B", f"{right.get('label')} ({right.get('kind')}): {right.get('verdict')}"),
        ],
    )
    rows = diff.get("differences") or []
    if not rows:
        return sides + "<p>✓ The two environments are the same.</p>"
    shown = [
        (
            text(r.get("section")),
            text(f"{r.get('what')}: {r.get('subject')}"),
            text(r.get("left") or "-"),
            text(r.get("right") or "-"),
            state(False, "", "nothing: look at it")
            if r.get("unexplained")
            else text(r.get("because") or "a cause of the others"),
        )
        for r in rows
    ]
    summary = f"<p>{text(diff.get('unexplained', 0))} of {len(rows)} difference(s) unexplained.</p>"
    return (
        sides
        + summary
        + table("What differs (A, then B)", ("section", "what", "A", "B", "explained by"), shown)
    )
