"""Whether a body is Prometheus' text exposition format (version 0.0.4), line by line as the
format is written down: ``# HELP name text`` and ``# TYPE name type`` before a family's
samples, at most one of each; samples ``name{label="value",…} value [timestamp]`` with valid
names, escapes and numbers; each family's lines together; no sample twice; a histogram's
buckets with an ``le`` and a summary's quantiles with a ``quantile`` that are numbers. An
OpenMetrics body's closing ``# EOF`` is accepted as its last line.

prometheus_client is not a dependency of ours (and the environment's may be absent or any
version), so the grammar is checked here: what is accepted is what a scraper would ingest."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_FLOAT = re.compile(r"[+-]?(?:(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|(?i:inf|infinity))|(?i:nan)")
_TIMESTAMP = re.compile(r"-?\d+")
_TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
_BLANKS = " \t"
# the samples a typed family writes under other names: x_bucket, x_sum, x_count
_PARTS = {"histogram": ("_bucket", "_sum", "_count"), "summary": ("_sum", "_count")}


class NotExposition(ValueError):
    """A line that breaks the format; its message says how."""


def problem(body: str) -> str:
    """Empty when ``body`` is valid text exposition with at least one metric in it; else
    which line breaks the format and how."""
    reader = _Reader()
    lines = body.split("\n")
    last = max((n for n, line in enumerate(lines, start=1) if line.strip(_BLANKS)), default=0)
    for number, line in enumerate(lines, start=1):
        try:
            reader.line(line.lstrip(_BLANKS), last=number == last)
        except NotExposition as exc:
            shown = line if len(line) <= 80 else line[:77] + "..."
            return f"line {number}: {exc}: {shown!r}"
    if not reader.families:
        return "no metric in it"
    return ""


@dataclass
class _Family:
    type: str = "untyped"
    help: bool = False
    typed: bool = False
    sampled: bool = False


@dataclass
class _Reader:
    families: dict[str, _Family] = field(default_factory=dict)
    current: str = ""  # the family whose lines are being read
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = field(default_factory=set)

    def line(self, line: str, *, last: bool) -> None:
        if not line:
            return
        if line.startswith("#"):
            self._comment(line[1:].lstrip(_BLANKS), last=last)
        else:
            self._sample(line)

    def _comment(self, text: str, *, last: bool) -> None:
        keyword, _, rest = _token(text)
        if keyword == "EOF" and not rest:
            if not last:
                raise NotExposition("'# EOF' before the last line")
            return
        if keyword not in ("HELP", "TYPE"):
            return  # any other comment is free text
        name, _, rest = _token(rest)
        if not _NAME.fullmatch(name):
            raise NotExposition(f"{keyword} without a valid metric name")
        family = self._enter(name)
        if family.sampled:
            raise NotExposition(f"{keyword} after the samples of {name}")
        if keyword == "HELP":
            if family.help:
                raise NotExposition(f"a second HELP for {name}")
            _check_escapes(rest, "\\n", "HELP text")
            family.help = True
            return
        kind, _, extra = _token(rest)
        if family.typed:
            raise NotExposition(f"a second TYPE for {name}")
        if kind not in _TYPES or extra.strip(_BLANKS):
            raise NotExposition(f"TYPE is not one of {', '.join(_TYPES)}")
        family.type, family.typed = kind, True

    def _sample(self, line: str) -> None:
        named = _NAME.match(line)
        if named is None:
            raise NotExposition("not a comment and not a sample (a metric name first)")
        name, rest = named.group(), line[named.end() :]
        if rest and rest[0] not in _BLANKS + "{":
            raise NotExposition("a metric name with a character it cannot have")
        labels: tuple[tuple[str, str], ...] = ()
        rest = rest.lstrip(_BLANKS)  # blanks may stand between the name and its labels
        if rest.startswith("{"):
            labels, rest = _labels(rest[1:])
        value, _, rest = _token(rest)
        stamp, _, extra = _token(rest)
        if not _FLOAT.fullmatch(value):
            raise NotExposition("the value is not a number")
        if stamp and not _TIMESTAMP.fullmatch(stamp):
            raise NotExposition("the timestamp is not an integer of milliseconds")
        if extra.strip(_BLANKS):
            raise NotExposition("more after the value and timestamp")
        family_name = self._family_of(name)
        family = self._enter(family_name)
        _check_part(self.families[family_name].type, family_name, name, dict(labels))
        if (name, tuple(sorted(labels))) in self.seen:
            raise NotExposition(f"the same sample of {name} twice")
        self.seen.add((name, tuple(sorted(labels))))
        family.sampled = True

    def _family_of(self, name: str) -> str:
        """x for x_bucket, x_sum and x_count when x is a histogram (a summary: x_sum, x_count)."""
        for part in ("_bucket", "_sum", "_count"):
            base = name.removesuffix(part)
            if base != name and base in self.families:
                return base if part in _PARTS.get(self.families[base].type, ()) else name
        return name

    def _enter(self, name: str) -> _Family:
        """The family ``name``'s lines begin or go on: a family's lines come together."""
        if name != self.current:
            if name in self.families:
                raise NotExposition(f"the lines of {name} are not together")
            self.families[name] = _Family()
            self.current = name
        return self.families[name]


def _token(text: str) -> tuple[str, str, str]:
    """The first blank-separated token of ``text``, the blank, and the rest (blanks before it
    left out)."""
    text = text.lstrip(_BLANKS)
    for at, char in enumerate(text):
        if char in _BLANKS:
            return text[:at], char, text[at + 1 :].lstrip(_BLANKS)
    return text, "", ""


def _labels(text: str) -> tuple[tuple[tuple[str, str], ...], str]:
    """``name="value",…}`` (a trailing comma allowed): the labels, and the text after '}'."""
    labels: list[tuple[str, str]] = []
    rest = text.lstrip(_BLANKS)
    while not rest.startswith("}"):
        named = _LABEL.match(rest)
        if named is None:
            raise NotExposition("a label without a valid name")
        rest = rest[named.end() :].lstrip(_BLANKS)
        if not rest.startswith("="):
            raise NotExposition(f"label {named.group()} without '='")
        rest = rest[1:].lstrip(_BLANKS)
        value = re.match(r'"((?:[^"\\\n]|\\.)*)"', rest)
        if value is None:
            raise NotExposition(f"label {named.group()} without a quoted value")
        _check_escapes(value.group(1), '\\n"', "label value")
        if any(name == named.group() for name, _ in labels):
            raise NotExposition(f"label {named.group()} twice")
        labels.append((named.group(), value.group(1)))
        rest = rest[value.end() :].lstrip(_BLANKS)
        if rest.startswith(","):
            rest = rest[1:].lstrip(_BLANKS)
        elif not rest.startswith("}"):
            raise NotExposition("labels not separated by ','")
    return tuple(labels), rest[1:]


def _check_escapes(text: str, allowed: str, what: str) -> None:
    for escaped in re.findall(r"\\(.?)", text):
        if escaped not in allowed or not escaped:
            raise NotExposition(f"an escape the format does not have in a {what}")


def _check_part(kind: str, family: str, name: str, labels: dict[str, str]) -> None:
    """A histogram's bucket has an ``le`` bound, a summary's quantile a ``quantile``: numbers."""
    label = {"histogram": "le", "summary": "quantile"}.get(kind)
    if label is None or name != (family + "_bucket" if kind == "histogram" else family):
        return
    if label not in labels or not _FLOAT.fullmatch(labels[label]):
        raise NotExposition(f"a {kind} sample of {family} without a numeric {label} label")
