"""The HTML report's section on proving the project's work (the JSON report's `tests`): the
test run, each test that did not pass with its class (the environment's or the code's), the
services probed and the app's answers."""

from __future__ import annotations

from typing import Any

from bulletproof.report.htmlparts import facts, state, table, text


def tests_section(tests: dict[str, Any] | None) -> str:
    if not tests:
        return "<p>The tests were not run (no <code>--tests</code>, or nothing to prove).</p>"
    counts = tests.get("counts") or {}
    parts = [
        f"<p>{state(bool(tests.get('ok')), 'the gate was met', 'the gate was not met')}</p>",
        facts(
            "The test run",
            [
                ("command", " ".join(tests.get("command") or [])),
                ("found by", tests.get("found_by")),
                (
                    "passed / failed / error / skipped",
                    " / ".join(
                        str(counts.get(k, 0)) for k in ("passed", "failed", "error", "skipped")
                    ),
                ),
                ("pass rate (threshold)", f"{tests.get('pass_rate')} ({tests.get('threshold')})"),
                ("failures that are the environment's", tests.get("environment_failures")),
                ("seconds", tests.get("seconds")),
                ("problem", tests.get("problem")),
                ("required variables unset", ", ".join(tests.get("missing_variables") or [])),
            ],
        ),
    ]
    cases = [c for c in tests.get("cases") or [] if c.get("outcome") not in ("passed",)]
    parts.append(
        table(
            "Tests that did not pass, with their class",
            ("test", "outcome", "class", "needs", "message"),
            [
                (
                    text(c.get("id")),
                    text(c.get("outcome")),
                    text(c.get("class") or "-"),
                    text(c.get("needs") or ""),
                    text(c.get("message") or ""),
                )
                for c in cases
            ],
        )
    )
    parts.append(
        table(
            "Services",
            ("setting", "where", "address", "answered", "cause"),
            [
                (
                    text(s.get("setting")),
                    text(s.get("source")),
                    text(s.get("url")),
                    state(bool(s.get("ok")), "yes", "no"),
                    text(s.get("cause") or ""),
                )
                for s in tests.get("services") or []
            ],
        )
    )
    parts.append(_app(tests.get("app")))
    return "".join(parts)


def _app(app: dict[str, Any] | None) -> str:
    if not app:
        return "<p>The code defines no application to start.</p>"
    answers = [
        (text(a.get("path")), text(a.get("status") or "no answer"), text(a.get("seconds")))
        for a in app.get("answers") or []
    ]
    return (
        f"<h3>The app: {state(app.get('ok'), 'answered', 'did not answer', 'not started')}</h3>"
        + facts(
            "The app check",
            [
                ("target", app.get("target")),
                ("server", app.get("server")),
                ("problem", app.get("problem")),
                ("metrics", app.get("metrics")),
                ("ran in", app.get("ran_in")),
            ],
        )
        + table("Its answers", ("route", "status", "seconds"), answers)
    )
