"""One function per command: call its flow, render the result it returns (the terminal and the
`--json` report) and return its exit code. Nothing here decides what happened: the flows do."""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from rich.markup import escape

from bulletproof.errors import BulletproofError, ExitCode, InputError
from bulletproof.flow.common import Options, TestsAsked
from bulletproof.flow.diff import diff_environments
from bulletproof.flow.doctor import doctor
from bulletproof.flow.generate import GenerateOptions, generate
from bulletproof.flow.provefresh import FreshOptions, FreshProof, prove_fresh
from bulletproof.flow.results import DoctorResult, Done, EnvResult, closing
from bulletproof.flow.rollback import rollback
from bulletproof.flow.setup import setup
from bulletproof.flow.verify import verify_only
from bulletproof.flow.wheelhouse import wheelhouse
from bulletproof.generate.troubleshooting import save_attempts
from bulletproof.host.probe import probe_host
from bulletproof.host.values import Host
from bulletproof.mitigate.consent import Unfixable
from bulletproof.model import Selection
from bulletproof.prove.projecttests import to_dict as tests_dict
from bulletproof.redaction import learn_run
from bulletproof.report import html as htmlreport
from bulletproof.report import jsonreport
from bulletproof.report.difftable import print_env_diff
from bulletproof.report.lastreport import last_report_path, save_last
from bulletproof.report.lastreport import load as load_report
from bulletproof.report.mitigation import print_attempts, summary
from bulletproof.report.terminal import (
    Ui,
    print_diagnosis,
    print_host,
    print_own_build_error,
    print_proof,
    print_verification,
)
from bulletproof.verify.envdiff import variable_states
from bulletproof.verify.fingerprint import Fingerprint, fingerprint
from bulletproof.verify.fingerprintdiff import difference_lines


def run(args: argparse.Namespace, ui: Ui) -> int:
    """Run one command and return its exit code."""
    handlers = {
        "setup": _setup,
        "verify": _verify,
        "doctor": _doctor,
        "rollback": _rollback,
        "wheelhouse": _wheelhouse,
        "generate": _generate,
        "prove": _prove,
        "diff": _diff,
        "report": _report,
    }
    # before anything is printed or written: every secret the run can see, learned by value
    learn_run(args.directory)
    # `report`'s page is kept apart from setup's and verify's --html (dest "page"): an error
    # of `report` itself is said, never rendered as a page
    for dest, option in (("json", "--json"), ("html", "--html"), ("page", "--html")):
        problem = _unwritable_report(getattr(args, dest, None), option)
        if problem:
            break
    if problem:
        # said before any work: a run that switched and then could not report is worse
        ui.errors.print(f"[bold red]error:[/] {escape(problem)}")
        return InputError.exit_code
    return int(handlers[args.command](args, ui))


def options_of(args: argparse.Namespace) -> Options:
    tests = getattr(args, "tests", False)
    return Options(
        python=getattr(args, "python", None),
        full=getattr(args, "full", False),
        import_timeout=getattr(args, "import_timeout", 60.0),
        lock_timeout=getattr(args, "lock_timeout", 300.0),
        assume_yes=getattr(args, "yes", False),
        system=not getattr(args, "no_system", False),
        selection=selection_of(args) if hasattr(args, "extra") else None,
        strict=getattr(args, "strict", False),
        tests=TestsAsked(args.tests_timeout, args.pass_rate) if tests else None,
        offline=getattr(args, "offline", False),
        wheelhouse=getattr(args, "wheelhouse", None),
    )


def selection_of(args: argparse.Namespace) -> Selection:
    return Selection(
        extras=tuple(args.extra),
        all_extras=args.all_extras,
        groups=tuple(args.group),
        only_groups=tuple(args.only_group),
        dev=not args.no_dev,
        locked=getattr(args, "locked", False),
    )


