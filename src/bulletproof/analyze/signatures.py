"""Match failure text (a whole build log, an import error, the resolver's output) against the
signatures in knowledge/signatures.toml, keeping the lines that matched as evidence."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from bulletproof.model import FixKind
from bulletproof.tomlcompat import tomllib

STAGES = ("build", "import", "resolve")
# the fix kinds a signature's remedy can name, in the one order of FixKind (least intrusive first)
LEVELS = tuple(k.value for k in FixKind if k is not FixKind.REQUIREMENT)


@dataclass(frozen=True)
class Signature:
    id: str
    stage: str
    pattern: re.Pattern[str]
    cause: str
    fix: str
    example: str
    remedies: tuple[dict[str, str], ...]


@dataclass(frozen=True)
class Match:
    signature: Signature
    values: dict[str, str]  # the pattern's named groups, "lib2" folded into "lib"
    evidence: tuple[str, ...]  # the lines that matched, stripped, in log order

    @property
    def cause(self) -> str:
        return fill(self.signature.cause, self.values)

    @property
    def fix(self) -> str:
        return fill(self.signature.fix, self.values)

    def remedies(self) -> list[dict[str, str]]:
        return [{k: fill(v, self.values) for k, v in r.items()} for r in self.signature.remedies]


def fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def remedy_level(remedy: dict[str, str]) -> int:
    kind = "system" if "provides" in remedy else next(k for k in remedy if k in LEVELS)
    return FixKind(kind).level


@cache
def signatures() -> tuple[Signature, ...]:
    text = resources.files("bulletproof.knowledge").joinpath("signatures.toml").read_text("utf-8")
    return tuple(_signature(raw) for raw in tomllib.loads(text)["signature"])


def _signature(raw: dict[str, Any]) -> Signature:
    where = f"signature {raw.get('id', '?')} in knowledge/signatures.toml"
    stage = raw["stage"]
    if stage not in (*STAGES, "any"):
        raise ValueError(f"{where}: unknown stage {stage!r}")
    remedies = tuple(dict(r) for r in raw.get("remedies", ()))
    for remedy in remedies:
        if not any(k in remedy for k in (*LEVELS, "provides")):
            raise ValueError(f"{where}: a remedy names none of {LEVELS}: {remedy}")
    return Signature(
        id=raw["id"],
        stage=stage,
        pattern=re.compile(raw["pattern"]),
        cause=raw["cause"],
        fix=raw["fix"],
        example=raw["example"],
        remedies=remedies,
    )


def match(text: str, stage: str) -> list[Match]:
    """Every signature of ``stage`` found in ``text``, in the order their first line appears;
    one signature matched with different values (two missing headers) gives two matches."""
    found: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[int, Signature, list[str]]] = {}
    candidates = [s for s in signatures() if s.stage in (stage, "any")]
    for number, line in enumerate(text.splitlines()):
        for signature in candidates:
            hit = signature.pattern.search(line)
            if hit is None:
                continue
            values = _values(hit)
            key = (signature.id, tuple(sorted(values.items())))
            entry = found.setdefault(key, (number, signature, []))
            if len(entry[2]) < 5:  # evidence enough; a log can repeat a line hundreds of times
                entry[2].append(line.strip())
            break  # the first signature that matches a line explains it
    ordered = sorted(found.items(), key=lambda item: item[1][0])
    return [Match(sig, dict(key[1]), tuple(lines)) for key, (_, sig, lines) in ordered]


def _values(hit: re.Match[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in hit.groupdict().items():
        base = name.rstrip("0123456789")
        if value and base not in values:
            values[base] = value
    return values
