"""Command line: parse, call a flow, map the outcome or the error to an exit code.

Exit codes: `errors.ExitCode`, each explained in docs/cli.md. ``doctor`` exits 1 when it finds
something that blocks setup.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bulletproof import __version__
from bulletproof.errors import ExitCode

DESCRIPTION = """\
Make a Python project's development environment work the first time, and prove it.

  bulletproof setup DIR     lock, build DIR/.venv in a new generation, verify every import,
                            then switch to it (the old one stays for rollback)
  bulletproof verify DIR    verify the current DIR/.venv again
  bulletproof doctor DIR    predict what setup will build, which system packages it needs and
                            what is missing or known to break; changes nothing
  bulletproof rollback DIR  switch DIR/.venv back to the previous verified environment
                            (--to GEN: to that generation)
  bulletproof wheelhouse DIR [--out PATH]
                            write every file the lock needs for this target (wheels, wheels
                            built here, the project's build tools) and a manifest into PATH;
                            `setup DIR --offline --wheelhouse PATH` builds from it, no network
  bulletproof prove DIR --fresh SUITE
                            stand the project up with bulletproof on a fresh Debian system of
                            that release (bookworm, trixie; a container build), run its tests
                            there, and show how that environment differs from DIR/.venv
  bulletproof diff A B      what differs between two environments (each a --json report or a
                            project folder's live .venv): interpreter, platform, libc, each
                            distribution, system packages, variable names, verdicts
  bulletproof report DIR --html FILE [--from REPORT.json] [--diff B]
                            render the last setup/verify report of DIR (kept in
                            DIR/.bulletproof/last-report.json) or REPORT.json as one
                            self-contained HTML page; --diff B adds what differs from B
  bulletproof generate troubleshooting DIR
                            write DIR/TROUBLESHOOTING.md: the failures met on this project
                            and their fixes, then the general ones bulletproof knows
  bulletproof generate env DIR
                            write DIR/.env.template: every environment variable the code
                            reads, required or with its default, and where it is read
  bulletproof generate container DIR
                            write DIR/Containerfile and .devcontainer/devcontainer.json: an
                            image whose build runs setup and verify, so it cannot build broken
  bulletproof generate script DIR
                            write DIR/scripts/dev-setup.sh: installs bulletproof, runs setup
                            and verify --tests, for the project's new developers
  bulletproof generate ci DIR
                            write DIR/.github/workflows/bulletproof.yml: setup --locked and
                            verify --tests on each Python the project allows, reports
                            uploaded and compared with bulletproof diff
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse's own exit code is 2 as well; this keeps the message in our format
        self.print_usage(sys.stderr)
        sys.stderr.write(f"bulletproof: error: {message}\n")
        raise SystemExit(ExitCode.USAGE)


def _verbosity(parser: argparse.ArgumentParser, default: object) -> None:
    """-v/-q before or after the command; a subcommand's own default must not undo the
    global one, hence SUPPRESS there."""
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="show every command run"
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", default=default, help="no progress, only the summary"
    )


def _selection_options(p: argparse.ArgumentParser) -> None:
    """uv's spellings for what goes into the environment."""
    p.add_argument(
        "--extra",
        action="append",
        default=[],
        metavar="NAME",
        help="also an extra of the project (repeatable); the dev/test ones are in by default",
    )
    p.add_argument("--all-extras", action="store_true", help="every extra of the project")
    p.add_argument(
        "--group",
        action="append",
        default=[],
        metavar="NAME",
        help="also a dependency group (PEP 735, Poetry, pdm, uv, Pipfile dev-packages); "
        "repeatable; the dev/test ones are in by default",
    )
    p.add_argument(
        "--only-group",
        action="append",
        default=[],
        metavar="NAME",
        help="only this group: not the project nor its requirement files (repeatable)",
    )
    p.add_argument(
        "--no-dev",
        action="store_true",
        help="leave out the dev/test extras, groups and requirement files",
    )
    p.add_argument(
        "--locked",
        action="store_true",
        help="the team's lock (uv.lock, poetry.lock, pdm.lock, Pipfile.lock) must be current "
        "and readable: an out-of-date or unreadable one is an error (exit 2) instead of a "
        "fresh resolution",
    )


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number from 0 to 1 (0.8 is 80 %)")
    return value


@dataclass(frozen=True)
class Command:
    """A subcommand: its name, what it does (its --help), and the option groups it takes."""

    name: str
    help: str
    options: tuple[Callable[[argparse.ArgumentParser], None], ...] = ()
    summary: str = ""  # the line in the command list, when shorter than ``help``
    takes_dir: bool = True


def _directory(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "directory",
        nargs="?",
        default=".",
        type=Path,
        metavar="DIR",
        help="the project folder (default: the current folder)",
    )


def _python(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--python",
        metavar="VER|PATH",
        help="target interpreter: a version (3.12), a specifier or a path; "
        "default: [tool.bulletproof] python, else the newest one that "
        "satisfies requires-python",
    )


def _consent(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-y",
        "--yes",
        action="store_true",
        help="consent to the fixes that need it: installing missing system packages (with sudo "
        "when not root), moving a pin (recorded in the lock, never in your files), another "
        "interpreter; without it setup asks on a terminal, and elsewhere stops and says what",
    )
    p.add_argument(
        "--no-system",
        action="store_true",
        help="never install system packages (report what is missing and go on)",
    )


def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--json",
        type=Path,
        metavar="FILE",
        help="also write a JSON report (schema: docs/json-report.md)",
    )