def _unwritable_report(path: Path | None, option: str = "--json") -> str | None:
    """Why the --json (or --html) report could not be written there, found by writing a
    scratch file beside it (permissions alone mislead: root, read-only mounts, full disks)."""
    if path is None:
        return None
    if path.is_dir():
        return f"{option} {path}: is a folder; name a file"
    folder = path.parent
    if not folder.is_dir():
        return f"{option} {path}: the folder {folder} does not exist"
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{path.name}.", suffix=".check"):
            pass
    except OSError as exc:
        return f"{option} {path}: cannot write in {folder} ({exc.strerror or exc})"
    if path.exists() and not os.access(path, os.W_OK):
        return f"{option} {path}: the file is not writable"
    return None


def _setup(args: argparse.Namespace, ui: Ui) -> ExitCode:
    result = setup(args.directory, options_of(args), ui)
    if isinstance(result.error, Unfixable):
        if result.verification is not None:
            print_verification(ui.out, result.verification)
        _report_attempts(args, ui, result)
        exc = result.error
        ui.out.print(f"[cyan]hint:[/] {escape(exc.hint)}" if exc.hint else "")
        venv = result.venv
        kept = "left as it was" if result.generation or (venv / "bin").exists() else "not created"
        return _finish(
            args, ui, result, ExitCode.FAILED, f"not verified: {exc.message}; {venv} {kept}"
        )
    if result.error is not None:
        return _error(args, ui, result.error, env=result)
    # setup returns without an error only with an environment delivered
    assert result.verification is not None
    print_verification(ui.out, result.verification)
    _report_attempts(args, ui, result)
    if fixed := summary(list(result.attempts)):
        ui.out.print(escape(fixed))
    if result.own_build_error:
        print_own_build_error(ui.out, result.own_build_error, result.own_build_faults)
    _print_tests(ui, result)
    if not result.tests_failed:
        _print_shortfall(ui, result)
    code, message = closing(result)
    return _finish(args, ui, result, code, message)


def _verify(args: argparse.Namespace, ui: Ui) -> ExitCode:
    result = verify_only(args.directory, options_of(args), ui)
    if result.error is not None:
        return _error(args, ui, result.error, env=result)
    assert result.verification is not None
    print_verification(ui.out, result.verification)
    _print_tests(ui, result)
    if result.stale:
        ui.out.print("[bold red]out of date[/]: it no longer matches the project:")
        for reason in result.stale:
            ui.out.print(f"  · {escape(reason)}")
        ui.out.print(f"[cyan]hint:[/] run: bulletproof setup {escape(str(args.directory))}")
    code, message = closing(result)
    if code is ExitCode.INCOMPLETE:
        _print_shortfall(ui, result)
    return _finish(args, ui, result, code, message)


def _print_tests(ui: Ui, result: EnvResult) -> None:
    if not result.tests_asked:
        return
    if result.proof is None:
        ui.out.print("tests: none found (no pytest configuration, tests/ folder or test files)")
        return
    print_proof(ui.out, result.proof)


def _print_shortfall(ui: Ui, result: EnvResult) -> None:
    """What an incomplete environment lacks: what was set aside and why, why the repair
    stopped, and a better environment kept in its place."""
    for left in result.set_aside:
        ui.out.print(
            f"[yellow]set aside[/] {escape(left.package)} ({left.stage}): {escape(left.cause)}"
        )
    if result.short:
        ui.out.print(f"[yellow]stopped short[/]: {escape(result.short)}")
    if result.kept:
        ui.out.print(f"[yellow]{escape(result.kept)}[/]")


def _report_attempts(args: argparse.Namespace, ui: Ui, result: EnvResult) -> None:
    print_attempts(ui.out, list(result.attempts))
    save_attempts(args.directory, list(result.attempts))


