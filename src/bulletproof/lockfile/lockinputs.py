"""What `uv pip compile` is given for a project: its files, the extras and groups chosen, the
team's lock as constraints, the requirements added for undeclared imports, and the variables
its own build needs. Kept apart from lock.py, which runs uv and records the result, and
from uvoutput.py, which reads what uv said."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from packaging.markers import default_environment

from bulletproof.analyze.indexes import index_env
from bulletproof.errors import InputError
from bulletproof.host.values import Target
from bulletproof.model import Project
from bulletproof.shapes.scm import for_resolution
from bulletproof.shapes.teamlock import TeamLock, stale_reasons


# pip's index settings, honoured as uv's own when the user has not set uv's.
@dataclass(frozen=True)
class Inputs:
    args: tuple[str, ...]  # for uv pip compile, after the input files
    files: dict[str, str]  # name -> text, written into the scratch folder first
    env: dict[str, str]
    notes: tuple[str, ...]
    uses_team_lock: bool
    with_project: bool  # the project's own metadata is read (False: its build failed)


def marker_environment(target: Target) -> dict[str, str]:
    env = {str(k): str(v) for k, v in default_environment().items()}
    env["python_version"] = target.interpreter.minor
    env["python_full_version"] = target.interpreter.version
    env["implementation_name"] = target.interpreter.implementation
    return env


def lock_inputs(
    project: Project,
    target: Target,
    *,
    added: Sequence[str] = (),
    extras: Sequence[str] | None = None,
    team_lock: bool = True,
    with_project: bool = True,
) -> Inputs:
    """``extras`` overrides the project's (after uv said some guessed ones do not exist);
    ``team_lock=False`` resolves afresh; ``with_project=False`` leaves out the project's own
    metadata (its build failed)."""
    args: list[str] = []
    files: dict[str, str] = {}
    notes: list[str] = []
    extra_reqs = list(project.group_requirements) + list(added)
    if not with_project:
        extra_reqs = [*project.dependencies, *extra_reqs]
    if extra_reqs or not with_project:  # uv needs one input, even an empty one
        files["groups.txt"] = "".join(f"{r}\n" for r in extra_reqs)
        args.append("groups.txt")
    if project.pyproject is not None and with_project:
        if project.all_extras:
            args.append("--all-extras")
        else:
            chosen = project.extras + project.guessed_extras if extras is None else extras
            for extra in chosen:
                args += ["--extra", extra]
    uses = False
    if project.team_lock is not None and team_lock:
        constraints = _team_constraints(project, project.team_lock, target, notes)
        if constraints is not None:
            files["team-lock.txt"] = constraints
            args += ["--constraint", "team-lock.txt"]
            uses = True
    if project.build_env:
        notes.append(
            "no version control metadata for the project's own version: its build gets "
            + ", ".join(f"{k}={v}" for k, v in project.build_env)
        )
    env = for_resolution(dict(project.build_env))
    env.update(index_env())
    return Inputs(tuple(args), files, env, tuple(notes), uses, with_project)


def _team_constraints(
    project: Project, team: TeamLock, target: Target, notes: list[str]
) -> str | None:
    """The team's lock as a constraints file, or None when it is left out: stale or unreadable,
    each said in ``notes``. With --locked either is an input error naming the file instead."""
    locked = project.selection.locked
    if team.problem:
        if locked:
            raise InputError(
                f"{team.name} could not be read ({team.problem})",
                hint=f"--locked needs the team's lock: regenerate {team.name} with its tool, "
                "or run without --locked to resolve from the declared requirements",
            )
        notes.append(
            f"{team.name} could not be read ({team.problem}): "
            "resolved from the declared requirements instead"
        )
        return None
    stale = stale_reasons(team, project.direct_requirements, marker_environment(target))
    if stale and locked:
        raise InputError(
            f"{team.name} is out of date: {'; '.join(stale[:5])}",
            hint=f"update {team.name} with its tool, or run without --locked to resolve afresh",
        )
    if stale:
        notes.append(f"{team.name} is out of date ({'; '.join(stale[:3])}): resolved afresh")
        return None
    notes.append(f"the team's lock {team.name} honoured: its versions are kept")
    return "\n".join(team.constraints()) + "\n"