def _html(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--html",
        type=Path,
        metavar="FILE",
        help="also write the report as one self-contained HTML page (no script, nothing "
        "fetched); the JSON report is kept in DIR/.bulletproof/last-report.json for "
        "`bulletproof report`",
    )


def _page(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--html",
        dest="page",
        type=Path,
        required=True,
        metavar="FILE",
        help="the HTML page to write",
    )
    p.add_argument(
        "--from",
        dest="source",
        type=Path,
        metavar="REPORT",
        help="render this JSON report (setup or verify --json) instead of DIR's last one "
        "(DIR/.bulletproof/last-report.json, kept by the last setup or verify with --json or "
        "--html)",
    )
    p.add_argument(
        "--diff",
        type=Path,
        metavar="B",
        help="add a section of what differs from B (a JSON report or a project folder), as "
        "`bulletproof diff` says it",
    )


def _proof(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--tests",
        action="store_true",
        help="then probe the services the code's settings point at (PostgreSQL, Redis, "
        "TCP), start the project's ASGI/WSGI app on loopback and ask its health route, and "
        "run its tests in the environment ([tool.bulletproof] tests, else pytest, else "
        "unittest), classifying each failure as the environment's (a module, library, "
        "executable, service or variable it lacks) or the code's; requires no environment "
        "failure, every service and the app answering, and the pass rate; a passing run is "
        "remembered until the environment or a project file changes",
    )
    p.add_argument(
        "--pass-rate",
        type=_rate,
        metavar="R",
        help="the share of tests that must pass, 0 to 1, skipped and xfailed left out "
        "(default: [tool.bulletproof] tests-pass-rate, else 0.8)",
    )
    p.add_argument(
        "--tests-timeout",
        type=float,
        default=1800.0,
        metavar="SECONDS",
        help="stop the test run after this long (default: 1800)",
    )


def _verification(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--full",
        action="store_true",
        help="verify everything again even if nothing changed since last time",
    )
    p.add_argument(
        "--import-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="how long one module may take to import (default 60)",
    )


def _strict(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--strict",
        action="store_true",
        help="switch only to a verified environment; by default a usable one (every failure "
        "left is optional or the project's own code) is switched to, with exit code 4, and "
        "when something cannot be had (a requirement that cannot be fetched or built, a module "
        "that still fails) the rest is delivered, with exit code 6 (incomplete)",
    )


def _lock_timeout(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--lock-timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="how long to wait for another run on the same DIR (default 300)",
    )


def _offline(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--offline",
        action="store_true",
        help="no network: every uv call offline (uv's cache only, unless --wheelhouse), no "
        "system package installed",
    )
    p.add_argument(
        "--wheelhouse",
        type=Path,
        metavar="PATH",
        help="build from this wheelhouse alone (made by `bulletproof wheelhouse`; implies "
        "--offline): refused when made for another target or changed since",
    )


def _wheelhouse_out(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="the folder to write (new, empty, or an earlier wheelhouse; default DIR/wheelhouse)",
    )


