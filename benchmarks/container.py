"""Benchmark: building the example project's container, as `generate container` writes it.

Input: examples/code-engine, copied; `bulletproof generate container` with this repository's
wheel as the tool source and the bookworm fresh-system image as the base (imported once into the
tests' own storage: tests/fresh/images.py; no registry is reachable here). Then the image is
built with buildah (chroot isolation, vfs storage, no intermediate layers), twice:
  cold   uv's and pip's caches mounted into the build, both empty
  warm   the same caches again, as the cold build left them
Each build runs setup --locked and verify in the build stage and verify again in the run-time
stage; the figures are the wall time of each build and the times bulletproof's own steps print
in the build log. Needs root, buildah and podman, and the package registries.

Usage: python benchmarks/container.py [--json FILE] [--keep-log DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fresh.images import base_image, build, buildah  # noqa: E402

from bulletproof import __version__  # noqa: E402
from bulletproof.cli import main as bulletproof  # noqa: E402
from bulletproof.proc import uv_bin  # noqa: E402

EXAMPLE = REPO / "examples" / "code-engine"
SUITE = "bookworm"
TAG = "localhost/bulletproof-bench-example"
# a step bulletproof prints when it ends: "✓ Verifying the new environment (41.7s)"
_STEP = re.compile(r"^✓ (.+?)(?: — .*)? \((\d+(?:\.\d+)?)s\)$")
_STAGE = re.compile(r"^\[(\d+)/\d+\] STEP 1/\d+: FROM \S+ AS (\S+)$")


def steps(log: str) -> list[dict[str, object]]:
    """bulletproof's timed steps in the build log, each with the stage it ran in."""
    stage = ""
    found: list[dict[str, object]] = []
    for line in log.splitlines():
        started = _STAGE.match(line)
        if started:
            stage = started.group(2)
        ended = _STEP.match(line.strip())
        if ended:
            found.append({"stage": stage, "step": ended.group(1), "s": float(ended.group(2))})
    return found


def one_build(context: Path, caches: Path, logs: Path | None, name: str) -> dict[str, object]:
    volumes = []
    for inside, folder in (("/root/.cache/uv", "uv"), ("/root/.cache/pip", "pip")):
        (caches / folder).mkdir(parents=True, exist_ok=True)
        volumes.append(f"{caches / folder}:{inside}")
    start = time.perf_counter()
    done = build(context, TAG, volumes=volumes)
    seconds = time.perf_counter() - start
    buildah(["rmi", TAG])
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
        (logs / f"container-{name}.log").write_text(done.stdout)
    if done.returncode != 0:
        sys.stderr.write(done.stdout[-4000:])
        raise SystemExit(f"the {name} build failed ({done.returncode})")
    return {"wall_s": round(seconds, 1), "steps": steps(done.stdout)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=REPO / "benchmarks/results/container.json")
    parser.add_argument("--keep-log", type=Path)
    args = parser.parse_args()
    base = base_image(SUITE)
    with tempfile.TemporaryDirectory(prefix="bench-container-") as scratch:
        work = Path(scratch)
        subprocess.run(
            [uv_bin(), "build", "--wheel", "--out-dir", str(work / "dist"), str(REPO)],
            check=True,
            capture_output=True,
        )
        wheel = next((work / "dist").glob("bulletproof-*.whl"))
        project = work / "code-engine"
        shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns(".venv*", ".bulletproof"))
        argv = ["generate", "container", str(project), "-q", "--base", base]
        if bulletproof([*argv, "--tool-source", str(wheel)]) != 0:
            raise SystemExit("generate container failed")
        caches = work / "caches"
        results = {
            "cold": one_build(project, caches, args.keep_log, "cold"),
            "warm": one_build(project, caches, args.keep_log, "warm"),
        }
    out = {
        "benchmark": "container build of examples/code-engine (buildah, chroot, vfs)",
        "date": time.strftime("%Y-%m-%d"),
        "bulletproof": __version__,
        "base": f"{SUITE} fresh-system tarball as a local image",
        "machine": {"cores": _cores(), "python": platform.python_version()},
        "buildah": _buildah_version(),
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    for name, result in results.items():
        print(f"{name}: {result['wall_s']} s")
        for step in result["steps"]:  # type: ignore[attr-defined]
            print(f"  {step['stage']:8} {step['step']:45} {step['s']:7.1f} s")
    return 0


def _cores() -> int:
    return len(os.sched_getaffinity(0))


def _buildah_version() -> str:
    done = subprocess.run(["buildah", "--version"], capture_output=True, text=True, check=False)
    return done.stdout.strip()


if __name__ == "__main__":
    raise SystemExit(main())
