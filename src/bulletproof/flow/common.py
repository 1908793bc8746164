"""What more than one command's flow needs: its options, the run lock, the target, the distro."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

from bulletproof.apply.generations import Store
from bulletproof.flow.results import EnvResult
from bulletproof.host.osinfo import read_os_info
from bulletproof.host.pythons import find_interpreters, select_target, target_from_lock
from bulletproof.host.values import Interpreter, Target
from bulletproof.knowledge.mappings import DistroMapping, ecosystem_for, load_mapping
from bulletproof.lockfile.lock import LOCK_NAME, LockMeta, read_lock_meta
from bulletproof.model import Project, Selection
from bulletproof.prove.projecttests import check_tests
from bulletproof.reporter import Reporter


@dataclass(frozen=True)
class TestsAsked:
    """--tests: run the project's tests in its environment, under the run lock."""

    timeout: float
    threshold: float | None  # the pass rate the gate asks for, 0..1; None: the project's


@dataclass(frozen=True)
class Options:
    """How a command was asked to run (the CLI's flags, as values)."""

    python: str | None = None  # --python
    full: bool = False  # import every submodule, and no cached verification
    import_timeout: float = 60.0
    lock_timeout: float = 300.0
    assume_yes: bool = False  # consent to system packages and moves that change the resolution
    system: bool = True  # False: --no-system
    selection: Selection | None = None  # extras and groups; None: the project's defaults
    strict: bool = False  # no partial delivery
    tests: TestsAsked | None = None
    offline: bool = False  # --offline: no network; uv's cache, or the wheelhouse, only
    wheelhouse: Path | None = None  # --wheelhouse: the folder `bulletproof wheelhouse` made


def choose_target(
    project: Project,
    wanted: str | None,
    ui: Reporter,
    found: tuple[Interpreter, ...] | None = None,
    lock_meta: LockMeta | None = None,
) -> Target:
    """The target interpreter; ``found`` and ``lock_meta`` spare a second read of what one has."""
    if lock_meta is None:
        lock_meta = read_lock_meta(project.root / LOCK_NAME)
    recorded = target_from_lock(lock_meta, project, wanted)
    if recorded is not None:
        return recorded
    if found is None:
        with ui.step("Finding interpreters") as detail:
            found = find_interpreters()
            detail.append(f"{len(found)} found")
    return select_target(project, wanted, found)


def locked_run(store: Store, ui: Reporter, timeout: float) -> AbstractContextManager[None]:
    return store.locked(timeout, lambda: ui.say("another bulletproof run is working here; waiting"))


def distro_mapping() -> DistroMapping | None:
    ecosystem = ecosystem_for(read_os_info())
    return load_mapping(ecosystem) if ecosystem else None


def other_interpreters(project: Project, target: Target) -> tuple[Interpreter, ...]:
    """Other local interpreters the project's requires-python allows, newest first."""
    allowed = SpecifierSet(project.requires_python or "")
    found = [
        i
        for i in find_interpreters()
        if i.minor != target.interpreter.minor
        and i.implementation == target.interpreter.implementation
        and allowed.contains(i.version, prereleases=True)
    ]
    return tuple(sorted(found, key=lambda i: Version(i.version), reverse=True))


def with_proof(result: EnvResult, options: Options, ui: Reporter) -> EnvResult:
    """With --tests: the project's tests run in its environment, still under the run lock (the
    run writes into the generation and may delete what it made in the project)."""
    if options.tests is None or result.project is None or result.verification is None:
        return result
    env = result.venv.resolve()
    with ui.step("Running the project's tests") as detail:
        proof = check_tests(
            result.project,
            env,
            timeout=options.tests.timeout,
            threshold=options.tests.threshold,
            full=options.full,
        )
        detail.append("none found" if proof is None else f"{proof.test_count} tests")
    return replace(result, tests_asked=True, proof=proof)