def _fresh(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--fresh",
        required=True,
        metavar="SUITE",
        help="the Debian release of the fresh system: bookworm or trixie",
    )
    p.add_argument(
        "--base",
        metavar="IMAGE",
        help="the image of that release to start from (a local or mirrored one); default: "
        "debian:SUITE",
    )
    p.add_argument(
        "--tool-source",
        metavar="SPEC",
        help="where the fresh system installs bulletproof from: a wheel, a source folder or a "
        "requirement (default: this same version from the package index)",
    )


def _two_sides(p: argparse.ArgumentParser) -> None:
    # A is kept as `directory`: the run's secrets are learned from it (a folder's .env)
    p.add_argument(
        "directory",
        type=Path,
        metavar="A",
        help="a JSON report (setup/verify --json, or prove --fresh --json's fresh system) or "
        "a project folder, whose .venv is fingerprinted now",
    )
    p.add_argument("other", type=Path, metavar="B", help="the other side, the same way")


def _rollback_to(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--to",
        metavar="GEN",
        help="switch to this generation instead (a name under .bulletproof/generations, such as "
        "the one an incomplete setup left beside a better environment)",
    )


def _generated_file(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "what",
        choices=["troubleshooting", "env", "script", "container", "ci"],
        help="which file to write",
    )
    p.add_argument(
        "directory", nargs="?", default=".", type=Path, metavar="DIR", help="the project folder"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the file even when bulletproof did not write it or it was edited since",
    )
    p.add_argument(
        "--output",
        type=Path,
        metavar="PATH",
        help="write the file to PATH instead of into DIR",
    )
    p.add_argument(
        "--base",
        metavar="IMAGE",
        help="container: the image to start from (a local or mirrored one); default: the "
        "Debian release of this machine, or of the target interpreter",
    )
    p.add_argument(
        "--tool-source",
        metavar="SPEC",
        help="container, script: where the generated file installs bulletproof from: a wheel, "
        "a source folder or a requirement (default: this same version from the package index); "
        "ci: a requirement only (a runner cannot reach this machine's files)",
    )


