"""A module the project's code imports and nothing installed provides: which requirement would
bring it. The project's own extras and groups first (it names them), then the import-name data,
then the module's own name on the index; each is checked by installing it and importing again,
and undone when the module is still missing."""

from __future__ import annotations

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from bulletproof.knowledge import module_sources
from bulletproof.model import AddedRequirement, Project


def proposals(module: str, project: Project, declared: list[str]) -> list[AddedRequirement]:
    """Requirements to try for ``module`` (a top-level name), most likely first.
    ``declared``: requirements of the project's extras and groups that were not chosen."""
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
    out.append(
        AddedRequirement(
            module, module.replace("_", "-"), "the distribution of the same name on the index"
        )
    )
    first: dict[str, AddedRequirement] = {}
    for added in out:
        first.setdefault(added.requirement, added)
    return list(first.values())
