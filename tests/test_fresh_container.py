"""`generate container`, built: the Containerfile made for a project, built here with buildah
(chroot isolation, vfs storage, from the bookworm fresh-system tarball imported as a local image:
no image registry is reachable) with bulletproof installed from this repository's wheel. The
example project's image builds, setup and verify running inside it (the build log shows them,
and the run-time stage verifies again without the build stage's packages); a project whose
environment cannot verify makes the build fail, and the log names why. Two shared real projects
(third-party code, unmodified) build the same way, one from Debian 12, one from Debian 13 (that
one in `make test-all` only).

Needs root, buildah, podman and the package registries; uv's and pip's caches are mounted into
the build for speed (tests only: the files generated do not depend on them).
"""

from __future__ import annotations

import re
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest

from bulletproof.cli import main
from tests.fixtures.projects import BUILT
from tests.fresh.images import base_image, build, buildah
from tests.fresh.system import CACHE, REPO
from tests.test_fresh_projects import PROJECTS, PROJECTS_DIR

pytestmark = [pytest.mark.fresh, pytest.mark.registry, pytest.mark.slow]

SUITE = "bookworm"
EXAMPLE = REPO / "examples" / "code-engine"
BROKEN_MODULE = "no_such_library_anywhere"


def _caches() -> list[str]:
    mounts = []
    for inside, outside in (
        ("/root/.cache/uv", CACHE / "uv-container"),
        ("/root/.cache/pip", CACHE / "pip"),
    ):
        outside.mkdir(parents=True, exist_ok=True)
        mounts.append(f"{outside}:{inside}")
    return mounts


def _generate(project: Path, wheel: Path, suite: str = SUITE) -> None:
    argv = ["generate", "container", str(project), "-q", "--base", base_image(suite)]
    assert main([*argv, "--tool-source", str(wheel)]) == 0


def _in_image(image: str, tmp_path: Path) -> Path:
    """The image's files, mounted through a working container (nothing is run in it)."""
    made = buildah(["from", "--pull-never", "--name", f"look-{tmp_path.name}", image])
    assert made.returncode == 0, made.stderr
    mounted = buildah(["mount", made.stdout.strip()])
    assert mounted.returncode == 0, mounted.stderr
    return Path(mounted.stdout.strip())


def test_the_example_image_builds_verified_inside(tmp_path: Path, bulletproof_wheel: Path) -> None:
    project = tmp_path / "code-engine"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns(".venv", ".bulletproof", *BUILT)
    )
    _generate(project, bulletproof_wheel)
    tag = "localhost/bulletproof-test-example"
    done = build(project, tag, volumes=_caches())
    log = done.stdout
    assert done.returncode == 0, log[-6000:]
    build_stage, _, rest = log.partition("AS runtime")
    # setup and verify ran in the build stage, verify again in the run-time stage
    assert "bulletproof setup /project --locked --yes --python 3.11" in build_stage
    assert "verified: /project/.venv switched to gen-" in build_stage
    assert "RUN bulletproof verify /project" in rest
    assert "verified: /project/.venv" in rest
    assert "AS tests" not in log  # the tests stage is built only when asked for
    root = _in_image(tag, tmp_path)
    try:
        assert (root / "project/.venv/bin/python").exists()
        assert (root / "opt/bulletproof/bin/bulletproof").exists()
        assert not (root / "project/.bulletproof/container").exists()
        # the packages the build stage found the environment loads at run time, handed over and
        # installed in the run-time image (the example's compiled wheels need libstdc++ at least)
        wanted = (root / "opt/bulletproof/runtime-packages").read_text().split()
        assert "libstdc++6" in wanted
        status = (root / "var/lib/dpkg/status").read_text().split("\n\n")
        installed = {b.split("\n", 1)[0] for b in status if "install ok installed" in b}
        assert {f"Package: {name}" for name in wanted} <= installed
    finally:
        buildah(["rm", f"look-{tmp_path.name}"])
        buildah(["rmi", tag])


