"""One function per command: run its flow, print the summary, write the JSON report."""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from rich.markup import escape

from bulletproof.analyze.doctor import diagnose
from bulletproof.apply.install import OWN_BUILD_ERROR
from bulletproof.code.envvars import env_vars
from bulletproof.errors import BulletproofError, InputError
from bulletproof.flow import Outcome, choose_target, locked_run, setup, verify_only
from bulletproof.generate.envtemplate import find_example, render, write_template
from bulletproof.generate.troubleshooting import save_attempts
from bulletproof.generate.troubleshooting import write as write_troubleshooting
from bulletproof.host.probe import probe_host
from bulletproof.lockfile.lock import LOCK_NAME, lock, read_lock_meta
from bulletproof.mitigate.consent import Unfixable
from bulletproof.model import Finding, Host, LockResult, Project, Selection, Severity, Verdict
from bulletproof.project import discover
from bulletproof.prove.projecttests import check_tests
from bulletproof.prove.projecttests import to_dict as tests_dict
from bulletproof.redaction import learn_run
from bulletproof.report import jsonreport
from bulletproof.report.mitigation import print_attempts, summary
from bulletproof.report.terminal import (
    Ui,
    print_diagnosis,
    print_host,
    print_own_build_error,
    print_tests,
    print_verification,
)

EXIT_USABLE = 4  # as cli.EXIT_USABLE; kept here so that commands does not import the CLI
EXIT_INCOMPLETE = 6  # as cli.EXIT_INCOMPLETE
EXIT_OUT_OF_DATE = 5  # as cli.EXIT_OUT_OF_DATE


def run(args: argparse.Namespace, ui: Ui) -> int:
    """Run one command and return its exit code. What the command learned before an error
    (the target, the lock, the attempts) stays in this call's ``Outcome``, so the JSON report of
    a failed run still has it."""
    handlers = {
        "setup": _setup,
        "verify": _verify,
        "doctor": _doctor,
        "rollback": _rollback,
        "generate": _generate,
    }
    # before anything is printed or written: every secret the run can see, learned by value
    learn_run(args.directory)
    out = Outcome()
    if problem := _unwritable_report(getattr(args, "json", None)):
        # said before any work: a run that switched and then could not report is worse
        ui.errors.print(f"[bold red]error:[/] {escape(problem)}")
        return InputError.exit_code
    try:
        return handlers[args.command](args, ui, out)
    except BulletproofError as exc:
        _report_error(args, ui, out, exc)
        return exc.exit_code


def _unwritable_report(path: Path | None) -> str | None:
    """Why the --json report could not be written there, found by writing a scratch file
    beside it (permissions alone mislead: root, read-only mounts, full disks)."""
    if path is None:
        return None
    if path.is_dir():
        return f"--json {path}: is a folder; name a file"
    folder = path.parent
    if not folder.is_dir():
        return f"--json {path}: the folder {folder} does not exist"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.", suffix=".check"):
            pass
    except OSError as exc:
        return f"--json {path}: cannot write in {folder} ({exc.strerror or exc})"
    if path.exists() and not os.access(path, os.W_OK):
        return f"--json {path}: the file is not writable"
    return None


def _finish(
    args: argparse.Namespace,
    ui: Ui,
    out: Outcome,
    code: int,
    message: str,
    *,
    host: Host | None = None,
) -> int:
    colour = "green" if code == 0 else "red"
    ui.out.print(f"[bold {colour}]{escape(message)}[/]")
    _write_json(args, ui, out, code, message, host=host)
    return code


