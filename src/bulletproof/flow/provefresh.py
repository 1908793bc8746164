"""`prove DIR --fresh SUITE`: the project stood up by bulletproof itself on a fresh system of
that Debian release, and how that environment differs from the local one.

A copy of the project (never the user's folder; its environment and state left out) becomes a
scratch build context; `generate container`'s files are rendered into it for the release, with
two stages after them: ``prove`` runs ``verify --tests --json`` in the verified run-time image
and keeps its exit code, and ``report`` (from scratch) holds only that report, which buildah
writes out of the build (``--output type=local``). The fresh environment's fingerprint, taken
inside by that verify, is compared with DIR/.venv's."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bulletproof import proc
from bulletproof.errors import BulletproofError, EnvironmentFault, ExitCode, InputError, ToolError
from bulletproof.fsutil import NOT_PROJECT_FILES, is_build_output
from bulletproof.generate.container import (
    CONTAINERFILE,
    CONTAINERIGNORE,
    RELEASE_PYTHON,
    BaseImage,
    plan_container,
    render_container,
    write_container,
)
from bulletproof.generate.containertext import CA_BUNDLE, PROJECT
from bulletproof.generate.toolsource import resolve_tool_source
from bulletproof.model import Project
from bulletproof.project import discover
from bulletproof.reporter import Reporter
from bulletproof.verify.fingerprint import Fingerprint, fingerprint
from bulletproof.verify.fingerprintdiff import Difference, diff

SUITES = RELEASE_PYTHON["debian"]  # the releases a fresh system can be: codename -> python3
BUILD_TIMEOUT = 3600.0
OUT = "/out"  # inside the prove stage: the report, the exit code, verify's output
# the build context leaves out what was made here for this machine (NOT_PROJECT_FILES' state
# and caches, a virtual environment by any name) but keeps version control: a project's
# version may be read from it (setuptools-scm, hatch-vcs)
_KEPT_STATE = frozenset({".git", ".hg", ".svn"})


@dataclass(frozen=True)
class FreshOptions:
    suite: str  # "bookworm", "trixie"
    base: str | None = None  # --base: the image of that release to start from
    tool_source: str | None = None  # --tool-source: where the build installs bulletproof from
    timeout: float = BUILD_TIMEOUT


@dataclass(frozen=True)
class FreshProof:
    """What `prove --fresh` came to; on an error, what was learned before it."""

    directory: Path
    suite: str
    base: str = ""  # the image the build started from
    project: Project | None = None
    local: Fingerprint | None = None
    fresh: Fingerprint | None = None
    differences: tuple[Difference, ...] = ()
    fresh_code: int | None = None  # the exit code of verify --tests on the fresh system
    fresh_message: str = ""  # its closing line
    fresh_tests: str = ""  # what the project's tests did there ("no tests found there", counts)
    build_code: int | None = None  # the failed build step's exit status (None: built)
    build_log: str = ""  # the end of the build's output, when it failed
    seconds: float = 0.0  # the build, from the first stage to the report out
    error: BulletproofError | None = None

    @property
    def exit_code(self) -> ExitCode:
        if self.error is not None:
            return ExitCode(self.error.exit_code)
        code = self.build_code if self.build_code is not None else self.fresh_code
        if code is None:
            return ExitCode.FAILED
        try:
            return ExitCode(code)
        except ValueError:  # not one of ours (a tool's own status in a failed build step)
            return ExitCode.FAILED

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "base": self.base,
            "seconds": round(self.seconds, 1),
            "fresh": {
                "exit_code": self.fresh_code,
                "message": self.fresh_message,
                "tests": self.fresh_tests,
                "log": self.build_log,  # the end of verify's output there when it failed
            }
            if self.fresh_code is not None
            else None,
            "build": {"exit_code": self.build_code, "log": self.build_log}
            if self.build_code is not None
            else None,
            "local_fingerprint": self.local.to_dict() if self.local else None,
            "fresh_fingerprint": self.fresh.to_dict() if self.fresh else None,
            "differences": [d.to_dict() for d in self.differences],
        }


def prove_fresh(directory: Path, options: FreshOptions, ui: Reporter) -> FreshProof:
    result = FreshProof(directory, options.suite)
    try:
        if options.suite not in SUITES:
            known = ", ".join(sorted(SUITES))
            raise InputError(f"--fresh {options.suite}: not a release to prove on ({known})")
        project = discover(directory)
        result = replace(result, project=project)
        venv = project.root / ".venv"
        if not (venv / "bin" / "python").exists():
            raise InputError(
                f"no local environment at {venv}: prove compares the fresh one with it",
                hint=f"run first: bulletproof setup {directory}",
            )
        builder = find_builder()
        with ui.step("Fingerprinting the local environment") as detail:
            local = fingerprint(venv.resolve())
            detail.append(f"{len(local.distributions)} distributions")
        result = replace(result, local=local)
        with tempfile.TemporaryDirectory(prefix="bulletproof-prove-") as scratch:
            result = _build(
                result, project, builder=builder, options=options, scratch=Path(scratch), ui=ui
            )
        if result.fresh is not None:
            result = replace(result, differences=diff(local, result.fresh))
        return result
    except BulletproofError as exc:
        return replace(result, error=exc)


def find_builder() -> str:
    found = shutil.which("buildah")
    if found is None:
        raise EnvironmentFault(
            "no container builder: buildah is not on PATH",
            hint="install buildah (Debian, Ubuntu: apt-get install buildah; Fedora: dnf "
            "install buildah): the fresh system is built as a container image",
        )
    return found


def _build(
    result: FreshProof,
    project: Project,
    *,
    builder: str,
    options: FreshOptions,
    scratch: Path,
    ui: Reporter,
) -> FreshProof:
    context = scratch / "context"
    with ui.step("Copying the project into a build context") as detail:
        copy_project(project.root, context)
        detail.append(str(context))
    base = BaseImage(
        options.base or f"debian:{options.suite}",
        SUITES[options.suite],
        f"a fresh {options.suite} system",
    )
    command = f"bulletproof prove {project.root.name} --fresh {options.suite}"
    source = resolve_tool_source(options.tool_source, scratch / "tool")
    # the project's .dockerignore is left out: it is written for its own image and may leave
    # out the tests (stella's: **/*test.py), which prove runs there; the context is a copy
    # without this machine's state already, and no image of it outlives the build
    plan = replace(plan_container(project, source, command=command), base=base, dockerignore="")
    rendered = render_container(plan)
    # the project's .env (its tests may need its settings) goes into the prove stage alone, in a
    # scratch image removed after the build; the generated files keep it out of every image
    settings = (project.root / ".env").is_file()
    files = tuple(
        (name, _for_prove(name, text, settings=settings)) for name, text in rendered.files
    )
    write_container(context, replace(rendered, files=files), force=True)  # a scratch copy
    result = replace(result, base=base.image)
    out = scratch / "out"
    with ui.step(f"Building and proving it on a fresh {options.suite} ({base.image})") as detail:
        done = run_build(builder, context, out, scratch / "image-id", options.timeout)
        detail.append(f"{done.seconds:.0f} s")
    result = replace(result, seconds=done.seconds)
    if not done.ok:
        log = (done.stdout + done.stderr)[-6000:]
        return replace(result, build_code=failed_status(log), build_log=log)
    return read_report(result, out)


def copy_project(root: Path, context: Path) -> None:
    """The project's files as they are, without what was made here for this machine."""

    def left_out(folder: str, names: list[str]) -> set[str]:
        return {
            name
            for name in names
            if (name in NOT_PROJECT_FILES and name not in _KEPT_STATE)
            or name.startswith(".venv")
            or (Path(folder, name) / "pyvenv.cfg").is_file()
            or is_build_output(Path(folder, name))
        }

    shutil.copytree(root, context, symlinks=True, ignore=left_out)


