"""Benchmark: `bulletproof setup DIR --yes` on the shared real projects against the commands
their READMEs give a developer (projects.toml's `naive`), on this machine, side by side.

For each project whose README commands work here (naive_result "works"), each repetition
unpacks the archive twice, runs (a) bulletproof and (b) the README's commands (python3 being
the suite's interpreter: 3.11 for bookworm, 3.13 for trixie), and checks that both environments
import the project's listed modules. Warm caches: one untimed run of each first. The order of
(a) and (b) rotates between repetitions. Medians and a/b are reported; (a) does more than (b):
it locks, verifies every module and submodule, and reads every file back.

Usage: python benchmarks/projects_vs_pip.py [--repeat 3] [--only NAME] [--json FILE]
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
import time
from pathlib import Path

from bulletproof.host.pythons import find_interpreters
from bulletproof.tomlcompat import tomllib

HERE = Path(__file__).resolve().parent
PROJECTS = HERE.parent.parent / "shared" / "cases" / "projects"
WORK = HERE / "work" / "projects"
PYTHON = {"bookworm": "3.11", "trixie": "3.13"}


def _unpack(name: str, where: Path) -> Path:
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    with tarfile.open(PROJECTS / f"{name}.tar.gz") as archive:
        archive.extractall(where, filter="data")
    return where


def _timed(command: list[str] | str, cwd: Path, env: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        shell=isinstance(command, str),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    return time.perf_counter() - start, done.returncode


def _imports_ok(folder: Path, modules: list[str]) -> bool:
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    done = subprocess.run(
        [str(folder / ".venv" / "bin" / "python"), "-c", code, *modules],
        cwd=folder,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    projects = tomllib.loads((PROJECTS / "projects.toml").read_text())["project"]
    found = {i.minor: i.path for i in find_interpreters()}
    bulletproof = str(Path(sys.executable).parent / "bulletproof")
    results = []
    for project in projects:
        name = project["name"]
        if (args.only and name not in args.only) or project["naive_result"] != "works":
            continue
        python = found.get(PYTHON[project["suite"]])
        if python is None:
            print(f"{name}: no Python {PYTHON[project['suite']]} here, skipped")
            continue
        bindir = WORK / "bin"
        bindir.mkdir(parents=True, exist_ok=True)
        (bindir / "python3").unlink(missing_ok=True)
        (bindir / "python3").symlink_to(python)
        env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"}
        env.pop("VIRTUAL_ENV", None)
        a_cmd = [bulletproof, "setup", ".", "--yes", "-q", "--python", str(python)]
        times: dict[str, list[float]] = {"a": [], "b": []}
        ok = {"a": True, "b": True}
        for rep in range(args.repeat + 1):  # the first round warms the caches, untimed
            order = ["a", "b"] if rep % 2 == 0 else ["b", "a"]
            for which in order:
                folder = _unpack(name, WORK / f"{name}-{which}")
                command: list[str] | str = a_cmd if which == "a" else project["naive"]
                seconds, code = _timed(command, folder, env)
                good = code in (0, 4) if which == "a" else code == 0
                good = good and _imports_ok(folder, project["imports"])
                ok[which] = ok[which] and good
                if rep:
                    times[which].append(seconds)
        a, b = statistics.median(times["a"]), statistics.median(times["b"])
        row = {
            "project": name,
            "a_bulletproof": a,
            "b_readme": b,
            "a_over_b": a / b,
            "both_succeeded": ok["a"] and ok["b"],
            "a_succeeded": ok["a"],
            "b_succeeded": ok["b"],
            "runs": args.repeat,
        }
        results.append(row)
        print(
            f"{name:22} a {a:6.1f} s   b {b:6.1f} s   a/b {a / b:4.2f}"
            + "".join(f"   ({w} failed)" for w in ("a", "b") if not ok[w])
        )
    if results:
        ratios = [r["a_over_b"] for r in results if r["both_succeeded"]]
        if ratios:
            print(f"median a/b over {len(ratios)} projects: {statistics.median(ratios):.2f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
