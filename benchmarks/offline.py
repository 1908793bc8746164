"""Benchmark: an offline setup from the wheelhouse against an online setup of the same project.

Input: a project (default examples/code-engine), set up once online (untimed: it makes the lock
every copy below starts from, as a team's clone has it, and warms uv's cache), then:
  wheelhouse       bulletproof wheelhouse A --out H            (timed, once)
  online warm      bulletproof setup B        uv's cache as the first setup left it
  online cold      bulletproof setup C        an empty uv cache: every file from the index
  offline          unshare --net bulletproof setup D --offline --wheelhouse H
                                              the network cut, an empty uv cache
Each setup runs on a fresh copy with the lock, and with a user cache of its own (no import
result reused from an earlier run). Medians over --repeat rounds; the order rotates.

Usage: python benchmarks/offline.py [--repeat 1] [--json benchmarks/results/offline.json]
Needs root (`unshare --net`) and the package index.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "code-engine"
WORK = HERE / "work" / "offline"
EXIT_OK = (0, 4)


def bulletproof(args: list[str], env: dict[str, str], *, offline: bool = False) -> float:
    command = [sys.executable, "-m", "bulletproof", *args, "-q"]
    if offline:
        command = ["unshare", "--net", *command]
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode not in EXIT_OK:
        raise SystemExit(f"{' '.join(command)}: exit {done.returncode}\n{done.stdout[-3000:]}")
    return seconds


def copy_of(source: Path, lock: Path | None, where: Path) -> Path:
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(source, where, ignore=shutil.ignore_patterns(".venv", ".bulletproof"))
    if lock is not None:
        shutil.copy(lock, where / "pylock.toml")
    return where


def env_with(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("UV_OFFLINE", "UV_CONFIG_FILE")}
    env.update(settings)
    return env


def house_size(house: Path) -> int:
    return sum(p.stat().st_size for p in house.iterdir() if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--project", type=Path, default=EXAMPLE)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "offline.json")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=WORK))
    first = copy_of(args.project, None, scratch / "first")
    bulletproof(["setup", str(first), "--yes"], env_with(XDG_CACHE_HOME=str(scratch / "xdg0")))
    lock = first / "pylock.toml"
    house = scratch / "house"
    start = time.perf_counter()
    bulletproof(["wheelhouse", str(first), "--out", str(house)], env_with())
    made = time.perf_counter() - start
    kinds = ("online warm", "online cold", "offline")
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for round_ in range(args.repeat):
        order = kinds[round_ % 3 :] + kinds[: round_ % 3]
        for kind in order:
            tag = f"{kind.replace(' ', '-')}-{round_}"
            project = copy_of(args.project, lock, scratch / tag)
            settings = {"XDG_CACHE_HOME": str(scratch / f"xdg-{tag}")}
            if kind != "online warm":
                settings["UV_CACHE_DIR"] = str(scratch / f"uv-{tag}")  # empty
            argv = ["setup", str(project)]
            if kind == "offline":
                argv += ["--offline", "--wheelhouse", str(house)]
            seconds = bulletproof(argv, env_with(**settings), offline=kind == "offline")
            times[kind].append(seconds)
            print(f"{kind}: {seconds:.1f} s", flush=True)
    medians = {k: round(statistics.median(v), 1) for k, v in times.items()}
    result = {
        "what": "offline setup from a wheelhouse against an online setup of the same project",
        "project": args.project.name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "wheelhouse": {
            "seconds": round(made, 1),
            "files": sum(1 for p in house.iterdir() if p.suffix == ".whl"),
            "mib": round(house_size(house) / (1 << 20), 1),
        },
        "seconds": {k: [round(x, 1) for x in v] for k, v in times.items()},
        "median": medians,
        "cache": {
            "online warm": "uv's cache as the untimed first setup left it (every file in it)",
            "online cold": "an empty uv cache: every file downloaded from the index",
            "offline": "an empty uv cache, the network cut (unshare --net): the wheelhouse only",
        },
        "offline/online warm": round(medians["offline"] / medians["online warm"], 2),
        "offline/online cold": round(medians["offline"] / medians["online cold"], 2),
    }
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