def _for_prove(name: str, text: str, *, settings: bool) -> str:
    if name == CONTAINERFILE:
        return text + prove_stages(settings=settings)
    if name == CONTAINERIGNORE and settings:
        return text + "!.env\n"
    return text


def prove_stages(*, settings: bool = False) -> str:
    """The stages after the rendered ones: the tests run in the run-time image with their exit
    code kept (a failure is reported, not a failed build), and the report alone to export;
    ``settings``: the project's .env is copied in for them (the build stage removed it)."""
    verify = f"bulletproof verify {PROJECT} --tests --json {OUT}/report.json"
    tls = [f"ARG {n}={CA_BUNDLE}" for n in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE")]
    return "\n".join(
        [
            "",
            "# bulletproof prove --fresh: the project's tests on the fresh system, and the report",
            "FROM runtime AS prove",
            *tls,
            *([f"COPY .env {PROJECT}/.env"] if settings else []),
            f"RUN mkdir -p {OUT} && {{ {verify} > {OUT}/verify.log 2>&1; "
            f"echo $? > {OUT}/exit-code; }}",
            "FROM scratch AS report",
            f"COPY --from=prove {OUT}/ /",
            "",
        ]
    )


def run_build(
    builder: str, context: Path, out: Path, image_id: Path, timeout: float
) -> proc.Completed:
    """buildah as this machine allows (chroot isolation, vfs storage), the report stage only
    (stages it does not need are skipped); the image it leaves is removed."""
    argv = [builder, "bud", "--isolation", "chroot", "--storage-driver", "vfs", "--layers=false"]
    argv += ["--force-rm", "--target", "report", "--output", f"type=local,dest={out}"]
    argv += ["--iidfile", str(image_id), "-f", str(context / CONTAINERFILE), str(context)]
    try:
        return proc.run(argv, timeout=timeout)
    finally:
        if image_id.is_file():
            made = image_id.read_text().strip()
            proc.run([builder, "rmi", "--storage-driver", "vfs", made], timeout=300.0)


def failed_status(log: str) -> int:
    """The exit status of the step that failed (bulletproof's own, for its setup or verify
    steps), as buildah says it; 1 when it does not say one."""
    found = re.findall(r"exit status (\d+)", log)
    return int(found[-1]) if found else int(ExitCode.FAILED)


def read_report(result: FreshProof, out: Path) -> FreshProof:
    try:
        code = int((out / "exit-code").read_text().strip())
        report = json.loads((out / "report.json").read_text())
    except (OSError, ValueError) as exc:
        said = _read_or_empty(out / "verify.log")
        raise ToolError(
            f"the build did not bring out verify's report: {exc}", detail=said[-4000:]
        ) from None
    try:
        fresh = Fingerprint.from_dict(report["fingerprint"]) if report.get("fingerprint") else None
    except ValueError as exc:
        raise ToolError(f"the fresh system's fingerprint cannot be read: {exc}") from None
    return replace(
        result,
        fresh_code=code,
        fresh_message=str(report.get("result", {}).get("message", "")),
        fresh_tests=said_of_tests(report.get("tests")),
        fresh=fresh,
        build_log="" if code == 0 else _read_or_empty(out / "verify.log")[-6000:],
    )


def said_of_tests(tests: object) -> str:
    """What the tests did on the fresh system, from its report's ``tests`` object: a verdict
    with no test run behind it is said as such, not left to look like a pass."""
    if not isinstance(tests, dict) or not tests.get("found"):
        return "no tests found there"
    counts = tests.get("counts") or {}
    said = [f"{n} {outcome}" for outcome, n in counts.items() if n]
    return "tests there: " + (", ".join(said) or "none ran")


def _read_or_empty(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
