"""Install missing system packages: only with consent, shown and recorded, elevated only when
not root. Without a terminal and without --yes it never asks; it stops with the command."""

from __future__ import annotations

import shlex
import sys

from bulletproof import proc
from bulletproof.analyze.values import SystemPlan
from bulletproof.errors import BulletproofError, ToolError
from bulletproof.host import pkgmgr
from bulletproof.knowledge.mappings import DistroMapping
from bulletproof.reporter import Reporter

INSTALL_TIMEOUT = 3600.0
# apt must not stop for a question nobody sees
NONINTERACTIVE = {"DEBIAN_FRONTEND": "noninteractive", "NEEDRESTART_MODE": "a"}


class ConsentNeeded(BulletproofError):
    """System packages are missing and nobody said yes to installing them."""


def install_missing(plan: SystemPlan, ui: Reporter, *, assume_yes: bool) -> list[str]:
    """Run the plan's commands after consent; returns the commands run, as shown."""
    if not plan.missing:
        return []
    shown = [shlex.join(c) for c in plan.commands]
    ui.say(f"missing system packages: {' '.join(plan.missing)}")
    if not assume_yes:
        if not sys.stdin.isatty():
            raise ConsentNeeded(
                f"system packages are missing: {' '.join(plan.missing)}",
                hint="run these yourself, then setup again:\n  "
                + "\n  ".join(shown)
                + "\nor let setup run them: --yes; or skip this step: --no-system",
            )
        ui.show("setup will run:\n" + "\n".join(f"  $ {c}" for c in shown))
        if not ui.ask("Install them now?"):
            raise ConsentNeeded(
                "not installing system packages (declined)",
                hint="install them yourself and run setup again, or use --no-system to skip",
            )
    for command, text in zip(plan.commands, shown, strict=True):
        with ui.step(f"Running {text}"):  # raising inside: a failed command gets no ✓
            done = proc.run(command, env=NONINTERACTIVE, timeout=INSTALL_TIMEOUT)
            if not done.ok:
                raise ToolError(
                    f"{text} failed (exit {done.returncode}); the environment was not changed",
                    detail=(done.stderr or done.stdout)[-3000:],
                    hint="run it yourself to see what the package manager needs",
                )
    return shown


def install_named(
    names: tuple[str, ...], mapping: DistroMapping, ui: Reporter, *, assume_yes: bool
) -> None:
    """Install these packages of the distro (a fix's), after consent; the commands run are
    recorded in the report."""
    plan = SystemPlan(
        mapping.ecosystem,
        mapping.manager.name,
        names,
        names,
        pkgmgr.install_commands(mapping.manager, names),
    )
    ran = install_missing(plan, ui, assume_yes=assume_yes)
    for command in ran:
        ui.note(f"ran: {command}")