COMMANDS = (
    Command(
        "setup",
        "Lock, build, verify and switch to the project's environment.",
        (
            _python,
            _consent,
            _json,
            _html,
            _proof,
            _verification,
            _selection_options,
            _strict,
            _offline,
        ),
    ),
    Command(
        "doctor",
        "Predict, changing nothing: which packages build from source, what they need from the "
        "system, what is missing, what is known to break on the target Python. Exit 1 when "
        "something would block setup.",
        (_python, _json, _selection_options),
    ),
    Command(
        "verify",
        "Verify the current DIR/.venv: imports, consistency, file integrity.",
        (_json, _html, _proof, _verification),
    ),
    Command(
        "rollback",
        "Switch DIR/.venv back to the previous verified environment.",
        (_rollback_to,),
    ),
    Command(
        "wheelhouse",
        "Write a wheelhouse for an offline setup: a wheel of every locked package the target "
        "accepts (downloaded and checked against the lock's sha256, or built here from its sdist), "
        "the project's build requirements, and a manifest of hashes, the target and the system "
        "packages the environment needs at run time. Needs DIR's lock and environment (setup).",
        (_wheelhouse_out,),
        summary="Write a wheelhouse for `setup --offline --wheelhouse PATH`.",
    ),
    Command(
        "prove",
        "Stand the project up on a fresh system of a Debian release with bulletproof itself "
        "(buildah builds it as a container image: setup, verify, then verify --tests), and "
        "show how that environment differs from DIR/.venv (interpreter, platform, each "
        "distribution's version, wheel tags and content, system packages). Exit 0 when the "
        "fresh environment verified and its tests passed, else that failure's exit code.",
        (_fresh, _json),
        summary="Prove the setup on a fresh Debian system and compare it with DIR/.venv.",
    ),
    Command(
        "diff",
        "Say what differs between two environments, each a JSON report (setup or verify "
        "--json; prove --fresh --json: its fresh system) or a project folder (its .venv, "
        "fingerprinted now, not verified): the interpreter, the platform and libc, each "
        "distribution's version, wheel tags and content hash, the system packages it needs, "
        "the names of the environment variables the code reads that are set on one side only "
        "(never their values) and the verdicts, each with what explains it. Exit 0 when "
        "nothing differs that another interpreter, platform or release does not explain, 1 "
        "when something does, 2 when A or B is not a report of an environment or a folder "
        "with one.",
        (_two_sides, _json),
        summary="Say what differs between two environments (reports or project folders).",
        takes_dir=False,
    ),
    Command(
        "report",
        "Render a JSON report as one self-contained HTML page (inline style, no script, nothing "
        "fetched): the verdict first, then what failed and why, every fix tried and its "
        "outcome, the seconds of each stage as a chart, the system packages, the tests with "
        "their classes, services and app checks, and with --diff what differs from another "
        "environment. The report is --from's, else DIR's last (DIR/.bulletproof/"
        "last-report.json, kept by each setup or verify run with --json or --html). Exit 2 "
        "when there is no report to render.",
        (_page,),
        summary="Render DIR's last (or a given) report as a self-contained HTML page.",
    ),
    Command(
        "generate",
        "Write a file for the team around the environment: troubleshooting "
        "(TROUBLESHOOTING.md: the failures met and what fixed them), env (.env.template: every "
        "environment variable the code reads, required or with its default, where it is read; "
        "an .env.example is kept first, comments and all), container (Containerfile, "
        ".devcontainer/devcontainer.json and .containerignore: an image whose build runs setup "
        "and verify, then verifies again with only the run-time system packages), script "
        "(scripts/dev-setup.sh: installs bulletproof in its own venv, runs setup and verify "
        "--tests) or ci (.github/workflows/bulletproof.yml: a GitHub Actions matrix of the "
        "Python versions the project allows, each job running setup --locked and verify "
        "--tests --json, the reports uploaded and compared by bulletproof diff in a last job). "
        "A file bulletproof did not write, or one edited since, is never replaced "
        "without --force.",
        (_generated_file,),
        summary="Write a file for the team: troubleshooting (TROUBLESHOOTING.md), env "
        "(.env.template), container (Containerfile, devcontainer.json), script "
        "(scripts/dev-setup.sh), ci (.github/workflows/bulletproof.yml).",
        takes_dir=False,
    ),
)
# the commands that wait for another run on the same project
_WAITING = ("setup", "verify", "rollback")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="bulletproof",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"bulletproof {__version__}")
    _verbosity(parser, False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        p = sub.add_parser(
            command.name, help=command.summary or command.help, description=command.help
        )
        if command.takes_dir:
            _directory(p)
        _verbosity(p, argparse.SUPPRESS)
        for add_options in command.options:
            add_options(p)
        if command.name in _WAITING:
            _lock_timeout(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from bulletproof import fastpath  # noqa: PLC0415  (stdlib only: answers before heavy imports)

    asked = fastpath.Request.of(argv)
    if (answered := asked.answer()) is not None:  # nothing changed since the last run
        return answered
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    import logging  # noqa: PLC0415  (this and what follows: not needed by the answer above)

    from bulletproof.redaction import redacting  # noqa: PLC0415
    from bulletproof.reporter import RunRecord  # noqa: PLC0415

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(message)s",
        stream=redacting(sys.stderr),  # a logged line goes through the redactor too
    )
    from bulletproof import commands  # noqa: PLC0415  (keeps --help and usage errors fast)
    from bulletproof.report.terminal import Ui  # noqa: PLC0415

    record = RunRecord(command=args.command, project_dir=args.directory)
    ui = Ui(record, verbose=args.verbose, quiet=args.quiet)
    ui.out.record = True  # what it prints is kept for the next identical request (fastrecord)
    try:
        code = commands.run(args, ui)
        from bulletproof.fastrecord import remember  # noqa: PLC0415

        remember(asked, code, ui.out.export_text())
        return code
    except KeyboardInterrupt:
        ui.errors.print("[red]interrupted[/]: the current environment was left as it was")
        return ExitCode.INTERRUPTED
    except OSError as exc:  # a file we could not read or write: say which, without a traceback
        ui.errors.print(f"[bold red]error:[/] {exc.filename or ''}: {exc.strerror or exc}")
        return ExitCode.FAILED
    except Exception as exc:  # a bug: say so plainly; -v shows the traceback
        if args.verbose:
            raise
        ui.errors.print(
            f"[bold red]internal error[/] (a bug in bulletproof): {type(exc).__name__}: "
            f"{exc}\nrun again with -v for the traceback and please report it"
        )
        return ExitCode.FAILED


def entry() -> None:
    sys.exit(main())