def _doctor(args: argparse.Namespace, ui: Ui) -> ExitCode:
    result = doctor(args.directory, options_of(args), ui)
    print_host(ui.out, result.host)
    project, target = result.project, result.target
    if project is not None:
        inputs = ", ".join(str(p.relative_to(project.root)) for p in project.input_files)
        ui.out.print(
            f"project [bold]{escape(project.name)}[/] ({escape(project.shape)}): inputs "
            f"{escape(inputs or 'none')}"
        )
        for note in project.notes:
            ui.out.print(f"  · {escape(note)}")
    if target is not None:
        ui.out.print(
            f"target: Python {target.interpreter.version} at "
            f"{escape(str(target.interpreter.path))} ({escape(target.reason)})"
        )
    if result.error is not None:
        return _error(args, ui, result.error, doctor_result=result)
    assert result.lock is not None and result.diagnosis is not None
    for note in result.lock.notes:
        ui.out.print(f"  · {escape(note)}")
    print_diagnosis(ui.out, result.diagnosis)
    blocking = result.diagnosis.blocking
    if blocking:
        message = f"{len(blocking)} finding(s) block setup"
        return _finish(args, ui, result, ExitCode.FAILED, message)
    todo = (
        " (setup will install the missing system packages)"
        if result.diagnosis.system.missing
        else ""
    )
    return _finish(args, ui, result, ExitCode.OK, "nothing blocking found" + todo)


def _rollback(args: argparse.Namespace, ui: Ui) -> ExitCode:
    done = rollback(args.directory, args.to, args.lock_timeout, ui)
    return _done(args, ui, done)


def _wheelhouse(args: argparse.Namespace, ui: Ui) -> ExitCode:
    return _done(args, ui, wheelhouse(args.directory, args.out, ui))


def _generate(args: argparse.Namespace, ui: Ui) -> ExitCode:
    asked = GenerateOptions(
        output=args.output,
        force=args.force,
        base=getattr(args, "base", None),
        tool_source=getattr(args, "tool_source", None),
    )
    done = generate(args.what, args.directory, asked)
    return _done(args, ui, done)


def _prove(args: argparse.Namespace, ui: Ui) -> ExitCode:
    asked = FreshOptions(suite=args.fresh, base=args.base, tool_source=args.tool_source)
    result = prove_fresh(args.directory, asked, ui)
    if result.error is not None:
        return _error(args, ui, result.error)
    code, where = result.exit_code, f"a fresh {result.suite} ({result.base})"
    if result.build_code is not None:
        ui.out.print(escape(result.build_log.strip()[-3000:]))
        message = f"not proved: the build on {where} failed (exit {result.build_code})"
    else:
        if code is not ExitCode.OK and result.build_log:
            ui.out.print(escape(result.build_log.strip()[-3000:]))
        message = f"{'proved' if code is ExitCode.OK else 'not proved'} on {where}: "
        message += f"{result.fresh_message} ({result.fresh_tests})"
        _print_differences(ui, result)
    ui.out.print(f"[bold {'green' if code is ExitCode.OK else 'red'}]{escape(message)}[/]")
    if args.json is not None:
        report = jsonreport.build(
            ui.record, exit_code=int(code), message=message, host=probe_host()
        )
        report["prove"] = result.to_dict()
        jsonreport.write(args.json, report)
    return code


def _diff(args: argparse.Namespace, ui: Ui) -> ExitCode:
    result = diff_environments(args.directory, args.other, ui)
    if result.error is not None:
        return _error(args, ui, result.error)
    assert result.left is not None and result.right is not None
    print_env_diff(ui.out, result.left, result.right, result.rows)
    code = result.exit_code
    colour = "green" if code is ExitCode.OK else "yellow"
    ui.out.print(f"[bold {colour}]{escape(result.message)}[/]")
    if args.json is not None:
        report = jsonreport.build(ui.record, exit_code=int(code), message=result.message)
        report["diff"] = result.to_dict()
        jsonreport.write(args.json, report)
    return code


def _print_differences(ui: Ui, result: FreshProof) -> None:
    if result.fresh is None:
        ui.out.print("[yellow]the fresh system's report has no fingerprint to compare[/]")
        return
    found = result.differences
    ui.out.print(f"{len(found)} difference(s) from {result.directory}/.venv to the fresh one:")
    for line, odd in difference_lines(found):
        ui.out.print(f"  · [{'yellow' if odd else 'dim'}]{escape(line)}[/]")
    if unexplained := sum(d.unexplained for d in found):
        ui.out.print(
            f"[yellow]{unexplained} not explained by the interpreter, platform or release[/]"
        )


def _done(args: argparse.Namespace, ui: Ui, done: Done) -> ExitCode:
    if done.error is not None:
        return _error(args, ui, done.error)
    for text in done.said:
        ui.say(text)
    return _finish(args, ui, done, ExitCode.OK, done.message)