def test_an_environment_that_does_not_verify_fails_the_build(
    tmp_path: Path, bulletproof_wheel: Path
) -> None:
    project = tmp_path / "broken"
    (project / "broken").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "broken"\nversion = "1.0"\nrequires-python = ">=3.9"\n'
        'dependencies = []\n\n[build-system]\nrequires = ["hatchling"]\n'
        'build-backend = "hatchling.build"\n'
    )
    # the project's own module needs a library no package provides
    (project / "broken" / "__init__.py").write_text(f"import {BROKEN_MODULE}\n")
    _generate(project, bulletproof_wheel)
    tag = "localhost/bulletproof-test-broken"
    done = build(project, tag, volumes=_caches())
    log = done.stdout
    assert done.returncode != 0, log[-6000:]
    # it stopped at bulletproof's own step in the build stage, saying what does not import
    assert "AS runtime" not in log
    steps = list(re.finditer(r"^\[\d+/\d+\] STEP \d+/\d+: (.*)$", log, re.MULTILINE))
    assert steps, log[-3000:]
    failed, output = steps[-1].group(1), log[steps[-1].end() :]
    assert failed.startswith(("RUN bulletproof setup /project", "RUN bulletproof verify")), failed
    assert BROKEN_MODULE in output
    assert buildah(["inspect", "--type", "image", tag]).returncode != 0  # no image made


# projects that set up verified (a usable one's build stops at its setup step, exit 4), each from
# a fresh system of a release its python3 suits: a setup.cfg project on Debian 12 (built in
# about 90 s: CI builds it) and a requirements-dir one on Debian 13
SHARED: dict[str, tuple[str, tuple[pytest.MarkDecorator, ...]]] = {
    "plaster_pastedeploy": ("bookworm", ()),
    "aiosignal": ("trixie", (pytest.mark.exhaustive,)),
}


@pytest.mark.skipif(not PROJECTS, reason="../shared/cases/projects is not beside the repository")
@pytest.mark.parametrize(
    ("project", "suite"),
    [
        pytest.param(p, SHARED[p["name"]][0], id=p["name"], marks=SHARED[p["name"]][1])
        for p in PROJECTS
        if p["name"] in SHARED
    ],
)
def test_a_shared_projects_image_builds_verified_inside(
    project: dict[str, Any], suite: str, tmp_path: Path, bulletproof_wheel: Path
) -> None:
    folder = tmp_path / project["name"]
    folder.mkdir()
    with tarfile.open(PROJECTS_DIR / f"{project['name']}.tar.gz") as archive:
        archive.extractall(folder, filter="data")
    _generate(folder, bulletproof_wheel, suite)
    tag = f"localhost/bulletproof-test-{project['name'].replace('_', '-')}"
    done = build(folder, tag, volumes=_caches())
    log = done.stdout
    assert done.returncode == 0, log[-6000:]
    build_stage, _, rest = log.partition("AS runtime")
    # the project names no interpreter: setup takes the image's python3
    setup = re.search(r"RUN bulletproof setup /project --locked --yes.*", build_stage)
    assert setup and "--python" not in setup.group(0), build_stage[-3000:]
    assert "verified: /project/.venv switched to gen-" in build_stage
    assert "RUN bulletproof verify /project" in rest
    assert "verified: /project/.venv" in rest
    root = _in_image(tag, tmp_path)
    try:
        # what its developers import is there: installed in the environment, or the project's
        # own folders (run from the folder, or installed in place)
        (lib,) = (root / "project/.venv/lib").iterdir()
        places = [lib / "site-packages", root / "project", root / "project/src"]
        for module in project["imports"]:
            path = module.replace(".", "/")
            assert any(
                (place / path).is_dir() or (place / f"{path}.py").is_file() for place in places
            ), module
        assert not (root / "project/.bulletproof/container").exists()
    finally:
        buildah(["rm", f"look-{tmp_path.name}"])
        buildah(["rmi", tag])
