"""Benchmark: a repaired public case, `bulletproof setup DIR --yes` on a fresh Debian system,
against the same fix made by hand by someone who knows it (the system packages named outright,
then `python3 -m venv` and `pip install -r requirements.txt`), on another fresh system of the
same release; both end with the case's modules importing. Side by side, as a ratio.

Each repetition builds two fresh systems per case (not timed), times (a) bulletproof and (b) the
hand fix inside them, and checks the imports. Both share the apt download cache and pip's
cache of the test systems (uv's cache starts empty in every fresh system, so (a) downloads
what (b) may have cached: the ratio is not flattered). (a) does more than (b): it predicts,
finds the failure, locks, verifies every module and reads every file back.

Needs root and debootstrap, like the fresh-system tests. Usage:
python benchmarks/repair_vs_hand.py [--repeat 1] [--only CASE] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from tests.fresh.system import REPO, FreshSystem, fresh_system  # noqa: E402

# case id -> (suite, requirements, modules, what the person who knows installs by hand)
CASES = {
    "p-psycopg2": (
        "bookworm",
        "psycopg2==2.9.9",
        "psycopg2",
        "gcc libc6-dev python3-dev libpq-dev",
    ),
    "p-magic": ("bookworm", "python-magic==0.4.27", "magic", "libmagic1"),
    "p-pyaudio": ("trixie", "pyaudio==0.2.14", "pyaudio", "gcc python3-dev portaudio19-dev"),
    "p-psycopg3": ("trixie", "psycopg==3.2.3", "psycopg", "libpq5"),
}


def _timed(system: FreshSystem, script: str) -> float:
    start = time.monotonic()
    done = system.run(["sh", "-ec", script], timeout=1800)
    seconds = time.monotonic() - start
    if done.returncode not in (0, 4):
        raise SystemExit(f"failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")
    return seconds


def _in_fresh_system(suite: str, wheel: Path, requirements: str, script: str) -> float:
    """Seconds ``script`` takes in a fresh system of ``suite`` with /work/case/requirements.txt."""
    with (
        tempfile.TemporaryDirectory(prefix="bench-") as where,
        fresh_system(suite, Path(where), wheel) as system,
    ):
        folder = system.path("/work/case")
        folder.mkdir(parents=True)
        (folder / "requirements.txt").write_text(requirements + "\n")
        return _timed(system, script)


def _case(case: str, wheel: Path) -> tuple[float, float]:
    suite, requirements, module, by_hand = CASES[case]
    check = f"/work/case/.venv/bin/python -c 'import {module}'"
    a = _in_fresh_system(
        suite,
        wheel,
        requirements,
        f"/opt/bulletproof/bin/bulletproof setup /work/case --yes -q || [ $? -eq 4 ]\n{check}",
    )
    b = _in_fresh_system(
        suite,
        wheel,
        requirements,
        "export DEBIAN_FRONTEND=noninteractive\n"
        f"apt-get update -q >/dev/null && apt-get install -y -q {by_hand} >/dev/null\n"
        "python3 -m venv /work/case/.venv\n"
        f"/work/case/.venv/bin/pip install -q -r /work/case/requirements.txt\n{check}",
    )
    return a, b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", action="append", choices=sorted(CASES))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-wheel-") as out:
        subprocess.run(
            ["uv", "build", "--wheel", "--out-dir", out, str(REPO)], check=True, capture_output=True
        )
        wheel = next(Path(out).glob("bulletproof-*.whl"))
        results = {}
        for case in args.only or sorted(CASES):
            runs = [_case(case, wheel) for _ in range(args.repeat)]
            a = statistics.median(r[0] for r in runs)
            b = statistics.median(r[1] for r in runs)
            results[case] = {
                "setup_s": round(a, 1),
                "by_hand_s": round(b, 1),
                "a/b": round(a / b, 2),
            }
            print(f"{case:12} setup {a:6.1f} s   by hand {b:6.1f} s   a/b {a / b:.2f}", flush=True)
    ratios = [r["a/b"] for r in results.values()]
    print(f"median a/b {statistics.median(ratios):.2f} (target <= 2.0)")
    if args.json:
        args.json.write_text(
            json.dumps({"cases": results, "median_a_b": statistics.median(ratios)}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