def _finish(
    args: argparse.Namespace,
    ui: Ui,
    result: EnvResult | DoctorResult | Done,
    code: ExitCode,
    message: str,
) -> ExitCode:
    colour = "green" if code is ExitCode.OK else "red"
    ui.out.print(f"[bold {colour}]{escape(message)}[/]")
    _write_json(args, ui, result, code, message)
    return code


def _error(
    args: argparse.Namespace,
    ui: Ui,
    exc: BulletproofError,
    *,
    env: EnvResult | None = None,
    doctor_result: DoctorResult | None = None,
) -> ExitCode:
    ui.errors.print(f"[bold red]error:[/] {escape(exc.message)}")
    if exc.detail:
        ui.errors.print(escape(exc.detail.strip()[-4000:]))
    if exc.hint:
        ui.errors.print(f"[cyan]hint:[/] {escape(exc.hint)}")
    _write_json(args, ui, env or doctor_result, ExitCode(exc.exit_code), exc.message)
    return ExitCode(exc.exit_code)


def _write_json(
    args: argparse.Namespace,
    ui: Ui,
    result: EnvResult | DoctorResult | Done | None,
    code: ExitCode,
    message: str,
) -> None:
    json_path: Path | None = getattr(args, "json", None)
    html_path: Path | None = getattr(args, "html", None)
    if json_path is None and html_path is None:
        return
    env = result if isinstance(result, EnvResult) else None
    host: Host = result.host if isinstance(result, DoctorResult) else probe_host()
    report = jsonreport.build(
        ui.record,
        exit_code=int(code),
        message=message,
        host=host,  # probed only for the report: the fast path skips it
        target=None if isinstance(result, Done) or result is None else result.target,
        lock=None if isinstance(result, Done) or result is None else result.lock,
        environment=env.environment() if env else None,
        verification=env.verification if env else None,
        diagnosis=None if isinstance(result, Done) or result is None else result.diagnosis,
        fingerprint=_fingerprint(env),
    )
    report["mitigation"] = [a.as_dict() for a in env.attempts] if env else []
    report["tests"] = tests_dict(env.proof) if env and env.proof else None
    report["out_of_date"] = list(env.stale) if env else []
    # names only, never values: which variables the code reads are set where this ran
    report["variables"] = [v.to_dict() for v in variable_states(args.directory)] if env else None
    report["stopped_short"] = (env.short or None) if env else None
    report["set_aside"] = [s.as_dict() for s in env.set_aside] if env else []
    report["incomplete"] = (
        {"why": env.short, "kept": env.kept, "left_for_rollback": env.left_for_rollback or None}
        if env and env.incomplete
        else None
    )
    if json_path is not None:
        jsonreport.write(json_path, report)
    if html_path is not None:
        htmlreport.write(html_path, report)
        ui.out.print(f"HTML report: {escape(str(html_path))}")
    if env is not None:  # setup and verify: what `bulletproof report DIR` renders
        save_last(args.directory, report)


def _report(args: argparse.Namespace, ui: Ui) -> ExitCode:
    """The HTML of a JSON report (--from, else DIR's last), with diff's rows against --diff."""
    source: Path = args.source or last_report_path(args.directory)
    try:
        report = load_report(source, directory=None if args.source else args.directory)
    except BulletproofError as exc:
        return _error(args, ui, exc)
    compared = None
    if args.diff is not None:
        result = diff_environments(source, args.diff, ui)
        if result.error is not None:
            return _error(args, ui, result.error)
        compared = result.to_dict()
    htmlreport.write(args.page, report, compared)
    ui.out.print(f"[bold green]HTML report of {escape(str(source))}: {escape(str(args.page))}[/]")
    return ExitCode.OK


def _fingerprint(env: EnvResult | None) -> Fingerprint | None:
    """The report's fingerprint of DIR/.venv, when it was verified (taken only for the report:
    it reads every installed file)."""
    if env is None or env.verification is None or not (env.venv / "bin" / "python").exists():
        return None
    try:
        return fingerprint(env.venv.resolve())
    except BulletproofError:  # its interpreter does not run: the verification says why
        return None
