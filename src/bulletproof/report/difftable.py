"""`diff`'s table on the terminal: each side in a line, then one row per difference, what
nothing explains in yellow and what follows from another interpreter or platform dimmed."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bulletproof.verify.envdiff import Row, Side


def side_line(which: str, side: Side) -> str:
    f = side.fingerprint
    plat = f.platform
    verdict = side.verdict + (f", tests {side.tests}" if side.tests else "")
    return (
        f"{which}: {side.label} ({'live .venv' if side.kind == 'live' else 'report'}): "
        f"{f.implementation} {f.python}, {plat.os_id} {plat.os_version}, "
        f"{plat.libc} {plat.libc_version}, {len(f.distributions)} distributions; {verdict}"
    )


def print_env_diff(out: Console, left: Side, right: Side, rows: tuple[Row, ...]) -> None:
    out.print(escape(side_line("A", left)))
    out.print(escape(side_line("B", right)))
    if not rows:
        return
    table = Table(title="What differs", title_justify="left")
    for header in ("section", "what", "A", "B", "explained by"):
        table.add_column(header, overflow="fold")
    for row in rows:
        style = "yellow" if row.unexplained else "dim"
        because = "(a cause)" if row.cause else row.because or "nothing: look at it"
        table.add_row(
            escape(row.section),
            escape(f"{row.what}: {row.subject}"),
            escape(_short(row.left) or "-"),
            escape(_short(row.right) or "-"),
            escape(because),
            style=style,
        )
    out.print(table)


def _short(value: str) -> str:
    """A content hash shortened to what a reader compares by eye."""
    if value.startswith("sha256:") and len(value) > 19:
        return value[:19] + "…"
    return value
