"""The exit codes and the exception tree. An error carries its exit code; the flows return it
inside their result and `commands` renders it (see docs/cli.md)."""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Every exit code bulletproof returns; docs/cli.md says what each means."""

    OK = 0  # setup/verify: verified; doctor: nothing blocks setup
    FAILED = 1  # not verified, a tool failed, or (doctor) something blocks setup
    USAGE = 2  # bad usage or input: nothing was changed
    BUSY = 3  # another run holds the project's lock
    USABLE = 4  # what the project's code imports works; what is left is optional or its own
    OUT_OF_DATE = 5  # verify: the environment no longer matches the project: run setup
    INCOMPLETE = 6  # the best environment the run could build, with what is missing listed
    INTERRUPTED = 130


class BulletproofError(Exception):
    """Root of every error bulletproof reports to the user.

    ``exit_code`` is what the CLI returns; ``hint`` says what the user can do about it.
    """

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, hint: str | None = None, detail: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.detail = detail


class InputError(BulletproofError):
    """The user's input (a file, a flag, a folder) is wrong; nothing was changed."""

    exit_code = ExitCode.USAGE


class ResolutionError(InputError):
    """The requirements cannot be satisfied together, or name something that does not exist."""


class InterpreterNotFound(InputError):
    """No interpreter matches what was asked for."""


class ToolError(BulletproofError):
    """An external tool (uv, an interpreter) failed in a way that is not the user's input."""


class BuildError(BulletproofError):
    """The new environment could not be built; the current one is untouched."""


class FetchError(ToolError):
    """A source could not be fetched (a VCS host that does not answer): not a build failure,
    so no build fix is tried for it. ``package`` is the requirement's name when uv said it."""

    package = ""


class EnvironmentFault(BulletproofError):
    """The machine, not the project's input nor its packages: nothing a fix to the project's
    packages could change, so the repair loop stops at once."""

    exit_code = ExitCode.FAILED  # as a failed run, not USAGE: the input was fine


class DiskFull(EnvironmentFault):
    """A write failed with ENOSPC; the half-built generation is discarded, ``.venv`` kept.
    ``where`` is the mount point that filled, ``needed`` the estimate in bytes (if any)."""

    def __init__(self, message: str, *, where: str, needed: int | None, **kw: str) -> None:
        super().__init__(message, **kw)
        self.where = where
        self.needed = needed


class Busy(BulletproofError):
    """Another bulletproof run holds the project's lock."""

    exit_code = ExitCode.BUSY


class NothingToRollBack(InputError):
    """``rollback`` found no previous verified generation."""


class LockBuildError(BuildError):
    """A source distribution the resolver had to build to read its metadata did not build."""

    def __init__(self, message: str, *, package: str, version: str, detail: str) -> None:
        super().__init__(message, detail=detail)
        self.package = package
        self.version = version
