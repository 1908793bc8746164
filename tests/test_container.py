"""`generate container` on this machine, building nothing: the Containerfile's stages and what
each installs, the base chosen for the target interpreter, each kind of tool source, the system
packages found carried into the build stage, ownership of all three files (and --force), and a
devcontainer.json that parses; on the example project and on shared real projects.
(The images are built in tests/test_fresh_container.py.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bulletproof.analyze.doctor import diagnose
from bulletproof.cli import main
from bulletproof.generate.container import (
    CONTAINERFILE,
    CONTAINERIGNORE,
    DEVCONTAINER,
    choose_base,
    plan_container,
    render_container,
    write_container,
)
from bulletproof.generate.containertext import RUNTIME_LIST, passes
from bulletproof.generate.owned import is_ours
from bulletproof.generate.toolsource import ToolSource, resolve_tool_source
from bulletproof.host.osinfo import read_os_info
from bulletproof.host.pythons import stat_key, target_from_lock
from bulletproof.knowledge.mappings import ecosystem_for
from bulletproof.lockfile.meta import LockMeta
from bulletproof.lockfile.pylock import write_lock
from bulletproof.model import OsInfo, Selection
from bulletproof.proc import uv_bin
from bulletproof.project import discover
from tests.conftest import not_here, write_project
from tests.fixtures.npmtools import npm_tool
from tests.fixtures.projects import example_copy, shared_project
from tests.fresh.system import REPO

BOOKWORM = OsInfo("debian", version_id="12", version_codename="bookworm")
WHEEL_NAME = "bulletproof-0.1.0-py3-none-any.whl"


def _example(tmp_path: Path) -> Path:
    return example_copy(tmp_path)


def _shared(tmp_path: Path, name: str) -> Path:
    return shared_project(tmp_path, name)


def _generate(project: Path, *extra: str) -> int:
    return main(["generate", "container", str(project), "-q", *extra])


def _stages(containerfile: str) -> dict[str, list[str]]:
    """Each stage's instructions (continuation lines joined), by its name."""
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in containerfile.replace("\\\n", " ").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        found = re.match(r"FROM (\S+) AS (\S+)$", line)
        if found:
            current = stages.setdefault(found.group(2), [line])
        else:
            current.append(line)
    return stages


def _apt_packages(stage: list[str]) -> list[str]:
    line = next(i for i in stage if "apt-get install" in i)
    return line.split("--no-install-recommends", 1)[1].split("&&")[0].split()


def _jsonc(text: str) -> object:
    return json.loads("\n".join(line for line in text.splitlines() if not line.startswith("//")))


def _wheel(tmp_path: Path) -> Path:
    wheel = tmp_path / "dist" / WHEEL_NAME
    wheel.parent.mkdir()
    wheel.write_bytes(b"not installed in these tests: only carried into the build context")
    return wheel


