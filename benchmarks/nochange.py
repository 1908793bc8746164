"""Benchmark: `setup` and `verify` on a project where nothing changed, beside what any answer costs.

Input: the original plan's pinned set (examples/code-engine), set up once (untimed). Then, for
each repetition, side by side in one run (the order rotates between repetitions):
  setup         bulletproof setup DIR -q      (nothing changed since the last run)
  verify        bulletproof verify DIR -q
  setup --full  bulletproof setup DIR -q --full   (every module imported again: the slow path)
and the references an answer cannot be cheaper than:
  python        the environment's python -c pass (an interpreter's start)
  uv pip check  uv pip check --python ENV (the cheapest consistency answer there is)
  tool import   python -c "import bulletproof.cli" (what importing the tool itself costs)
Medians are reported, with setup's and verify's ratios to `uv pip check`.

--before SRC also measures an earlier tree's src/ (setup0, verify0, tool_import0), side by side;
--after SRC measures a tree other than the installed one.

Usage: python benchmarks/nochange.py [--python 3.12] [--repeat 15] [--json F] [--before SRC]
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
from collections.abc import Callable
from pathlib import Path

from bulletproof.proc import uv_bin

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "code-engine"
WORK = HERE / "work" / "nochange"


def sh(*args: str | Path, ok: tuple[int, ...] = (0,), env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [str(a) for a in args],
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    if done.returncode not in ok:
        raise subprocess.CalledProcessError(done.returncode, [str(a) for a in args])
    return time.perf_counter() - start


def tree(src: Path | None) -> dict[str, str] | None:
    """The environment that runs the tool from ``src`` (a tree's src/), None: as installed."""
    return None if src is None else {**os.environ, "PYTHONPATH": str(src.resolve())}


def fresh_project(folder: str) -> Path:
    project = WORK / folder / "code-engine"
    project.parent.mkdir(parents=True)
    shutil.copytree(
        EXAMPLE,
        project,
        ignore=shutil.ignore_patterns(".venv*", ".bulletproof", "pylock.toml", "*.db"),
    )
    return project


def _procedures(
    bulletproof: Path, project: Path, suffix: str, env: dict[str, str] | None
) -> dict[str, Callable[[], float]]:
    usable = (0, 4)
    return {
        f"setup{suffix}": lambda: sh(bulletproof, "setup", project, "-q", ok=usable, env=env),
        f"verify{suffix}": lambda: sh(bulletproof, "verify", project, "-q", ok=usable, env=env),
        f"tool_import{suffix}": lambda: sh(sys.executable, "-c", "import bulletproof.cli", env=env),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--full-every", type=int, default=5, help="time --full every Nth rep (0: never)"
    )
    parser.add_argument("--json", type=Path)
    parser.add_argument("--before", type=Path, help="also an earlier tree's src/, side by side")
    parser.add_argument("--after", type=Path, help="the tree measured (default: installed)")
    args = parser.parse_args()
    bulletproof = Path(sys.executable).parent / "bulletproof"
    shutil.rmtree(WORK, ignore_errors=True)
    usable = (0, 4)  # the seed set ends usable: optional submodules are listed
    trees = {"": tree(args.after), **({"0": tree(args.before)} if args.before else {})}
    procedures = {}
    for suffix, env in trees.items():
        project = fresh_project(suffix or "after")
        sh(bulletproof, "setup", project, "--python", args.python, "-q", ok=usable, env=env)
        procedures |= _procedures(bulletproof, project, suffix, env)
    env_python = project / ".venv" / "bin" / "python"
    procedures["python"] = lambda: sh(env_python, "-c", "pass")
    procedures["uv_pip_check"] = lambda: sh(uv_bin(), "pip", "check", "--python", env_python)
    for run in procedures.values():  # warm: the first answer after setup writes what it keeps
        run()
    times: dict[str, list[float]] = {key: [] for key in [*procedures, "setup_full"]}
    keys = list(procedures)
    for rep in range(args.repeat):
        for key in keys[rep % len(keys) :] + keys[: rep % len(keys)]:
            times[key].append(procedures[key]())
        if args.full_every and rep % args.full_every == 0:
            project = WORK / "after" / "code-engine"
            full = sh(bulletproof, "setup", project, "-q", "--full", ok=usable, env=trees[""])
            times["setup_full"].append(full)
            procedures["setup"]()  # the next timed ones start from runs that changed nothing
            procedures["verify"]()
    med = {k: statistics.median(v) for k, v in times.items() if v}
    result = {
        "repeat": args.repeat,
        "median_seconds": {k: round(v, 4) for k, v in med.items()},
        "all_seconds": {k: [round(x, 4) for x in v] for k, v in times.items()},
        "setup_over_uv_pip_check": round(med["setup"] / med["uv_pip_check"], 2),
        "verify_over_uv_pip_check": round(med["verify"] / med["uv_pip_check"], 2),
        "setup_over_python": round(med["setup"] / med["python"], 2),
    }
    print(json.dumps(result, indent=2))
    print("\n| measure | median s |\n|---|---|")
    for key, value in med.items():
        print(f"| {key} | {value:.3f} |")
    print(
        f"\nsetup {med['setup']:.3f} s, verify {med['verify']:.3f} s (target <= 0.1 s); "
        f"setup/uv pip check = {result['setup_over_uv_pip_check']}"
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
