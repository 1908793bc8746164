"""Benchmark: what `verify --tests` costs beyond the test run itself.

Input: the shared real projects (../shared/cases/projects/), each unpacked and set up once with
`bulletproof setup DIR --yes` (untimed). Then, side by side, order alternating, warm:
  (a) bulletproof verify DIR --tests --full    minus    (c) bulletproof verify DIR --full
  (b) DIR/.venv/bin/python -m pytest -q -p no:cacheprovider     (the same tests, run by hand)
The overhead is (a - c) - b: finding the tests, the JUnit file, classifying every failure and
reading the code's variables. Target: at most 10 % of b or 1 s, whichever is larger. Medians.

Usage: python benchmarks/tests_overhead.py [--repeat 5] [--json FILE] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bulletproof.tomlcompat import tomllib

PROJECTS = Path(__file__).resolve().parents[2] / "shared" / "cases" / "projects"


def timed(args: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    bulletproof = str(Path(sys.executable).parent / "bulletproof")
    cases = tomllib.loads((PROJECTS / "projects.toml").read_text())["project"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-tests-") as tmp:
        for case in cases:
            name = case["name"]
            if args.only and name not in args.only:
                continue
            root = Path(tmp) / name
            root.mkdir()
            with tarfile.open(PROJECTS / f"{name}.tar.gz") as archive:
                archive.extractall(root, filter="data")
            setup = subprocess.run(
                [bulletproof, "setup", str(root), "--yes", "-q"], capture_output=True, check=False
            )
            if setup.returncode not in (0, 4):
                print(f"{name}: setup failed ({setup.returncode}), left out", file=sys.stderr)
                continue
            with_tests = [bulletproof, "verify", str(root), "--tests", "--full", "-q"]
            without = [bulletproof, "verify", str(root), "--full", "-q"]
            by_hand = [
                str(root / ".venv/bin/python"),
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
            ]
            a, b, c = [], [], []
            for i in range(args.repeat + 1):
                order = [(with_tests, a), (by_hand, b), (without, c)]
                for command, into in order if i % 2 else reversed(order):
                    seconds = timed(command, root)
                    if i:  # the first round warms the caches
                        into.append(seconds)
            overhead = (statistics.median(a) - statistics.median(c)) - statistics.median(b)
            allowed = max(0.1 * statistics.median(b), 1.0)
            rows.append(
                {
                    "project": name,
                    "verify_tests_s": a,
                    "pytest_s": b,
                    "verify_s": c,
                    "overhead_s": round(overhead, 3),
                    "allowed_s": round(allowed, 3),
                    "ratio_of_run": round(overhead / statistics.median(b), 3),
                }
            )
            print(
                f"{name}: tests by hand {statistics.median(b):.2f} s, overhead {overhead:+.2f} s "
                f"(allowed {allowed:.2f} s)"
            )
    if args.json:
        args.json.write_text(json.dumps({"repeat": args.repeat, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
