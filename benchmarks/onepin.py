"""Benchmark: `setup` after one pin moved, the tool as it is beside an earlier tree of it.

Input: the original plan's pinned set (examples/code-engine), one copy per tool tree, each set up
once (untimed). Then, for each repetition and each tree in turn, one pin is moved (psutil
6.1.1 <-> 6.1.0, a package nothing else requires; with --new-states 6.1.1 -> 6.1.0 -> 6.0.0 ...,
a version never set up before each time) and `setup` is timed: a new lock, a new generation,
and its verification. The earlier tree (``--before SRC``, e.g. a `git archive` of an
earlier commit) imports every module of every distribution again; the tree this script runs from
keeps what did not change. Medians are reported, with their ratio.

Usage: python benchmarks/onepin.py --before OLD/src [--after NEW/src] [--repeat 3] [--json F]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "code-engine"
WORK = HERE / "work" / "onepin"
PINS = ("psutil==6.1.1", "psutil==6.1.0")
# --new-states: each move goes to a version neither tree has set up before
VERSIONS = ("6.1.1", "6.1.0", "6.0.0", "5.9.8", "5.9.7", "5.9.6")


def setup(project: Path, src: Path | None, *extra: str) -> float:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    start = time.perf_counter()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "bulletproof"), "setup", str(project), "-q", *extra],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if done.returncode not in (0, 4):
        raise SystemExit(f"setup of {project} ended {done.returncode}")
    return time.perf_counter() - start


def move_pin(project: Path, rep: int, new_states: bool) -> None:
    path = project / "requirements-fixed.txt"
    if new_states:
        old, new = (f"psutil=={v}" for v in VERSIONS[rep : rep + 2])
    else:
        old, new = PINS if rep % 2 == 0 else PINS[::-1]
    path.write_text(path.read_text().replace(old, new))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="an earlier tree's src/")
    parser.add_argument("--after", type=Path, help="the later tree's src/ (default: installed)")
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--new-states", action="store_true", help="move to a new version each time (at most 5)"
    )
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    after = args.after.resolve() if args.after else None
    trees: dict[str, Path | None] = {"before": args.before.resolve(), "after": after}
    projects = {}
    for name, src in trees.items():
        projects[name] = WORK / name / "code-engine"
        shutil.copytree(
            EXAMPLE,
            projects[name],
            ignore=shutil.ignore_patterns(".venv*", ".bulletproof", "pylock.toml", "*.db"),
        )
        setup(projects[name], src, "--python", args.python)
    times: dict[str, list[float]] = {name: [] for name in trees}
    for rep in range(args.repeat):
        order = list(trees) if rep % 2 == 0 else list(trees)[::-1]
        for name in order:
            move_pin(projects[name], rep, args.new_states)
            times[name].append(setup(projects[name], trees[name]))
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "repeat": args.repeat,
        "median_seconds": {k: round(v, 2) for k, v in med.items()},
        "all_seconds": {k: [round(x, 2) for x in v] for k, v in times.items()},
        "after_over_before": round(med["after"] / med["before"], 3),
        "new_states": args.new_states,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