def _write_json(
    args: argparse.Namespace, ui: Ui, out: Outcome, code: int, message: str, *, host: Host | None
) -> None:
    json_path: Path | None = getattr(args, "json", None)
    if json_path is None:
        return
    report = jsonreport.build(
        ui.record,
        exit_code=code,
        message=message,
        host=host or probe_host(),  # probed only for the report: the fast path skips it
        target=out.target,
        lock=out.lock,
        environment=out.environment(),
        verification=out.verification,
        diagnosis=out.diagnosis,
    )
    report["mitigation"] = [a.as_dict() for a in out.attempts]
    report["tests"] = tests_dict(out.tests) if out.tests else None
    report["out_of_date"] = list(out.stale)
    report["stopped_short"] = out.short or None
    report["set_aside"] = [s.as_dict() for s in out.set_aside]
    report["incomplete"] = (
        {
            "why": out.short,
            "kept": out.kept,
            "left_for_rollback": out.extra.get("left_for_rollback"),
        }
        if out.incomplete
        else None
    )
    jsonreport.write(json_path, report)


def _setup(args: argparse.Namespace, ui: Ui, out: Outcome) -> int:
    venv = args.directory / ".venv"
    try:
        setup(
            args.directory,
            args.python,
            ui,
            out,
            full=args.full,
            import_timeout=args.import_timeout,
            lock_timeout=args.lock_timeout,
            assume_yes=args.yes,
            system=not args.no_system,
            selection=selection_of(args),
            strict=args.strict,
        )
    except Unfixable as exc:
        if out.verification is not None:
            print_verification(ui.out, out.verification)
        _report_attempts(args, ui, out)
        ui.out.print(f"[cyan]hint:[/] {escape(exc.hint)}" if exc.hint else "")
        kept = "left as it was" if out.generation or (venv / "bin").exists() else "not created"
        return _finish(args, ui, out, 1, f"not verified: {exc.message}; {venv} {kept}")
    # setup returns only with a verified or usable environment: what fails raises Unfixable
    assert out.verification is not None
    print_verification(ui.out, out.verification)
    _report_attempts(args, ui, out)
    if fixed := summary(out.attempts):
        ui.out.print(escape(fixed))
    if own_error := _own_build_error(out):
        print_own_build_error(ui.out, own_error)
        out.extra["own_build_error"] = own_error
    what = "switched to" if out.changed else "unchanged:"
    gen = out.generation.path.name if out.generation else "?"
    if own_error and not out.incomplete:  # its code imports from its source; not installed
        return _finish(
            args,
            ui,
            out,
            EXIT_USABLE,
            f"usable: {venv} {what} {gen} (the project's own package is not installed: see above)",
        )
    if not _tests_pass(args, ui, out):
        return _finish(args, ui, out, 1, f"{venv} {what} {gen}, and its tests did not pass")
    _print_shortfall(ui, out)
    if out.incomplete:
        return _finish(
            args,
            ui,
            out,
            EXIT_INCOMPLETE,
            f"incomplete: {venv} {what} {gen} (what is missing is listed)",
        )
    if out.verification.verdict is Verdict.USABLE:
        return _finish(
            args, ui, out, EXIT_USABLE, f"usable: {venv} {what} {gen} (what is left is listed)"
        )
    return _finish(args, ui, out, 0, f"verified: {venv} {what} {gen}")


def _print_shortfall(ui: Ui, out: Outcome) -> None:
    """What an incomplete environment lacks: what was set aside and why, why the repair
    stopped, and a better environment kept in its place."""
    for left in out.set_aside:
        ui.out.print(
            f"[yellow]set aside[/] {escape(left.package)} ({left.stage}): {escape(left.cause)}"
        )
    if out.short:
        ui.out.print(f"[yellow]stopped short[/]: {escape(out.short)}")
    if out.kept:
        ui.out.print(f"[yellow]{escape(out.kept)}[/]")


def _tests_pass(args: argparse.Namespace, ui: Ui, out: Outcome) -> bool:
    """With --tests: the project's tests in its environment, and whether they met the gate."""
    if not args.tests or out.project is None:
        return True
    env = (args.directory / ".venv").resolve()
    with ui.step("Running the project's tests") as detail:
        out.tests = check_tests(
            out.project, env, timeout=args.tests_timeout, threshold=args.pass_rate, full=args.full
        )
        detail.append("none found" if out.tests is None else f"{len(out.tests.cases)} tests")
    if out.tests is None:
        ui.out.print("tests: none found (no pytest configuration, tests/ folder or test files)")
        return True
    print_tests(ui.out, out.tests)
    return out.tests.ok


