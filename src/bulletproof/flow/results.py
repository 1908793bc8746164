"""What each command's flow comes to: one frozen value per command, and the one place its exit
code and closing line are decided. `commands` only renders these."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulletproof.analyze.rustpackaging import PackagingFault
from bulletproof.analyze.values import Diagnosis
from bulletproof.apply.generations import Generation
from bulletproof.errors import BulletproofError, ExitCode
from bulletproof.host.values import Host, Target
from bulletproof.lockfile.values import LockResult, SetAside
from bulletproof.mitigate.values import Attempt
from bulletproof.model import Project
from bulletproof.prove.results import ProofReport
from bulletproof.verify.values import Verdict, Verification


@dataclass(frozen=True)
class EnvResult:
    """What `setup` or `verify` came to; on an error, what was learned before it."""

    command: str  # "setup" or "verify"
    directory: Path
    project: Project | None = None
    target: Target | None = None
    lock: LockResult | None = None
    generation: Generation | None = None
    verification: Verification | None = None
    diagnosis: Diagnosis | None = None  # setup, when it built a new environment
    changed: bool = False  # DIR/.venv was switched to a new generation
    attempts: tuple[Attempt, ...] = ()  # the repair's, the lock's first
    tests_asked: bool = False  # --tests
    proof: ProofReport | None = None  # with --tests: None when the project has nothing to run
    set_aside: tuple[SetAside, ...] = ()  # requirements left out so the rest could be delivered
    short: str = ""  # why the repair stopped before a verified environment
    kept: str = ""  # a better environment was kept; the new generation left for rollback --to
    left_for_rollback: str = ""  # that new generation's name
    stale: tuple[str, ...] = ()  # verify: why the environment no longer matches the project
    moved_aside: str = ""  # a foreign .venv moved aside, as said
    previous: str | None = None  # the generation switched away from
    own_build_error: str = ""  # the project's own package did not build (its source on the path)
    own_build_faults: tuple[PackagingFault, ...] = ()  # what in its packaging is wrong, when known
    error: BulletproofError | None = None

    @property
    def incomplete(self) -> bool:
        """Delivered, short of what the project asks for: something set aside, a better
        environment kept instead, or what it needs still failing."""
        broken = self.verification is not None and self.verification.verdict is Verdict.BROKEN
        return bool(self.set_aside or self.kept or broken)

    @property
    def tests_failed(self) -> bool:
        return self.proof is not None and not self.proof.ok

    @property
    def venv(self) -> Path:
        return self.directory / ".venv"

    def environment(self) -> dict[str, Any] | None:
        """The JSON report's `environment` object (docs/json-report.md)."""
        if self.generation is None:
            return None
        extra: dict[str, Any] = {}
        if self.changed:
            extra["previous"] = self.previous
        if self.moved_aside:
            extra["moved_aside"] = self.moved_aside
        if self.left_for_rollback:
            extra["left_for_rollback"] = self.left_for_rollback
        if self.own_build_error:
            extra["own_build_error"] = self.own_build_error
        if self.own_build_faults:
            extra["own_build_faults"] = [f.to_dict() for f in self.own_build_faults]
        return {
            "path": str(self.generation.path),
            "generation": self.generation.path.name,
            "changed": self.changed,
            **extra,
        }


@dataclass(frozen=True)
class DoctorResult:
    host: Host
    project: Project | None = None
    target: Target | None = None
    lock: LockResult | None = None
    diagnosis: Diagnosis | None = None
    error: BulletproofError | None = None


@dataclass(frozen=True)
class Done:
    """A command that changes one thing and says what: rollback, generate."""

    message: str
    said: tuple[str, ...] = ()  # worth the user's attention, beside the closing line
    moved_aside: str = ""
    project: Project | None = None
    error: BulletproofError | None = None


def closing(result: EnvResult) -> tuple[ExitCode, str]:
    """The exit code and closing line of a `setup` or `verify` that returned (errors are
    rendered from the error itself). The order says which outcome outranks which."""
    assert result.verification is not None
    venv = result.venv
    if result.command == "verify":
        return _verify_closing(result, venv)
    gen = result.generation.path.name if result.generation else "?"
    what = f"{venv} {'switched to' if result.changed else 'unchanged:'} {gen}"
    if result.own_build_error and not result.incomplete:  # its code imports from its source
        return ExitCode.USABLE, (
            f"usable: {what} (the project's own package is not installed: see above)"
        )
    if result.tests_failed:
        return ExitCode.FAILED, f"{what}, and its tests did not pass"
    if result.incomplete:
        return ExitCode.INCOMPLETE, f"incomplete: {what} (what is missing is listed)"
    if result.verification.verdict is Verdict.USABLE:
        return ExitCode.USABLE, f"usable: {what} (what is left is listed)"
    return ExitCode.OK, f"verified: {what}"


def _verify_closing(result: EnvResult, venv: Path) -> tuple[ExitCode, str]:
    assert result.verification is not None
    verdict = result.verification.verdict
    if result.stale:  # whatever the imports and tests said, setup is what it needs
        return ExitCode.OUT_OF_DATE, f"out of date: {venv} (run setup to bring it back)"
    if result.tests_failed:
        return ExitCode.FAILED, f"not verified: {venv} (its tests did not pass)"
    if result.set_aside and verdict is not Verdict.BROKEN:
        # what imports works; what setup left out is still missing
        return ExitCode.INCOMPLETE, f"incomplete: {venv} (what is missing is listed)"
    if verdict is Verdict.VERIFIED:
        return ExitCode.OK, f"verified: {venv}"
    if verdict is Verdict.USABLE:
        return ExitCode.USABLE, f"usable: {venv} (what is left is listed)"
    return ExitCode.FAILED, f"not verified: {venv}"
