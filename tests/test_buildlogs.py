"""The log a build tool names in its output is read before matching: a configure step that prints
only "see <log> for details" still yields the header it was missing. The builds are real: uv
builds an sdist written here, whose backend writes its own log in a wording nothing else names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bulletproof import proc
from bulletproof.analyze.buildlogs import TAIL_LINES, build_failure
from bulletproof.analyze.signatures import match
from tests.fixtures.wheels import write_sdist

# The backend writes "<tree>/zqbuild/zq-config.log" and fails naming it as asked: by its absolute
# path, or by its bare name with the folder it compiled in printed on an earlier line.
_BACKEND = """
import os, sys

def get_requires_for_build_wheel(config_settings=None):
    return []

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    folder = os.path.abspath("zqbuild")
    os.makedirs(folder, exist_ok=True)
    probes = "".join(f"checking for zq_probe_{i}... no\\n" for i in range(200))
    with open(os.path.join(folder, "zq-config.log"), "w") as log:
        log.write("conftest.c:1:10: fatal error: early/probe.h: No such file or directory\\n")
        log.write(probes)
        log.write("conftest.c:1:10: fatal error: zqlattice/zq.h: No such file or directory\\n")
        log.write("## ---------------- ##\\n## Cache variables. ##\\n## ---------------- ##\\n")
        log.write("ac_cv_header_zq_h=no fatal error: cached/value.h: No such file or directory\\n")
    print(f"entering {folder}/")
    if NAMED_BY == "path":
        sys.exit(f"zq: configuration did not succeed; details in {folder}/zq-config.log")
    sys.exit("zq: configuration did not succeed; details in zq-config.log")
"""


def _failing_build(tmp_path: Path, named_by: str) -> str:
    house = tmp_path / "house"
    house.mkdir()
    pyproject = (
        '[build-system]\nrequires = []\nbuild-backend = "zq_backend"\nbackend-path = ["."]\n'
    )
    backend = f"NAMED_BY = {named_by!r}\n{_BACKEND}"
    sdist = write_sdist(
        house, "zqpkg", "1.0", {"pyproject.toml": pyproject, "zq_backend.py": backend}
    )
    done = proc.run(
        [
            proc.uv_bin(),
            "pip",
            "install",
            "--no-deps",
            "--target",
            str(tmp_path / "target"),
            "--python",
            sys.executable,
            str(sdist),
        ],
        # --no-deps, a local sdist, a backend needing nothing: the index is never asked
        env={**proc.child_env(), "UV_CACHE_DIR": str(tmp_path / "uv-cache"), "UV_NO_INDEX": "1"},
        timeout=120,
    )
    assert not done.ok, done.stdout + done.stderr
    return done.stdout + done.stderr


@pytest.mark.parametrize("named_by", ["path", "bare name"])
def test_the_missing_header_is_found_in_the_log_the_build_names(
    tmp_path: Path, named_by: str
) -> None:
    output = _failing_build(tmp_path, named_by)
    assert "zqlattice" not in output  # only the log says which header it was

    failure = build_failure("zqpkg", output)

    headers = [m.values.get("header") for m in match(failure.text, "build")]
    assert "zqlattice/zq.h" in headers
    # the probes before the end and the values autoconf dumps after the failing check are not needs
    assert "early/probe.h" not in headers
    assert "cached/value.h" not in headers
    assert failure.text.startswith(output)


def test_a_log_that_is_gone_leaves_the_output_as_it_was(tmp_path: Path) -> None:
    output = f"see {tmp_path}/removed/meson-logs/meson-log.txt for details\nsee config.log\n"
    assert build_failure("x", output).text == output


def test_only_the_end_of_a_long_log_is_read(tmp_path: Path) -> None:
    log = tmp_path / "build.log"
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    text = build_failure("x", f"failed: see {log}\n").text
    assert "line 999" in text
    assert f"line {999 - TAIL_LINES}\n" not in text
