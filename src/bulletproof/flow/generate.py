"""`generate WHAT DIR`: write one of the files around the environment for the team and say what
(`Done`). Each kind has its own function here; what it writes is the `generate` package's."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bulletproof.code.envvars import env_vars
from bulletproof.errors import BulletproofError, InputError
from bulletproof.flow.results import Done
from bulletproof.generate.cimatrix import choose_matrix, read_metadata
from bulletproof.generate.ciworkflow import (
    NAME,
    Workflow,
    lock_files,
    repository_folder,
    write_workflow,
)
from bulletproof.generate.ciworkflow import render as render_workflow
from bulletproof.generate.container import plan_container, render_container, write_container
from bulletproof.generate.envtemplate import find_example, render, write_template
from bulletproof.generate.script import setup_options, write_script
from bulletproof.generate.toolsource import resolve_tool_source
from bulletproof.generate.troubleshooting import write as write_troubleshooting
from bulletproof.project import discover


@dataclass(frozen=True)
class GenerateOptions:
    """What `generate` was asked for beyond the kind and the folder."""

    output: Path | None = None  # --output: write there instead of into DIR
    force: bool = False  # --force: replace a file bulletproof did not write, or one edited since
    base: str | None = None  # --base: the image a container starts from
    tool_source: str | None = None  # --tool-source: where a generated file installs bulletproof


def generate(what: str, directory: Path, options: GenerateOptions) -> Done:
    try:
        return KINDS[what](directory, options)
    except BulletproofError as exc:
        return Done("", error=exc)


def _env(directory: Path, options: GenerateOptions) -> Done:
    root = directory.resolve()  # reads only the code: any folder of Python files will do
    if not root.is_dir():
        raise InputError(f"{directory}: no such folder")
    variables = env_vars(root)
    text = render(root.name, variables, find_example(root))
    path = write_template(root, text, output=options.output, force=options.force)
    required = sum(v.required for v in variables)
    return Done(f"wrote {path}: {len(variables)} variables, {required} required")


def _troubleshooting(directory: Path, options: GenerateOptions) -> Done:
    project = discover(directory)
    path = write_troubleshooting(
        project.root, project.name, output=options.output, force=options.force
    )
    return Done(f"wrote {path}", project=project)


def _script(directory: Path, options: GenerateOptions) -> Done:
    project = discover(directory)
    with tempfile.TemporaryDirectory(prefix="bulletproof-tool-") as scratch:
        source = resolve_tool_source(options.tool_source, Path(scratch))
        written = write_script(project, source, output=options.output, force=options.force)
    said = (f"wrote the wheel it installs beside it: {written.wheel}",) if written.wheel else ()
    given = " ".join(written.setup_options) or "no option beyond the project's own"
    return Done(f"wrote {written.script} (setup: {given})", said=said, project=project)


def _container(directory: Path, options: GenerateOptions) -> Done:
    if options.output is not None:
        raise InputError(
            "generate container writes several files into DIR (the build context): --output "
            "is for the kinds that write one",
            hint="copy the project elsewhere and generate there to keep DIR as it is",
        )
    project = discover(directory)
    command = ["bulletproof generate container", project.root.name]
    if options.base:
        command += ["--base", options.base]
    if options.tool_source:  # a path is said by its last name only: no machine's folders
        command += ["--tool-source", Path(options.tool_source).name or options.tool_source]
    with tempfile.TemporaryDirectory(prefix="bulletproof-tool-") as scratch:
        source = resolve_tool_source(options.tool_source, Path(scratch))
        plan = plan_container(project, source, base=options.base, command=" ".join(command))
        written = write_container(project.root, render_container(plan), force=options.force)
    said: tuple[str, ...] = ()
    if plan.setup_python:  # the image builds another interpreter's environment than here
        said = (
            f"the project's target is Python {plan.target}; setup in the image runs with its "
            f"python3: --python {plan.setup_python}",
        )
    names = ", ".join(str(p.relative_to(project.root)) for p in written)
    message = f"wrote {names} in {project.root} (from {plan.base.image}: {plan.base.why})"
    return Done(message, said=said, project=project)


def _ci(directory: Path, options: GenerateOptions) -> Done:
    spec = options.tool_source
    if spec and _on_this_machine(spec):
        raise InputError(
            f"--tool-source {spec}: a file or folder on this machine, which a CI runner cannot "
            "reach",
            hint="name a requirement pip takes there: bulletproof==VERSION from the index, or "
            "'bulletproof @ git+https://...' (default: this same version from the index)",
        )
    project = discover(directory)
    matrix = choose_matrix(read_metadata(project))
    command = ["bulletproof generate ci", project.root.name]
    if spec:
        command += ["--tool-source", spec]
    with tempfile.TemporaryDirectory(prefix="bulletproof-tool-") as scratch:
        source = resolve_tool_source(spec, Path(scratch))  # a requirement: nothing is built
    repository, folder = repository_folder(project.root)
    flow = Workflow(
        project.name,
        matrix,
        source,
        setup_options(project),
        lock_files(project),
        " ".join(command),
        folder,
    )
    path = write_workflow(
        project.root, render_workflow(flow), output=options.output, force=options.force
    )
    jobs = len(matrix.pythons) * len(matrix.systems)
    said = tuple(f"left out: {line}" for line in matrix.left_out)
    if folder and options.output is None:  # GitHub reads no workflow below the root
        said += (
            f"{project.root} is the folder {folder} of the repository {repository}: GitHub "
            f"reads workflows only from {repository / NAME}; --output names that path",
        )
    message = (
        f"wrote {path}: {jobs} jobs (Python {', '.join(matrix.pythons)} on "
        f"{', '.join(matrix.systems)}), then bulletproof diff of their reports"
    )
    return Done(message, said=said, project=project)


def _on_this_machine(spec: str) -> bool:
    """Whether --tool-source names a wheel or folder here; a requirement, a URL one included
    (bulletproof @ https://...), is reachable from a CI runner."""
    if "://" in spec or "@" in spec:
        return False
    return spec.endswith(".whl") or Path(spec).expanduser().exists()


# the kinds `generate` writes, in the order --help lists them
KINDS: dict[str, Callable[[Path, GenerateOptions], Done]] = {
    "troubleshooting": _troubleshooting,
    "env": _env,
    "script": _script,
    "container": _container,
    "ci": _ci,
}
