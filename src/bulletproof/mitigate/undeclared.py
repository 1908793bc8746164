"""A module the project's code imports and nothing installed provides: which requirement would
bring it. The project's own extras and groups first (it names them), then the import-name data,
then the module's own name on the index, only when that distribution's wheel really ships the
module (a name alone is a typo or a squatter's as often as not); each is checked by installing
it and importing again, and undone when the module is still missing. A module of the target
interpreter's standard library is never looked for on the index: the system package that holds
its file, else another build of Python."""

from __future__ import annotations

from collections.abc import Callable

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bulletproof.host.filequery import Query
from bulletproof.knowledge import module_sources
from bulletproof.lockfile.values import AddedRequirement
from bulletproof.mitigate.propose import Context, system_for_file
from bulletproof.mitigate.provides import provides
from bulletproof.mitigate.values import Fix
from bulletproof.model import Failure, FixKind, Project
from bulletproof.verify import stdlib


def next_fix(failure: Failure, project: Project, declared: list[str], ctx: Context) -> Fix | None:
    """The next fix to try for an import nothing provides (``failure.package``: the module),
    one at a time; None when nothing known is left."""
    module = failure.package
    python = ctx.facts.interpreter.path
    own = stdlib.ask(python)
    if own is not None and module in own:
        if not own.system_owned():
            return None  # another build's files: a system package does not reach it
        for path in own.files(module):
            fix = system_for_file(Query("stdlib", path), ctx)
            if fix is not None and not ctx.memory.is_tried(fix):
                return Fix(fix.kind, fix.value, module, reason=f"{fix.reason} ({module})")
        return None

    def ships(distribution: str, name: str) -> bool:
        return provides(distribution, name, python=python, cwd=project.root)

    for added in proposals(module, project, declared, provides=ships):
        fix = Fix(FixKind.REQUIREMENT, added.requirement, module, reason=added.reason)
        if not ctx.memory.is_tried(fix):
            return fix
    return None


def unresolved(failure: Failure, ctx: Context) -> str:
    """What the run ends with when nothing is left to try for the module."""
    module = failure.package
    own = stdlib.ask(ctx.facts.interpreter.path)
    if own is not None and module in own:
        return (
            f"the standard library's {module} is missing from this interpreter and no system "
            "package here provides it: another build of Python (one built with it) is needed"
        )
    return f"nothing known provides {module}; not added (no requirement was made up for it)"


def proposals(
    module: str,
    project: Project,
    declared: list[str],
    *,
    provides: Callable[[str, str], bool] = lambda _distribution, _module: False,
) -> list[AddedRequirement]:
    """Requirements to try for ``module`` (a top-level name), most likely first.
    ``declared``: requirements of the project's extras and groups that were not chosen;
    ``provides(distribution, module)``: whether that distribution's wheel ships the module,
    asked only of the distribution named like the module (nothing else vouches for it)."""
    out: list[AddedRequirement] = []
    data = module_sources()
    wanted = {canonicalize_name(module), canonicalize_name(f"python-{module}")}
    for name in (module, module.split(".", maxsplit=1)[0]):
        if name in data:
            wanted.add(canonicalize_name(Requirement(data[name].requirement).name))
    for text in declared:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if canonicalize_name(req.name) in wanted:
            out.append(
                AddedRequirement(module, text, "named in the project's own extras or groups")
            )
    for name in (module, module.split(".", maxsplit=1)[0]):
        if name in data:
            source = data[name]
            out.append(
                AddedRequirement(
                    module,
                    source.requirement,
                    source.reason or f"{name} is provided by {source.requirement}",
                )
            )
    same = module.replace("_", "-")
    known = {canonicalize_name(Requirement(a.requirement).name) for a in out}
    if canonicalize_name(same) not in known and provides(same, module):
        out.append(
            AddedRequirement(
                module, same, f"the distribution of the same name, whose wheel ships {module}"
            )
        )
    first: dict[str, AddedRequirement] = {}
    for added in out:
        first.setdefault(added.requirement, added)
    return list(first.values())
