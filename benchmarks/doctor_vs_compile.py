"""Benchmark: `bulletproof doctor` against `uv pip compile` of the same inputs.

Input: the original plan's pinned set (examples/code-engine), target Python 3.12, warm caches
(each command runs once untimed first). doctor gets no lock to reuse, so it resolves as uv does,
and then also probes the host, reads the lock's wheel tags and asks the package manager:
  (a) bulletproof doctor DIR --python 3.12     (a copy of the example with no pylock.toml)
  (b) uv pip compile <the same files> --python <the same interpreter> -o pylock.toml
Side by side in one run, order alternating, medians reported with the ratio a/b (target <= 1.5).

Usage: python benchmarks/doctor_vs_compile.py [--python 3.12] [--repeat 7] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bulletproof.host.pythons import find_interpreters
from bulletproof.proc import uv_bin

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "code-engine"
INPUTS = ("pyproject.toml", "requirements-fixed.txt", "requirements-compat.txt")


def timed(args: list[str], cwd: Path, ok_codes: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in ok_codes:
        raise SystemExit(f"{args[:3]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    python = next(i.path for i in find_interpreters() if i.minor == args.python)
    bulletproof = str(Path(sys.executable).parent / "bulletproof")
    with tempfile.TemporaryDirectory(prefix="bench-doctor-") as tmp:
        project = Path(tmp) / "code-engine"
        project.mkdir()
        for name in INPUTS:
            shutil.copy(EXAMPLE / name, project / name)
        out = Path(tmp) / "out" / "pylock.toml"
        out.parent.mkdir()
        a_cmd = [bulletproof, "doctor", str(project), "--python", args.python, "-q"]
        b_cmd = [
            uv_bin(),
            "pip",
            "compile",
            *INPUTS[1:],
            "--python",
            str(python),
            "-o",
            str(out),
            "--no-header",
            "--quiet",
        ]
        # doctor exits 1 when it finds a blocker; either way it did the whole job
        runs: dict[str, list[float]] = {"a": [], "b": []}
        timed(a_cmd, project, (0, 1))
        timed(b_cmd, project)
        out.unlink()
        for i in range(args.repeat):
            order = ("a", "b") if i % 2 == 0 else ("b", "a")
            for which in order:
                if which == "a":
                    runs["a"].append(timed(a_cmd, project, (0, 1)))
                else:
                    out.unlink(missing_ok=True)  # as doctor's scratch lock: no previous output
                    runs["b"].append(timed(b_cmd, project))
            assert not (project / "pylock.toml").exists(), "doctor must not write the lock"
    a, b = statistics.median(runs["a"]), statistics.median(runs["b"])
    result = {
        "python": args.python,
        "repeat": args.repeat,
        "runs": runs,
        "median_a_doctor": round(a, 3),
        "median_b_uv_compile": round(b, 3),
        "ratio_a_over_b": round(a / b, 2),
    }
    print(f"(a) bulletproof doctor   median {a:.2f} s   runs {[round(x, 2) for x in runs['a']]}")
    print(f"(b) uv pip compile       median {b:.2f} s   runs {[round(x, 2) for x in runs['b']]}")
    print(f"a/b = {a / b:.2f}  (target <= 1.5)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
