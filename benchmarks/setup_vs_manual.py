"""Benchmark: `bulletproof setup` against the same job by hand with uv, and with pip.

Input: the original plan's pinned set (examples/code-engine). Warm caches: every procedure runs
once untimed first. Then, for each repetition, side by side in one run:
  (a) bulletproof setup            lock + env + full verification, from an empty project state
  (b) by hand with uv              uv venv, uv pip install -r, uv pip check, import loop
  (c) the plan's procedure (pip)   python -m venv, pip install -r, pip check, import loop
The import loop imports, in one process and in sequence, the same module list that bulletproof
verifies (so (b) and (c) check as much as (a) does, except file integrity).
Also: `setup` and `verify` when nothing changed (after one untimed run of each, as a user's
second run). Medians are reported, with the ratios.

The order of (a), (b), (c) rotates between repetitions: the registry's answers to cache
revalidation vary by seconds, and a fixed order would hand that noise to one procedure.
--uv-offline runs (a) and (b) with UV_OFFLINE=1 so uv serves both from its cache alone: that
isolates what the tools themselves cost. (c) always uses the network (pip has no such mode).

--before SRC adds (a0), the same setup run from an earlier tree's src/ (a `git archive` of an
earlier commit), side by side with the others; --after SRC runs (a) from a tree other than the
installed one; --no-pip leaves (c) out.

Usage: python benchmarks/setup_vs_manual.py [--python 3.12] [--repeat 5] [--uv-offline] [--json F]
       [--before SRC] [--after SRC] [--no-pip]
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


def sh(
    *args: str | Path,
    cwd: Path | None = None,
    ok: tuple[int, ...] = (0,),
    env: dict[str, str] | None = None,
) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if done.returncode not in ok:
        raise subprocess.CalledProcessError(done.returncode, [str(a) for a in args])
    return time.perf_counter() - start


def fresh_project(folder: str = "") -> Path:
    project = WORK / folder / "code-engine"
    project.parent.mkdir(parents=True, exist_ok=True)
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


def run_a(
    bulletproof: Path, project: Path, python: str, env: dict[str, str] | None = None
) -> float:
    for leftover in (project / ".venv", project / ".bulletproof", project / "pylock.toml"):
        if leftover.is_symlink() or leftover.is_file():
            leftover.unlink()
        elif leftover.exists():
            shutil.rmtree(leftover)
    # 4: usable (optional submodules of the plan's packages fail; each is listed)
    return sh(bulletproof, "setup", project, "--python", python, "-q", ok=(0, 4), env=env)


def run_noop(bulletproof: Path, project: Path, env: dict[str, str] | None) -> tuple[float, float]:
    """`setup` and `verify` when nothing changed since the last run of each (one untimed run
    of each first: the run right after a setup that built is the one that finds nothing to
    do, and the one a record of "nothing changed" is left by)."""
    for command in ("setup", "verify"):
        sh(bulletproof, command, project, "-q", ok=(0, 4), env=env)
    return (
        sh(bulletproof, "setup", project, "-q", ok=(0, 4), env=env),
        sh(bulletproof, "verify", project, "-q", ok=(0, 4), env=env),
    )


def tree(src: Path | None) -> dict[str, str] | None:
    """The environment that runs the tool from ``src`` (a tree's src/), None: as installed."""
    return None if src is None else {**os.environ, "PYTHONPATH": str(src.resolve())}


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
    parser.add_argument("--before", type=Path, help="also (a0): an earlier tree's src/")
    parser.add_argument("--after", type=Path, help="the tree (a) runs from (default: installed)")
    parser.add_argument("--no-pip", action="store_true", help="leave (c) out")
    args = parser.parse_args()
    interp = next((i for i in find_interpreters() if i.version.startswith(args.python + ".")), None)
    if interp is None:
        sys.exit(f"no Python {args.python} on this machine")
    bulletproof = Path(sys.executable).parent / "bulletproof"
    shutil.rmtree(WORK, ignore_errors=True)
    project = fresh_project()
    earlier = fresh_project("before")
    after, before = tree(args.after), tree(args.before)
    # warm-up, untimed: fills uv's and pip's caches and gives the module list
    run_a(bulletproof, project, args.python, after)
    modules = modules_of((project / ".venv").resolve())
    procedures = {
        "a": lambda: run_a(bulletproof, project, args.python, after),
        "b": lambda: run_b(project, interp.path, modules),
    }
    if not args.no_pip:
        procedures["c"] = lambda: run_c(project, interp.path, modules)
    if args.before:
        procedures["a0"] = lambda: run_a(bulletproof, earlier, args.python, before)
    for procedure in list(procedures.values())[1:]:
        procedure()
    if args.uv_offline:
        os.environ["UV_OFFLINE"] = "1"
    times: dict[str, list[float]] = {key: [] for key in procedures}
    noop = {"a": ("noop_setup", "noop_verify"), "a0": ("noop_setup0", "noop_verify0")}
    for key in ("a", "a0") if args.before else ("a",):
        times.update({name: [] for name in noop[key]})
    keys = list(procedures)
    for rep in range(args.repeat):
        for key in keys[rep % len(keys) :] + keys[: rep % len(keys)]:
            times[key].append(procedures[key]())
            if key in noop:
                place, env = (project, after) if key == "a" else (earlier, before)
                for name, seconds in zip(noop[key], run_noop(bulletproof, place, env), strict=True):
                    times[name].append(seconds)
    report(times, interp.version, len(modules), args)
    return 0


def report(
    times: dict[str, list[float]], version: str, modules: int, args: argparse.Namespace
) -> None:
    med = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "python": version,
        "uv_offline": args.uv_offline,
        "modules": modules,
        "repeat": args.repeat,
        "median_seconds": {k: round(v, 3) for k, v in med.items()},
        "all_seconds": {k: [round(x, 3) for x in v] for k, v in times.items()},
        "a_over_b": round(med["a"] / med["b"], 3),
        "c_over_a": round(med["c"] / med["a"], 3) if "c" in med else None,
        "a0_over_b": round(med["a0"] / med["b"], 3) if "a0" in med else None,
    }
    print(json.dumps(result, indent=2))
    print("\n| measure | median s |\n|---|---|")
    names = {
        "a": "(a) bulletproof setup",
        "a0": "(a0) bulletproof setup, the earlier tree",
        "b": "(b) by hand with uv",
        "c": "(c) plan's pip procedure",
        "noop_setup": "setup, nothing changed",
        "noop_verify": "verify, nothing changed",
        "noop_setup0": "setup, nothing changed, the earlier tree",
        "noop_verify0": "verify, nothing changed, the earlier tree",
    }
    for key, label in names.items():
        if key in med:
            print(f"| {label} | {med[key]:.2f} |")
    print(f"\na/b = {result['a_over_b']} (target <= 1.0); c/a = {result['c_over_a']}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
