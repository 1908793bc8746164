"""The pieces `report/html.py` builds its page from: escaped text, tables whose headers say
what each column and row is (`<th scope>`), the timing bars, the one stylesheet. Every value
that reaches the page goes through `text()` (html.escape); markup is only ever made here and
in html.py, never taken from a report."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

# Colours meet WCAG AA against their backgrounds (contrast >= 4.5:1); every state is also said
# in words (and a sign), never by colour alone.
STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:72rem;
padding:1rem 1.5rem;color:#1b1b1b;background:#fff;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:1px solid #767676;margin-top:2rem}
h3{font-size:1.1rem}
.verdict{border:3px solid;padding:.75rem 1rem;border-radius:.4rem;font-size:1.15rem}
.verdict.good{border-color:#1a6b32;background:#eaf6ec;color:#0d3d1b}
.verdict.bad{border-color:#a4141c;background:#fdecec;color:#5c0a0f}
.verdict.warn{border-color:#8a5300;background:#fff4e0;color:#4a2c00}
.verdict strong{font-size:1.4rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}
caption{text-align:left;font-weight:600;padding:.25rem 0}
th,td{border:1px solid #b0b0b0;padding:.3rem .5rem;text-align:left;vertical-align:top}
thead th{background:#ececec}
th[scope=row]{background:#f6f6f6;font-weight:600}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{display:block;height:1rem;background:#1f4e99;min-width:2px}
.bad-text{color:#a4141c;font-weight:600}.good-text{color:#1a6b32;font-weight:600}
.warn-text{color:#8a5300;font-weight:600}
pre{white-space:pre-wrap;word-break:break-word;background:#f4f4f4;padding:.4rem;margin:.2rem 0;
font-size:.85rem}
nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;padding-left:0;list-style:none}
a{color:#0b4a9e}
"""


def text(value: object) -> str:
    """A value as page text: None as a dash, everything escaped (quotes too)."""
    return "-" if value is None else html.escape(str(value), quote=True)


def fields(items: Sequence[dict[str, Any]], *keys: str) -> list[tuple[str, ...]]:
    """A table's rows: each item's values under ``keys``, in that order, as page text."""
    return [tuple(text(item.get(key)) for key in keys) for item in items]


def pre(value: object) -> str:
    return f"<pre>{text(value)}</pre>" if value else ""


def state(ok: bool | None, good: str, bad: str, unknown: str = "not checked") -> str:
    """A state in words with a sign, coloured only as a second cue."""
    if ok is None:
        return f'<span class="warn-text">? {text(unknown)}</span>'
    if ok:
        return f'<span class="good-text">✓ {text(good)}</span>'
    return f'<span class="bad-text">✗ {text(bad)}</span>'


def table(caption: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of already-escaped cells; its first cell in each row is the row's header."""
    if not rows:
        return ""
    head = "".join(f'<th scope="col">{text(h)}</th>' for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<th scope="row">{cell}</th>' if i == 0 else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return (
        f"<table><caption>{text(caption)}</caption><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def facts(caption: str, pairs: Sequence[tuple[str, object]]) -> str:
    """A two-column table of name and value, the name as the row's header."""
    shown = [(name, value) for name, value in pairs if value not in (None, "", [])]
    if not shown:
        return ""
    rows = "".join(f'<tr><th scope="row">{text(n)}</th><td>{text(v)}</td></tr>' for n, v in shown)
    return f"<table><caption>{text(caption)}</caption><tbody>{rows}</tbody></table>"


def timing_chart(steps: Sequence[dict[str, Any]]) -> str:
    """Each stage's seconds as a bar (CSS, no script) beside the number itself, so the chart
    is read by a screen reader and without colour as well as seen."""
    if not steps:
        return "<p>No stage was timed in this run.</p>"
    longest = max((float(s.get("seconds") or 0) for s in steps), default=0.0) or 1.0
    rows = []
    for s in steps:
        seconds = float(s.get("seconds") or 0)
        width = max(0.5, round(100 * seconds / longest, 1))
        bar = f'<span class="bar" style="width:{width}%" aria-hidden="true"></span>'
        rows.append((text(s.get("name")), f"{seconds:.2f}", bar, text(s.get("detail") or "")))
    head = "".join(
        f'<th scope="col">{h}</th>' for h in ("stage", "seconds", "share of the longest", "detail")
    )
    body = "".join(
        f'<tr><th scope="row">{n}</th><td class="num">{sec}</td><td>{bar}</td><td>{d}</td></tr>'
        for n, sec, bar, d in rows
    )
    total = sum(float(s.get("seconds") or 0) for s in steps)
    return (
        f"<table><caption>Seconds per stage (total {total:.2f} s)</caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def page(title: str, verdict: str, nav: Sequence[tuple[str, str]], body: str) -> str:
    """The whole document: one file, its style inline, no script, nothing fetched; the
    verdict first, then the links to each section, then the sections."""
    links = "".join(f'<li><a href="#{text(anchor)}">{text(name)}</a></li>' for anchor, name in nav)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'\">"
        f"<title>{text(title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{text(title)}</h1>{verdict}"
        f'<nav aria-label="Sections"><ul>{links}</ul></nav>{body}</main></body></html>\n'
    )


def section(anchor: str, heading: str, content: str) -> str:
    return (
        f'<section id="{text(anchor)}" aria-labelledby="{text(anchor)}-h">'
        f'<h2 id="{text(anchor)}-h">{text(heading)}</h2>{content}</section>'
    )
