"""What the mitigation engine did, in plain words: each failure, the evidence, the fix, whether
it helped."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bulletproof.mitigate.values import Attempt, Outcome

_OUTCOME = {
    "fixed": "[green]fixed[/]",
    "did not help": "[yellow]did not help (undone)[/]",
    "no fix known": "[red]no fix known[/]",
    "declined": "[red]needs consent[/]",
    "pending": "[dim]not verified[/]",
}


def print_attempts(console: Console, attempts: Sequence[Attempt]) -> None:
    if not attempts:
        return
    table = Table(title="What failed and what setup did", title_justify="left", show_lines=True)
    for column in ("package", "why (evidence)", "fix", "outcome"):
        table.add_column(column, overflow="fold")
    for a in attempts:
        evidence = "\n".join(f"» {line[:160]}" for line in a.evidence[:2])
        table.add_row(
            escape(f"{a.package or '(resolver)'}\n{a.stage}"),
            escape(a.cause) + (f"\n[dim]{escape(evidence)}[/]" if evidence else ""),
            escape(a.fix.describe()) if a.fix else "-",
            _OUTCOME.get(a.outcome, escape(a.outcome)),
        )
    console.print(table)


def summary(attempts: Sequence[Attempt]) -> str:
    """One sentence per fix that helped: what setup changed and why."""
    lines = [
        f"- {a.fix.describe()}: {a.package or 'the resolver'} {a.cause}"
        if a.package
        else f"- {a.fix.describe()}: {a.cause}"
        for a in attempts
        if a.fix is not None and a.outcome == Outcome.FIXED
    ]
    return "fixed on the way:\n" + "\n".join(lines) if lines else ""