def _own_build_error(out: Outcome) -> str:
    """The project's own build failed while locking, or while installing it editable."""
    if out.lock is not None and out.lock.own_build_error:
        return out.lock.own_build_error
    if out.generation is not None:
        path = out.generation.path / OWN_BUILD_ERROR
        if path.exists():
            return path.read_text(encoding="utf-8", errors="replace")
    return ""


def selection_of(args: argparse.Namespace) -> Selection:
    return Selection(
        extras=tuple(args.extra),
        all_extras=args.all_extras,
        groups=tuple(args.group),
        only_groups=tuple(args.only_group),
        dev=not args.no_dev,
        locked=args.locked,
    )


def _report_attempts(args: argparse.Namespace, ui: Ui, out: Outcome) -> None:
    print_attempts(ui.out, out.attempts)
    save_attempts(args.directory, out.attempts)


def _verify(args: argparse.Namespace, ui: Ui, out: Outcome) -> int:
    verify_only(
        args.directory,
        ui,
        out,
        full=args.full,
        import_timeout=args.import_timeout,
        lock_timeout=args.lock_timeout,
    )
    assert out.verification is not None
    print_verification(ui.out, out.verification)
    venv = args.directory / ".venv"
    # a broken environment's tests still run: they show which of them its breakage reaches
    passed = _tests_pass(args, ui, out)
    if out.stale:  # whatever the imports and tests said, setup is what it needs
        ui.out.print("[bold red]out of date[/]: it no longer matches the project:")
        for reason in out.stale:
            ui.out.print(f"  · {escape(reason)}")
        ui.out.print(f"[cyan]hint:[/] run: bulletproof setup {escape(str(args.directory))}")
        return _finish(
            args, ui, out, EXIT_OUT_OF_DATE, f"out of date: {venv} (run setup to bring it back)"
        )
    if not passed:
        return _finish(args, ui, out, 1, f"not verified: {venv} (its tests did not pass)")
    if out.set_aside and out.verification.verdict is not Verdict.BROKEN:
        _print_shortfall(ui, out)  # what imports works; what setup left out is still missing
        return _finish(
            args, ui, out, EXIT_INCOMPLETE, f"incomplete: {venv} (what is missing is listed)"
        )
    if out.verification.verdict is Verdict.VERIFIED:
        return _finish(args, ui, out, 0, f"verified: {venv}")
    if out.verification.verdict is Verdict.USABLE:
        return _finish(args, ui, out, EXIT_USABLE, f"usable: {venv} (what is left is listed)")
    return _finish(args, ui, out, 1, f"not verified: {venv}")