def test_the_example_gets_the_stages_and_a_devcontainer_that_parses(tmp_path: Path) -> None:
    project = _example(tmp_path)
    assert _generate(project, "--base", "mirror.example/debian:trixie") == 0
    text = (project / CONTAINERFILE).read_text()
    stages = _stages(text)
    assert list(stages) == ["build", "runtime", "tests", "final"]
    assert "ARG BASE=mirror.example/debian:trixie" in text
    build, runtime = stages["build"], stages["runtime"]
    assert build[0] == runtime[0].replace("runtime", "build") == "FROM ${BASE} AS build"
    assert _apt_packages(build) == ["python3", "python3-venv", "ca-certificates"]
    # the example targets 3.12; trixie's python3 is 3.13: setup is told to use that one
    assert passes("bulletproof setup /project --locked --yes --python 3.13") in build
    assert passes("bulletproof verify /project") in build
    removal = next(
        i for i, line in enumerate(build) if line.startswith("RUN rm -rf /project/.venv")
    )
    assert "/project/.bulletproof" in build[removal]
    assert removal > build.index("COPY . /project")
    # the run-time stage: no build tools, the packages the build stage found, verified again
    assert "python3-venv" not in _apt_packages(runtime)
    assert _apt_packages(runtime) == ["python3", "ca-certificates", "$(cat", f"{RUNTIME_LIST})"]
    assert "COPY --from=build /project /project" in runtime
    assert passes("bulletproof verify /project") in runtime
    assert passes("bulletproof verify /project --tests") in stages["tests"]
    assert stages["final"][0] == "FROM runtime AS final"
    for stage in ("build", "tests"):
        assert "ARG SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt" in stages[stage]
        assert "ARG PIP_CERT=/etc/ssl/certs/ca-certificates.crt" in stages[stage]
    header = text.split("\n\n", 1)[0]
    assert "`bulletproof generate container code-engine --base mirror.example/debian:trixie`" in (
        header
    )
    assert "bulletproof 0.1.0" in header and "Python 3.12" in header
    assert "not 3.12) is what setup runs with" in header

    config = _jsonc((project / DEVCONTAINER).read_text())
    assert isinstance(config, dict)
    built = (project / ".devcontainer" / config["build"]["dockerfile"]).resolve()
    assert built == (project / CONTAINERFILE).resolve()
    assert (project / ".devcontainer" / config["build"]["context"]).resolve() == project
    assert config["build"]["target"] in stages
    assert config["workspaceFolder"].startswith("/workspaces/")
    assert "bulletproof verify" in config["postCreateCommand"]
    for name in (CONTAINERFILE, DEVCONTAINER, CONTAINERIGNORE):
        assert is_ours(project / name), name
    assert (project / DEVCONTAINER).read_text().splitlines()[-1].startswith("// bulletproof-")


