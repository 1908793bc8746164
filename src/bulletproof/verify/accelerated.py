"""A compiled module with a pure-Python fallback: which one the environment gives the project.

The pairs are found in the project's own code (``acceleratedfind.py``). In the environment
(``acceleratedchild.py``: the environment's own interpreter, the project imported as its own
modules are verified): whether the first module imports, whether its file is an extension
module, and whether the names the project module bound are its. ``[tool.bulletproof]
benchmark`` names functions of those pairs to time on both sides, called on the project's own
source text. Said, never a failure: the fallback works."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bulletproof import proc
from bulletproof.code.codeimports import python_files
from bulletproof.errors import ToolError
from bulletproof.model import Project
from bulletproof.verify.acceleratedchild import SCRIPT
from bulletproof.verify.acceleratedfind import Pair, check_benchmark, find_pairs
from bulletproof.verify.context import ImportContext
from bulletproof.verify.values import Benchmark, CompiledState, CompiledUse

SAMPLE_BYTES = 256 * 1024  # the benchmark's argument: the project's source, repeated or cut
BENCHMARK_TIMEOUT = 120.0  # per function: both sides, calibrated, best of 3


def sample_text(root: Path) -> str:
    """The project's own Python source, concatenated, repeated or cut to SAMPLE_BYTES."""
    parts = []
    for path in sorted(python_files(root)):
        try:
            parts.append(path.read_bytes())
        except OSError:
            continue
    data = b"\n".join(parts) or b"pass\n"
    data = (data * (SAMPLE_BYTES // len(data) + 1))[:SAMPLE_BYTES]
    return data.decode("utf-8", errors="ignore")  # a character cut in half is left out


@dataclass(frozen=True)
class CompiledCheck:
    """How the pairs of one verification are checked in the environment."""

    python: Path
    extra_path: tuple[str, ...]
    context: ImportContext
    timeout: float
    pairs: tuple[Pair, ...]
    benchmark: tuple[str, ...]  # the functions to time

    def run(self, *, timed: bool = True) -> tuple[CompiledUse, ...]:
        """Each pair's state in the environment, with its benchmarks when ``timed``."""
        if not self.pairs:
            return ()
        wanted = [
            (i, name, c_attr, f_attr)
            for i, pair in enumerate(self.pairs)
            for name, c_attr, f_attr in pair.functions
            if timed and name in self.benchmark
        ]
        sample = sample_text(self.context.cwd) if wanted else ""
        job = {
            "path": list(self.extra_path),
            "context": {
                "environ": [list(pair) for pair in self.context.environ],
                "path": list(self.context.path),
                "cwd": str(self.context.cwd),
                "setup": [list(pair) for pair in self.context.setup],
            },
            "pairs": [
                {
                    "module": p.module,
                    "compiled": p.compiled,
                    "fallback": p.fallback,
                    "bindings": [[b.name, b.compiled, b.fallback] for b in p.bindings],
                }
                for p in self.pairs
            ],
            "benchmarks": [list(w) for w in wanted],
        }
        try:
            done = proc.run(
                [str(self.python), "-I", "-B", "-c", SCRIPT, json.dumps(job)],
                timeout=self.timeout + BENCHMARK_TIMEOUT * len(wanted),
                cwd=self.context.cwd,
                venv=self.python.parent.parent,
                stdin=sample,
            )
        except ToolError as exc:
            return self._unchecked(exc.message)
        try:
            answer = json.loads(done.stdout.strip().splitlines()[-1])
            states, timings = answer["pairs"], answer["benchmarks"]
        except (ValueError, IndexError, KeyError, TypeError):
            last = (done.stderr.strip().splitlines() or [""])[-1]
            return self._unchecked(
                f"the interpreter gave no answer (exit {done.returncode}: {last})"
            )
        size = len(sample.encode())
        benchmarks: dict[int, list[Benchmark]] = {}
        for (index, name, _, _), t in zip(wanted, timings, strict=False):
            benchmarks.setdefault(index, []).append(
                Benchmark(name, size, t.get("compiled", 0.0), t.get("fallback", 0.0), t["problem"])
            )
        return tuple(
            replace(self._found(p, s), benchmarks=tuple(benchmarks.get(i, ())))
            for i, (p, s) in enumerate(zip(self.pairs, states, strict=False))
        )

    def refresh(self, known: tuple[CompiledUse, ...]) -> tuple[CompiledUse, ...]:
        """A cached verification's results, checked again: kept when every pair is found as it
        was and the same functions were timed, else found again (and timed) now."""
        if not self.pairs and not known:
            return known
        now = self.run(timed=False)
        timed = {b.function for k in known for b in k.benchmarks}
        asked = {f for p in self.pairs for f, _, _ in p.functions if f in self.benchmark}
        if (
            len(now) == len(known)
            and all(a.same_state(b) for a, b in zip(now, known, strict=True))
            and timed == asked
        ):
            return known
        return self.run() if asked else now

    def _unchecked(self, why: str) -> tuple[CompiledUse, ...]:
        return tuple(self._found(p, {"state": "not checked", "error": why}) for p in self.pairs)

    @staticmethod
    def _found(pair: Pair, state: dict[str, str]) -> CompiledUse:
        return CompiledUse(
            module=pair.module,
            where=pair.where,
            names=tuple(b.name for b in pair.bindings),
            compiled=pair.compiled,
            fallback=pair.fallback,
            state=CompiledState(state["state"]),
            file=state.get("file", ""),
            error=state.get("error", ""),
        )


def compiled_check(
    env: Path, project: Project, context: ImportContext, timeout: float
) -> CompiledCheck:
    """The project's pairs, to be checked in ``env``; a benchmark name no pair gives is an
    InputError, raised before anything is imported."""
    pairs = find_pairs(project)
    check_benchmark(project.config.benchmark, pairs)
    return CompiledCheck(
        python=env / "bin" / "python",
        extra_path=() if project.installable else tuple(str(r) for r in project.source_roots),
        context=context,
        timeout=timeout,
        pairs=pairs,
        benchmark=project.config.benchmark,
    )


def to_dict(use: CompiledUse) -> dict[str, Any]:
    """A pair as the JSON report's (and the cache's) ``verification.accelerated`` entry."""
    return {
        "module": use.module,
        "where": use.where,
        "names": list(use.names),
        "compiled": use.compiled,
        "fallback": use.fallback,
        "state": use.state.value,
        "in_use": use.state is CompiledState.IN_USE,
        "file": use.file,
        "error": use.error,
        "benchmarks": [
            {
                "function": b.function,
                "sample_bytes": b.sample_bytes,
                "compiled_seconds": b.compiled_seconds,
                "fallback_seconds": b.fallback_seconds,
                "ratio": round(b.ratio, 2),
                "problem": b.problem,
            }
            for b in use.benchmarks
        ],
    }


def from_dict(data: dict[str, Any]) -> CompiledUse:
    return CompiledUse(
        module=data["module"],
        where=data["where"],
        names=tuple(data["names"]),
        compiled=data["compiled"],
        fallback=data["fallback"],
        state=CompiledState(data["state"]),
        file=data["file"],
        error=data["error"],
        benchmarks=tuple(
            Benchmark(
                b["function"],
                b["sample_bytes"],
                b["compiled_seconds"],
                b["fallback_seconds"],
                b["problem"],
            )
            for b in data["benchmarks"]
        ),
    )


def use_line(use: CompiledUse) -> str:
    """A pair in one line, as the summary and the HTML report say it."""
    if use.state is CompiledState.IN_USE:
        return f"compiled {use.compiled} in use ({use.file})"
    if use.state is CompiledState.FALLBACK:
        return f"fallback {use.fallback} in use in {use.module}, not {use.compiled}: {use.error}"
    if use.state is CompiledState.NOT_COMPILED:
        return f"{use.compiled} is not compiled: {use.error} ({use.file})"
    return f"{use.compiled} not checked: {use.error}"


def benchmark_line(bench: Benchmark) -> str:
    """``checksum: 0.8 ms compiled, 21 ms fallback on 256 KiB: 26x faster``, or why not."""
    if bench.problem:
        return f"{bench.function}: {bench.problem}"
    size = bench.sample_bytes
    sample = f"{size // 1024} KiB" if size % 1024 == 0 else f"{size} bytes"
    ratio = bench.ratio
    speed = (
        f"{ratio:.0f}x faster"
        if ratio >= 10
        else f"{ratio:.1f}x faster"
        if ratio >= 1
        else f"{1 / ratio:.1f}x slower"
    )
    return (
        f"{bench.function}: {duration(bench.compiled_seconds)} compiled, "
        f"{duration(bench.fallback_seconds)} fallback on {sample}: {speed}"
    )


def duration(seconds: float) -> str:
    for unit, scale, below in (("s", 1.0, 1.0), ("ms", 1e-3, 1e-4), ("µs", 1e-6, 1e-7)):
        if seconds >= below:
            value = seconds / scale
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{seconds * 1e9:.0f} ns"
