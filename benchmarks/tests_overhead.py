"""Benchmark: what `verify --tests` costs beyond the test run itself.

Input: the shared real projects (../shared/cases/projects/), each unpacked, and the example
project (examples/code-engine, whose app is started and asked by --tests, with its signing key in
.env), each set up once with `bulletproof setup DIR --yes` (untimed). Then, side by side, order
alternating, warm:
  (a) bulletproof verify DIR --tests --full    minus    (c) bulletproof verify DIR --full
  (b) DIR/.venv/bin/python -m pytest -q -p no:cacheprovider     (the same tests, run by hand)
The overhead is (a - c) - b: finding the tests, the JUnit file, classifying every failure,
reading the code's variables and settings, probing the services they name, and starting the
project's app and asking it (where it has one: the example). Target: at most 10 % of b or 1 s,
whichever is larger. Medians.

Usage: python benchmarks/tests_overhead.py [--repeat 5] [--json FILE] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from bulletproof.tomlcompat import tomllib

PROJECTS = Path(__file__).resolve().parents[2] / "shared" / "cases" / "projects"
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "code-engine"
SIGNING_KEY = "bench-signing-key-of-some-length"


def timed(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - start


def unpack(name: str, root: Path) -> dict[str, str]:
    """The project in ``root``; the variables its tests need when run by hand."""
    if name == "code-engine":
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".venv*", ".bulletproof"))
        (root / ".env").write_text(f"JWT_SECRET={SIGNING_KEY}\n")
        return {"JWT_SECRET": SIGNING_KEY}
    root.mkdir()
    with tarfile.open(PROJECTS / f"{name}.tar.gz") as archive:
        archive.extractall(root, filter="data")
    return {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    bulletproof = str(Path(sys.executable).parent / "bulletproof")
    cases = tomllib.loads((PROJECTS / "projects.toml").read_text())["project"]
    cases.append({"name": "code-engine"})
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-tests-") as tmp:
        for case in cases:
            name = case["name"]
            if args.only and name not in args.only:
                continue
            root = Path(tmp) / name
            env = {**os.environ, **unpack(name, root)}
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
                    seconds = timed(command, root, env)
                    if i:  # the first round warms the caches
                        into.append(seconds)
            seen = root.parent / f"{name}.json"  # what (a) did beyond the tests
            subprocess.run(
                [*with_tests, "--json", str(seen)], env=env, capture_output=True, check=False
            )
            did = json.loads(seen.read_text()).get("tests") or {}
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
                    "services_probed": len(did.get("services", [])),
                    "app_started": (did.get("app") or {}).get("server", ""),
                    "tests_passed": (did.get("counts") or {}).get("passed"),
                }
            )
            print(
                f"{name}: tests by hand {statistics.median(b):.2f} s, overhead {overhead:+.2f} s "
                f"(allowed {allowed:.2f} s); services probed {len(did.get('services', []))}, "
                f"app {(did.get('app') or {}).get('server') or 'none'}"
            )
    if args.json:
        args.json.write_text(json.dumps({"repeat": args.repeat, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