def test_build_output_made_here_stays_out_of_the_context(tmp_path: Path) -> None:
    """cargo's target (its .rustc_info.json) and a tagged cache folder are left out by path; a
    folder merely called target is the project's."""
    project = _example(tmp_path)
    (project / "rust" / "target" / "release").mkdir(parents=True)
    (project / "rust" / "target" / ".rustc_info.json").write_text("{}")
    (project / "cache").mkdir()
    (project / "cache" / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55")
    (project / "code_engine" / "target").mkdir()
    assert _generate(project) == 0
    ignored = (project / CONTAINERIGNORE).read_text().splitlines()
    assert "cache" in ignored and "rust/target" in ignored, ignored
    assert "code_engine/target" not in ignored


def test_the_program_the_build_stage_runs_for_the_runtime_packages_runs(tmp_path: Path) -> None:
    """The one-line program in the Containerfile, run here against a real venv."""
    project = _example(tmp_path)
    assert _generate(project) == 0
    line = next(
        i for i in (project / CONTAINERFILE).read_text().splitlines() if "runtime_needs" in i
    )
    program = line.split('-c "', 1)[1].rsplit('" >', 1)[0]
    env = tmp_path / "venv"
    subprocess.run([uv_bin(), "venv", "-q", str(env)], check=True)
    done = subprocess.run(
        [str(REPO / ".dev/bin/python"), "-c", program.replace("/project/.venv", str(env))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # a bare venv needs nothing the system lacks


@pytest.mark.parametrize(
    ("target", "host", "image", "python"),
    [
        ("3.11", BOOKWORM, "debian:bookworm", ""),
        ("3.13", BOOKWORM, "debian:trixie", ""),
        ("3.12", BOOKWORM, "debian:bookworm", "3.11"),
        ("3.12", OsInfo("ubuntu", version_codename="noble"), "ubuntu:noble", ""),
        ("3.12", OsInfo("fedora", version_id="41"), "debian:trixie", "3.13"),
    ],
)
def test_the_default_base_follows_the_target_then_the_host(
    tmp_path: Path, target: str, host: OsInfo, image: str, python: str
) -> None:
    project = tmp_path / "p"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        f'[project]\nname = "p"\nversion = "1"\n\n[tool.bulletproof]\npython = "{target}"\n'
    )
    tool = resolve_tool_source(None, tmp_path)
    plan = plan_container(discover(project), tool, host=host)
    assert (plan.base.image, plan.setup_python) == (image, python)
    assert choose_base(None, target, host) == plan.base
    stages = _stages(render_container(plan).files[0][1])
    setup = next(i for i in stages["build"] if "bulletproof setup" in i)
    assert setup.split(" || ")[0].endswith(f"--python {python}") == bool(python)


def test_a_base_of_ones_own_runs_setup_with_its_python3(tmp_path: Path) -> None:
    project = _example(tmp_path)
    assert _generate(project, "--base", "registry.local/team/python-base:2") == 0
    text = (project / CONTAINERFILE).read_text()
    assert "ARG BASE=registry.local/team/python-base:2" in text
    assert "--python /usr/bin/python3" in text


def test_the_target_the_lock_records_comes_before_the_config(tmp_path: Path) -> None:
    project = _example(tmp_path)  # [tool.bulletproof] python = "3.12"
    body = b'lock-version = "1.0"\ncreated-by = "uv"\n'
    meta = LockMeta(python="3.11.2", selection=Selection(extras=("db",), dev=False))
    write_lock(project / "pylock.toml", body, meta)
    plan = plan_container(discover(project), resolve_tool_source(None, tmp_path), host=BOOKWORM)
    assert (plan.target, plan.base.image, plan.setup_python) == ("3.11", "debian:bookworm", "")
    text = render_container(plan).files[0][1]
    assert passes("bulletproof setup /project --locked --yes --extra=db --no-dev") + "\n" in text


def test_each_kind_of_tool_source(tmp_path: Path) -> None:
    project = _example(tmp_path)
    wheel = _wheel(tmp_path)
    assert _generate(project, "--tool-source", str(wheel)) == 0
    carried = project / ".bulletproof" / "container" / WHEEL_NAME
    assert carried.read_bytes() == wheel.read_bytes()
    build = _stages((project / CONTAINERFILE).read_text())["build"]
    assert f"COPY .bulletproof/container/{WHEEL_NAME} /opt/bulletproof-dist/{WHEEL_NAME}" in build
    assert any(f"pip install -q /opt/bulletproof-dist/{WHEEL_NAME}" in i for i in build)
    # the build context keeps that folder (only it) of the state folder
    ignore = (project / CONTAINERIGNORE).read_text().splitlines()
    assert ".bulletproof/*" in ignore and "!.bulletproof/container" in ignore
    assert ".venv" in ignore
    assert str(tmp_path) not in (project / CONTAINERFILE).read_text()  # said by name only

    assert _generate(project, "--tool-source", "bulletproof>=0.1,<1") == 0
    text = (project / CONTAINERFILE).read_text()
    assert "pip install -q 'bulletproof<1,>=0.1'" in text  # quoted for the shell
    assert "COPY .bulletproof" not in text
    assert not carried.parent.exists()  # the wheel no longer used is gone

    assert _generate(project) == 0  # the default: this version from the index
    assert "pip install -q bulletproof==0.1.0 " in (project / CONTAINERFILE).read_text()

    source = ToolSource(".", "directory", WHEEL_NAME, wheel)  # as a source folder resolves
    plan = plan_container(discover(project), source, host=BOOKWORM)
    written = write_container(project, render_container(plan))
    assert carried in written and "built from the source folder" in written[1].read_text()


def test_system_packages_setup_fixed_go_into_the_build_stage_only(tmp_path: Path) -> None:
    project = _example(tmp_path)
    (project / ".bulletproof").mkdir()
    fixed = {"kind": "system", "value": "libpq-dev", "what": "install the system package"}
    tried = {"kind": "system", "value": "libfoo-dev", "what": "install the system package"}
    history = [
        {"package": "psycopg2", "signature": "pg", "fix": fixed, "outcome": "fixed"},
        {"package": "foo", "signature": "x", "fix": tried, "outcome": "did not help"},
    ]
    (project / ".bulletproof" / "attempts.json").write_text(json.dumps(history))
    assert _generate(project) == 0
    text = (project / CONTAINERFILE).read_text()
    stages = _stages(text)
    assert _apt_packages(stages["build"])[3:] == ["libpq-dev"]
    assert "libpq-dev" not in _apt_packages(stages["runtime"])
    assert "System packages for the builds: libpq-dev (the fixes setup made" in text


def test_doctors_prediction_from_the_lock_goes_into_the_build_stage(tmp_path: Path) -> None:
    """A lock whose interpreter is still here: doctor's system plan for it (psycopg2 builds from
    source and needs libpq's headers) is what the build stage installs."""
    if ecosystem_for(read_os_info()) not in ("debian-12", "debian-13"):
        not_here("the system package names asserted are Debian's")
    project = write_project(tmp_path / "p", "psycopg2\n")
    python = Path(sys.executable).resolve()
    body = b'lock-version = "1.0"\n[[packages]]\nname = "psycopg2"\nversion = "2.9.9"\n'
    version = ".".join(map(str, sys.version_info[:3]))
    meta = LockMeta(python=version, python_path=str(python), python_stat=stat_key(python))
    write_lock(project / "pylock.toml", body, meta)
    found = discover(project)
    plan = plan_container(found, resolve_tool_source(None, tmp_path), host=BOOKWORM)
    target = target_from_lock(meta, found, None)
    assert target is not None
    predicted = diagnose(found, target, project / "pylock.toml", read_os_info(), ()).system.needed
    assert "libpq-dev" in predicted
    assert plan.build_packages == predicted
    assert plan.packages_from.startswith("doctor's prediction from pylock.toml, on ")
    assert plan.target == ".".join(version.split(".")[:2])
    build = _stages(render_container(plan).files[0][1])["build"]
    assert _apt_packages(build)[3:] == list(predicted)


def test_a_file_the_user_owns_is_never_replaced_without_force(tmp_path: Path) -> None:
    project = _example(tmp_path)
    (project / CONTAINERFILE).write_text("FROM scratch\n")
    assert _generate(project) != 0
    assert (project / CONTAINERFILE).read_text() == "FROM scratch\n"
    # checked before anything is written: the other files are not made either
    assert not (project / DEVCONTAINER).exists() and not (project / CONTAINERIGNORE).exists()
    assert _generate(project, "--force") == 0
    assert is_ours(project / CONTAINERFILE)
    assert _generate(project) == 0  # ours and unchanged: replaced freely

    config = project / DEVCONTAINER
    config.write_text(config.read_text().replace('"target": "final"', '"target": "tests"'))
    assert not is_ours(config)
    assert _generate(project) != 0
    assert '"target": "tests"' in config.read_text()
    assert _generate(project, "--force") == 0
    assert is_ours(config) and '"target": "final"' in config.read_text()


def test_output_is_refused_for_the_container(tmp_path: Path) -> None:
    project = _example(tmp_path)
    assert _generate(project, "--output", str(tmp_path / "elsewhere")) != 0
    assert not (project / CONTAINERFILE).exists()


def test_the_projects_dockerignore_is_kept(tmp_path: Path) -> None:
    project = _example(tmp_path)
    (project / ".dockerignore").write_text("secrets/\n*.sqlite\n")
    assert _generate(project) == 0
    ignore = (project / CONTAINERIGNORE).read_text().splitlines()
    assert ignore.index("secrets/") > ignore.index(".venv")
    assert "*.sqlite" in ignore


@pytest.mark.parametrize("name", ["responses", "hvac", "plaster_pastedeploy"])
def test_shared_projects(tmp_path: Path, name: str) -> None:
    project = _shared(tmp_path, name)
    before = {p.name for p in project.iterdir()}
    assert _generate(project, "--base", "localhost/base:bookworm") == 0
    made = {p.name for p in project.iterdir()} - before
    assert made == {CONTAINERFILE, ".devcontainer", CONTAINERIGNORE}
    text = (project / CONTAINERFILE).read_text()
    stages = _stages(text)
    assert list(stages) == ["build", "runtime", "tests", "final"]
    found = discover(project)
    assert f"for {found.name}." in text.splitlines()[0]
    # no target named by the project: setup picks the image's python3 by requires-python
    setup = next(i for i in stages["build"] if "bulletproof setup" in i)
    assert "--python" not in setup
    config = _jsonc((project / DEVCONTAINER).read_text())
    assert isinstance(config, dict) and config["name"] == found.name


def test_a_machines_settings_never_go_into_the_image(tmp_path: Path) -> None:
    """.env and .env.* (secrets among them) are left out of the build context, and removed in
    the build stage for a builder that reads only .dockerignore; the templates stay. The removal
    is run here, on files made in the test."""
    from bulletproof.generate import containertext

    project = _example(tmp_path)
    assert _generate(project) == 0
    ignore = (project / CONTAINERIGNORE).read_text().splitlines()
    assert {".env", ".env.*", "!.env.example", "!.env.template"} <= set(ignore)
    assert any(
        "-delete" in line for line in _stages((project / CONTAINERFILE).read_text())["build"]
    )
    folder = tmp_path / "project"
    folder.mkdir()
    for name in (
        ".env",
        ".env.local",
        ".env.production",
        ".env.example",
        ".env.template",
        "app.py",
    ):
        (folder / name).write_text("JWT_SECRET=zq-never-in-an-image\n")
    command = containertext._REMOVE_SETTINGS.replace(containertext.PROJECT, str(folder))
    subprocess.run(["sh", "-c", command], check=True)
    assert sorted(p.name for p in folder.iterdir()) == [".env.example", ".env.template", "app.py"]


@pytest.mark.parametrize(
    ("code", "only_verified", "passed"),
    [(0, "", True), (4, "", True), (1, "", False), (6, "", False), (0, "1", True), (4, "1", False)],
)
def test_a_step_passes_verified_or_usable_and_only_verified_when_asked(
    code: int, only_verified: str, passed: bool
) -> None:
    """The shell of a bulletproof step, run as the builder runs it (sh -c, the build argument in
    the environment), with the step's exit code made here."""
    line = passes(f"sh -c 'exit {code}'").removeprefix("RUN ")
    done = subprocess.run(["sh", "-c", line], env={"ONLY_VERIFIED": only_verified}, check=False)
    assert (done.returncode == 0) is passed


DEVCONTAINERS_CLI = "@devcontainers/cli@0.89.0"


@pytest.mark.registry
@pytest.mark.slow
def test_the_devcontainer_cli_reads_the_configuration(tmp_path: Path) -> None:
    """The Dev Containers reference tool (from the npm registry) reads devcontainer.json as
    written, comments and marker line included, and finds the Containerfile's final stage.
    It asks docker for running containers first: none runs here, so `true` answers for it."""
    cli = npm_tool("devcontainers-cli", DEVCONTAINERS_CLI, ".bin/devcontainer")
    project = _example(tmp_path)
    subprocess.run(["git", "init", "-q", str(project)], check=True)  # a workspace of its own
    assert _generate(project) == 0
    argv = [str(cli), "read-configuration", "--docker-path", shutil.which("true") or "true"]
    done = subprocess.run(
        [*argv, "--workspace-folder", str(project)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    read = json.loads(done.stdout)
    config = read["configuration"]
    assert config["build"] == {"dockerfile": "../Containerfile", "context": "..", "target": "final"}
    assert config["postCreateCommand"] == "bulletproof verify /project"
    assert read["workspace"]["workspaceFolder"] == "/workspaces/code-engine"