def _doctor(args: argparse.Namespace, ui: Ui, out: Outcome) -> int:
    with ui.step("Probing this machine"):
        host = probe_host()
    print_host(ui.out, host)
    out.project = project = discover(args.directory, selection_of(args))
    inputs = ", ".join(str(p.relative_to(project.root)) for p in project.input_files) or "none"
    ui.out.print(
        f"project [bold]{escape(project.name)}[/] ({escape(project.shape)}): inputs "
        f"{escape(inputs)}"
    )
    for note in project.notes:
        ui.out.print(f"  · {escape(note)}")
    lock_meta = read_lock_meta(project.root / LOCK_NAME)
    out.target = target = choose_target(project, args.python, ui, host.interpreters, lock_meta)
    ui.out.print(
        f"target: Python {target.interpreter.version} at "
        f"{escape(str(target.interpreter.path))} ({escape(target.reason)})"
    )
    # doctor changes nothing: a lock it has to make goes to a scratch folder, not DIR
    with tempfile.TemporaryDirectory(prefix="bulletproof-doctor-") as scratch:
        with ui.step(f"Locking for Python {target.interpreter.version}") as detail:
            out.lock = locked = lock(project, target, lock_meta, into=Path(scratch) / LOCK_NAME)
            detail.append(
                f"{locked.packages} packages" + (", current lock" if locked.reused else "")
            )
        meta = lock_meta if locked.reused else read_lock_meta(locked.path)
        with ui.step("Predicting builds and system needs") as detail:
            diagnosis = diagnose(project, target, locked.path, host.os, meta)
            if locked.own_build_error:
                diagnosis = replace(
                    diagnosis, findings=(_own_build_finding(project, locked), *diagnosis.findings)
                )
            out.diagnosis = diagnosis
            detail.append(f"{len(diagnosis.findings)} findings")
    for note in locked.notes:
        ui.out.print(f"  · {escape(note)}")
    print_diagnosis(ui.out, diagnosis)
    if diagnosis.blocking:
        return _finish(
            args, ui, out, 1, f"{len(diagnosis.blocking)} finding(s) block setup", host=host
        )
    todo = " (setup will install the missing system packages)" if diagnosis.system.missing else ""
    return _finish(args, ui, out, 0, "nothing blocking found" + todo, host=host)


def _own_build_finding(project: Project, locked: LockResult) -> Finding:
    lines = [line.strip() for line in locked.own_build_error.splitlines() if line.strip()]
    evidence = [line for line in lines if "rror" in line or "failed" in line.lower()]
    return Finding(
        f"own-build:{project.name}",
        Severity.BLOCKER,
        project.name,
        "the project's own package does not build",
        "; ".join((evidence or lines)[-3:])[:600],
        "a fault in its packaging: setup installs its dependencies and puts its source on the "
        "path; the maintainers' fix is in the build configuration the error names",
    )


def _rollback(args: argparse.Namespace, ui: Ui, out: Outcome) -> int:
    from bulletproof.apply.generations import Store  # noqa: PLC0415

    project = discover(args.directory)
    store = Store(project.root)
    with locked_run(store, ui, args.lock_timeout):
        done = store.rollback(args.to)
    if done.moved:
        ui.say(done.moved)
        out.extra["moved_aside"] = done.moved
    lock_meta = read_lock_meta(project.root / LOCK_NAME)
    if done.generation.meta().get("packages-hash") != lock_meta.get("packages-hash"):
        ui.say(
            f"it was built from an earlier lock than {LOCK_NAME}: verify says 'out of date' "
            "until setup brings it back to the lock"
        )
    return _finish(
        args, ui, out, 0, f"{args.directory / '.venv'} now points at {done.generation.path.name}"
    )


def _generate(args: argparse.Namespace, ui: Ui, out: Outcome) -> int:
    if args.what == "env":  # reads only the code: any folder of Python files will do
        root = args.directory.resolve()
        if not root.is_dir():
            raise InputError(f"{args.directory}: no such folder")
        variables = env_vars(root)
        text = render(root.name, variables, find_example(root))
        path = write_template(root, text, output=args.output, force=args.force)
        required = sum(v.required for v in variables)
        return _finish(
            args, ui, out, 0, f"wrote {path}: {len(variables)} variables, {required} required"
        )
    out.project = project = discover(args.directory)
    path = write_troubleshooting(project.root, project.name, output=args.output, force=args.force)
    return _finish(args, ui, out, 0, f"wrote {path}")


def _report_error(args: argparse.Namespace, ui: Ui, out: Outcome, exc: BulletproofError) -> None:
    ui.errors.print(f"[bold red]error:[/] {escape(exc.message)}")
    if exc.detail:
        ui.errors.print(escape(exc.detail.strip()[-4000:]))
    if exc.hint:
        ui.errors.print(f"[cyan]hint:[/] {escape(exc.hint)}")
    _write_json(args, ui, out, exc.exit_code, exc.message, host=None)
