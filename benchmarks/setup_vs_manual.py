"""Benchmark: `bulletproof setup` against the same job by hand with uv, and with pip.

Input: the original plan's pinned set (examples/code-engine). Warm caches: every procedure runs
once untimed first. Then, for each repetition, side by side in one run:
  (a) bulletproof setup            lock + env + full verification, from an empty project state
  (b) by hand with uv              uv venv, uv pip install -r, uv pip check, import loop
  (c) the plan's procedure (pip)   python -m venv, pip install -r, pip check, import loop
The import loop imports, in one process and in sequence, the same module list that bulletproof
verifies (so (b) and (c) check as much as (a) does, except file integrity).
Also: `setup` and `verify` when nothing changed. Medians are reported, with the ratios.

The order of (a), (b), (c) rotates between repetitions: the registry's answers to cache
revalidation vary by seconds, and a fixed order would hand that noise to one procedure.
--uv-offline runs (a) and (b) with UV_OFFLINE=1 so uv serves both from its cache alone: that
isolates what the tools themselves cost. (c) always uses the network (pip has no such mode).

Usage: python benchmarks/setup_vs_manual.py [--python 3.12] [--repeat 5] [--uv-offline] [--json F]
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

from bulletproof.host.pythons import find_interpreters
from bulletproof.proc import uv_bin
from bulletproof.verify.distributions import distributions
from bulletproof.verify.modules import importable_modules, public_submodules

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "code-engine"
WORK = HERE / "work" / "seed"  # its own folder: other benchmarks keep theirs in work/
REQUIREMENTS = ("requirements-fixed.txt", "requirements-compat.txt")
IMPORT_LOOP = """
import importlib, sys
failed = 0
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception:
        failed += 1
print(failed)
"""


def sh(*args: str | Path, cwd: Path | None = None, ok: tuple[int, ...] = (0,)) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if done.returncode not in ok:
        raise subprocess.CalledProcessError(done.returncode, [str(a) for a in args])
    return time.perf_counter() - start


def fresh_project() -> Path:
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    project = WORK / "code-engine"
    shutil.copytree(
        EXAMPLE,
        project,
        ignore=shutil.ignore_patterns(".venv*", ".bulletproof", "pylock.toml", "*.db"),
    )
    return project


def modules_of(env: Path) -> list[str]:
    names: set[str] = set()
    for dist in distributions(env):
        paths = [r.path for r in dist.record()]
        tops = importable_modules(paths)
        names.update(tops, public_submodules(paths, tops))  # what bulletproof verifies too
    return sorted(names)


def run_a(bulletproof: Path, project: Path, python: str) -> float:
    for leftover in (project / ".venv", project / ".bulletproof", project / "pylock.toml"):
        if leftover.is_symlink() or leftover.is_file():
            leftover.unlink()
        elif leftover.exists():
            shutil.rmtree(leftover)
    # 4: usable (optional submodules of the plan's packages fail; each is listed)
    return sh(bulletproof, "setup", project, "--python", python, "-q", ok=(0, 4))


def run_b(project: Path, python: Path, modules: list[str]) -> float:
    env = WORK / "uv-env"
    shutil.rmtree(env, ignore_errors=True)
    uv = uv_bin()
    reqs = [a for r in REQUIREMENTS for a in ("-r", str(project / r))]
    start = time.perf_counter()
    sh(uv, "venv", env, "--python", python, "-q")
    sh(uv, "pip", "install", "--python", env / "bin" / "python", *reqs, "-q")
    sh(uv, "pip", "check", "--python", env / "bin" / "python")
    sh(env / "bin" / "python", "-c", IMPORT_LOOP, *modules)
    return time.perf_counter() - start


def run_c(project: Path, python: Path, modules: list[str]) -> float:
    env = WORK / "pip-env"
    shutil.rmtree(env, ignore_errors=True)
    reqs = [a for r in REQUIREMENTS for a in ("-r", str(project / r))]
    start = time.perf_counter()
    sh(python, "-m", "venv", env)
    sh(env / "bin" / "pip", "install", "-q", *reqs)
    sh(env / "bin" / "pip", "check")
    sh(env / "bin" / "python", "-c", IMPORT_LOOP, *modules)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default="3.12")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--uv-offline", action="store_true")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    interp = next((i for i in find_interpreters() if i.version.startswith(args.python + ".")), None)
    if interp is None:
        sys.exit(f"no Python {args.python} on this machine")
    bulletproof = Path(sys.executable).parent / "bulletproof"
    project = fresh_project()
    # warm-up, untimed: fills uv's and pip's caches and gives the module list
    run_a(bulletproof, project, args.python)
    modules = modules_of((project / ".venv").resolve())
    run_b(project, interp.path, modules)
    run_c(project, interp.path, modules)
    if args.uv_offline:
        os.environ["UV_OFFLINE"] = "1"
    times: dict[str, list[float]] = {"a": [], "b": [], "c": [], "noop_setup": [], "noop_verify": []}
    procedures = {
        "a": lambda: run_a(bulletproof, project, args.python),
        "b": lambda: run_b(project, interp.path, modules),
        "c": lambda: run_c(project, interp.path, modules),
    }
    for rep in range(args.repeat):
        order = "abc"[rep % 3 :] + "abc"[: rep % 3]
        for key in order:
            times[key].append(procedures[key]())
            if key == "a":
                times["noop_setup"].append(sh(bulletproof, "setup", project, "-q", ok=(0, 4)))
                times["noop_verify"].append(sh(bulletproof, "verify", project, "-q", ok=(0, 4)))
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "python": interp.version,
        "uv_offline": args.uv_offline,
        "modules": len(modules),
        "repeat": args.repeat,
        "median_seconds": {k: round(v, 3) for k, v in med.items()},
        "all_seconds": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "a_over_b": round(med["a"] / med["b"], 3),
        "c_over_a": round(med["c"] / med["a"], 3),
    }
    print(json.dumps(result, indent=2))
    print("\n| measure | median s |\n|---|---|")
    names = {
        "a": "(a) bulletproof setup",
        "b": "(b) by hand with uv",
        "c": "(c) plan's pip procedure",
        "noop_setup": "setup, nothing changed",
        "noop_verify": "verify, nothing changed",
    }
    for key, label in names.items():
        print(f"| {label} | {med[key]:.2f} |")
    print(f"\na/b = {result['a_over_b']} (target <= 1.0); c/a = {result['c_over_a']} (target >= 5)")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
