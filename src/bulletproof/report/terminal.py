"""Progress on long steps (stderr) and the closing summary (stdout)."""

from __future__ import annotations

import re
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bulletproof.analyze.rustpackaging import PackagingFault
from bulletproof.analyze.values import Diagnosis, Severity
from bulletproof.host.values import Host
from bulletproof.prove.results import (
    AppCheck,
    CaseOutcome,
    ProofReport,
    ServiceCheck,
    SuiteReport,
)
from bulletproof.redaction import redacting
from bulletproof.reporter import ImportProgress, RunRecord, Step
from bulletproof.verify.accelerated import benchmark_line, use_line
from bulletproof.verify.values import CompiledState, ImportStatus, Verification

_MARK = {
    Severity.BLOCKER: "[bold red]✗ blocker[/]",
    Severity.ACTION: "[yellow]→ action[/]",
    Severity.INFO: "[dim]· info[/]",
}


class Ui:
    def __init__(self, record: RunRecord, *, verbose: bool = False, quiet: bool = False):
        self.record = record
        # every render goes through the redactor: rich writes a whole render at once, so a
        # secret is never split across two writes
        err, out = redacting(sys.stderr), redacting(sys.stdout)
        self.err = Console(file=err, stderr=True, highlight=False, quiet=quiet)
        self.errors = Console(file=err, stderr=True, highlight=False)  # -q never silences it
        self.out = Console(file=out, highlight=False)
        self.verbose = verbose

    @contextmanager
    def step(self, name: str, *, spinner: bool = True) -> Iterator[list[str]]:
        """Time a step; the caller may append a detail to the yielded list.

        ``spinner=False`` for steps that show a progress bar of their own (one live display only).
        """
        detail: list[str] = []
        start = time.monotonic()
        if spinner:
            with self.err.status(f"{name}…", spinner="dots"):
                yield detail
        else:
            yield detail
        seconds = time.monotonic() - start
        self.record.steps.append(Step(name, seconds, "; ".join(detail)))
        extra = f" — {escape('; '.join(detail))}" if detail else ""
        self.err.print(f"[green]✓[/] {escape(name)}{extra} [dim]({seconds:.1f}s)[/]")

    def say(self, text: str) -> None:
        self.record.messages.append(text)
        self.err.print(f"[yellow]![/] {escape(text)}")

    def note(self, text: str) -> None:
        self.record.messages.append(text)

    def show(self, text: str) -> None:
        self.err.print(escape(text))

    def ask(self, question: str) -> bool:
        return self.err.input(f"{question} [y/N] ").strip().lower() in ("y", "yes")

    @contextmanager
    def import_progress(self) -> Iterator[ImportProgress]:
        progress = Progress(
            TextColumn("importing modules"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        )

        def start(total: int) -> Callable[[int], None]:
            task = progress.add_task("imports", total=total)
            return lambda done: progress.update(task, completed=done)

        with progress:
            yield start


def print_host(console: Console, host: Host) -> None:
    table = Table(title="This machine", show_header=False, title_justify="left")
    os_text = host.os.pretty_name or host.os.id
    base = f" (Ubuntu base: {host.os.ubuntu_codename})" if host.os.ubuntu_codename else ""
    table.add_row("system", escape(os_text + base))
    table.add_row(
        "os-release",
        escape(
            f"ID={host.os.id} ID_LIKE={' '.join(host.os.id_like) or '-'} "
            f"VERSION_ID={host.os.version_id or '-'} "
            f"CODENAME={host.os.version_codename or '-'}"
        ),
    )
    table.add_row("arch / libc", escape(f"{host.arch} / {host.libc.name} {host.libc.version}"))
    table.add_row("package manager", host.package_manager or "none found")
    for command, version in host.compilers:
        table.add_row(command, escape(version))
    console.print(table)
    pys = Table(title="Interpreters", title_justify="left")
    for column in ("version", "path", "found via", "C headers"):
        pys.add_column(column)
    for i in host.interpreters:
        pys.add_row(
            i.version, escape(str(i.path)), i.source, "yes" if i.has_headers else "[red]no[/]"
        )
    console.print(pys)


def print_verification(console: Console, v: Verification) -> None:
    counts = {s: sum(1 for m in v.modules if m.status is s) for s in ImportStatus}
    cached = " [dim](unchanged since last verified)[/]" if v.cached else ""
    console.print(
        f"imports: [bold]{counts[ImportStatus.OK]}/{len(v.modules)}[/] modules from "
        f"{v.distributions} distributions{cached}"
    )
    for m in v.modules:
        if m.status is ImportStatus.ABSENT:
            console.print(
                f"  [yellow]· {escape(m.module)}[/] ({escape(m.distribution)}): an optional part "
                f"its own code reports as not available ({escape(m.error[:200])})",
                soft_wrap=True,
            )
    for s in v.skipped:
        console.print(
            f"  [dim]· {escape(s.path)}[/] ({escape(s.distribution)}), skipped: {escape(s.why)}",
            soft_wrap=True,
        )
    meaning = {j.module: j for j in v.judged}
    failed = sorted(
        v.failed_modules,
        key=lambda m: (m.module in meaning and not meaning[m.module].kind.environment, m.module),
    )
    for m in failed:
        judged = meaning.get(m.module)
        if judged is not None and not judged.kind.environment:
            console.print(
                f"  [yellow]· {escape(m.module)}[/] ({escape(m.distribution)}, "
                f"{judged.kind.value}): {escape(judged.why[:500])}",
                soft_wrap=True,
            )
            continue
        console.print(
            f"  [red]✗ {escape(m.module)}[/] ({escape(m.distribution)}, {m.status.value}): "
            f"{escape((judged.why if judged else m.error)[:500])}",
            soft_wrap=True,
        )
    mark = "[green]ok[/]" if v.consistency_ok else "[red]conflicts[/]"
    console.print(f"consistency (uv pip check): {mark}")
    if not v.consistency_ok:
        console.print(escape(v.consistency_output))
    console.print(
        f"file integrity (RECORD): {v.files_checked} files, {len(v.integrity_problems)} problems"
    )
    for p in v.integrity_problems[:20]:
        console.print(f"  [red]{escape(p.problem)}[/]: {escape(p.distribution)} {escape(p.path)}")
    if len(v.integrity_problems) > 20:
        console.print(f"  … and {len(v.integrity_problems) - 20} more (see --json)")
    _print_accelerated(console, v)


def _print_accelerated(console: Console, v: Verification) -> None:
    """Each compiled module with a fallback: which side is in use (the fallback as a warning,
    not a failure: it works), and the benchmarks the project asked for."""
    for use in v.accelerated:
        if use.state is CompiledState.IN_USE:
            console.print(f"[green]✓[/] {escape(use_line(use))}", soft_wrap=True)
        else:
            console.print(f"[yellow]! {escape(use_line(use))}[/]", soft_wrap=True)
        for bench in use.benchmarks:
            console.print(f"  {escape(benchmark_line(bench))}", soft_wrap=True)


def print_own_build_error(
    console: Console, error: str, faults: Sequence[PackagingFault] = ()
) -> None:
    """The project's own package did not build: its packaging's fault, said with the evidence,
    and what in its files is wrong (the file, the fix) when that is known."""
    lines = [line for line in error.splitlines() if line.strip()]
    evidence = [line for line in lines if re.search(r"error|Error|failed|cannot|No such", line)]
    console.print(
        "[yellow]the project's own package does not build[/] (a fault in its packaging, not in "
        "the environment): its dependencies are installed and its source is on the path"
    )
    for fault in faults:
        console.print(
            f"  the project's packaging: [bold]{escape(fault.problem)}[/]; "
            f"[cyan]fix:[/] {escape(fault.fix)}",
            soft_wrap=True,
        )
    if faults:
        console.print("  what the build said:")
    for line in (evidence or lines)[-8:]:
        console.print(f"  {escape(line.strip()[:300])}", soft_wrap=True)


def print_diagnosis(console: Console, d: Diagnosis) -> None:
    if not d.findings:
        console.print(
            "[green]every locked package has a wheel for the target and needs nothing "
            "from the system[/]"
        )
    else:
        table = Table(title="Predictions", title_justify="left", show_lines=True)
        for column in ("", "finding", "why", "fix"):
            table.add_column(column, overflow="fold")
        order = list(Severity)
        for f in sorted(d.findings, key=lambda f: (order.index(f.severity), f.id)):
            table.add_row(_MARK[f.severity], escape(f.title), escape(f.why), escape(f.fix))
        console.print(table)
    plan = d.system
    if plan.missing:
        console.print(
            f"system packages to install ({plan.ecosystem}): [bold]{escape(' '.join(plan.missing))}"
            "[/]\n" + "\n".join(f"  $ {escape(shlex.join(c))}" for c in plan.commands)
        )
    elif plan.needed:
        console.print(f"system packages needed, all installed: {escape(' '.join(plan.needed))}")
    if d.build_constraints:
        console.print(f"build constraints setup applies: {escape(' '.join(d.build_constraints))}")


MAX_LISTED_FAILURES = 10


def print_proof(console: Console, report: ProofReport) -> None:
    """What proving the project's work found: its services, its app, then its tests; what the
    environment lacks first, then the code's failures, and the gate."""
    for check in report.services:
        _print_service(console, check)
    if report.app is not None:
        _print_app(console, report.app)
    for skip in report.app_skipped:
        where = f" ({escape(skip.where)})" if skip.where else ""
        console.print(
            f"  [yellow]· app check skipped{where}[/]: {escape(skip.reason)}", soft_wrap=True
        )
    suite = report.suite
    if suite is None:
        console.print("tests: none found (no pytest configuration, tests/ folder or test files)")
    else:
        cached = " [dim](unchanged since they last passed)[/]" if suite.cached else ""
        console.print(
            f"tests: [dim]{escape(' '.join(suite.command))}[/] ({escape(suite.found_by)}){cached}"
        )
        if suite.problem:
            console.print(f"  [red]✗ {escape(suite.problem)}[/]", soft_wrap=True)
    for name in report.missing_variables:
        console.print(
            f"  [red]✗ variable {escape(name)}[/]: required by the code, set neither in the "
            "environment nor in .env (see: bulletproof generate env)",
            soft_wrap=True,
        )
    if suite is not None:
        _print_cases(console, suite)
        _print_gate(console, report, suite)
    elif not report.ok:
        console.print("proof: [red]not met[/]")


def _print_service(console: Console, check: ServiceCheck) -> None:
    what = f"{check.service.setting} ({check.service.source}): {check.service.redacted}"
    if check.ok:
        console.print(f"service {escape(what)}: [green]answers[/] ({check.client})")
    elif not check.service.gates:
        console.print(
            f"  [yellow]· service {escape(what)}[/]: {escape(check.cause)} (only written in "
            "the code, so it does not gate; set it in a setting if the project needs it)",
            soft_wrap=True,
        )
    else:
        console.print(
            f"  [red]✗ service {escape(what)}[/]: {escape(check.cause)}; "
            f"[cyan]{escape(check.hint)}[/]",
            soft_wrap=True,
        )


def _print_cases(console: Console, suite: SuiteReport) -> None:
    env, code = suite.environment_failures, suite.code_failures
    for case in env[:MAX_LISTED_FAILURES]:
        console.print(
            f"  [red]✗ {escape(case.id)}[/] (environment: {escape(case.needs)}): "
            f"{escape(case.message[:200])}",
            soft_wrap=True,
        )
    for case in code[:MAX_LISTED_FAILURES]:
        console.print(
            f"  [yellow]· {escape(case.id)}[/] (code): {escape(case.message[:200])}",
            soft_wrap=True,
        )
    hidden = max(0, len(env) - MAX_LISTED_FAILURES) + max(0, len(code) - MAX_LISTED_FAILURES)
    if hidden:
        console.print(f"  … and {hidden} more (see --json)")


def _print_gate(console: Console, report: ProofReport, suite: SuiteReport) -> None:
    counts = ", ".join(
        f"{suite.count(o)} {o.value}"
        for o in CaseOutcome
        if suite.count(o) or o is CaseOutcome.PASSED
    )
    rate = suite.pass_rate
    shown = f"{rate:.0%}" if rate is not None else "no tests ran"
    mark = "[green]ok[/]" if report.ok else "[red]not met[/]"
    console.print(
        f"tests: {counts} in {suite.seconds:.1f} s; pass rate {shown} "
        f"(gate {report.threshold:.0%}), {len(suite.environment_failures)} environment "
        f"failures: {mark}"
    )


def _print_app(console: Console, check: AppCheck) -> None:
    app = check.app
    what = f"{app.module}:{app.attribute} ({app.framework}, {app.where})"
    if check.reaped:
        console.print(f"  {escape(check.reaped)}", soft_wrap=True)
    if check.problem:
        console.print(f"  [red]✗ app {escape(what)}[/]: {escape(check.problem)}", soft_wrap=True)
    else:
        answers = ", ".join(
            f"{a.path} {a.status or 'no answer'} ({a.seconds * 1000:.0f} ms)" for a in check.answers
        )
        mark = "[green]answers[/]" if check.ok else "[red]does not answer[/]"
        metrics = {
            None: "",
            True: "; metrics: Prometheus text",
            False: f"; metrics: not Prometheus text ({check.metrics_problem})",
        }
        console.print(
            f"app {escape(what)} on {check.server}: {mark}: {escape(answers)}"
            f"{escape(metrics[check.metrics])}",
            soft_wrap=True,
        )
    if check.ran_in and check.ran_in != "a scratch copy":  # the copy is the rule: said in JSON
        console.print(f"  the app ran in {escape(check.ran_in)}", soft_wrap=True)
    if check.discarded:
        console.print(
            f"  it wrote {escape(_some(check.discarded))} in its scratch copy of the project: "
            "deleted with the copy",
            soft_wrap=True,
        )
    for paths, what_happened in ((check.appeared, "appeared"), (check.changed, "changed")):
        if paths:
            console.print(
                f"  {escape(_some(paths))} {what_happened} in the project while the app ran "
                "(by it or by anyone else): left in place",
                soft_wrap=True,
            )


def _some(paths: tuple[str, ...]) -> str:
    return ", ".join(paths[:5]) + (f" … ({len(paths)} in all)" if len(paths) > 5 else "")
