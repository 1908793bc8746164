"""`wheelhouse DIR [--out PATH]`: the project's lock and current environment made into a folder
an offline setup builds from, and said (`Done`)."""

from __future__ import annotations

from pathlib import Path

from bulletproof.errors import BulletproofError
from bulletproof.flow.results import Done
from bulletproof.project import discover
from bulletproof.reporter import Reporter
from bulletproof.wheelhouse.make import make_wheelhouse
from bulletproof.wheelhouse.manifest import BUILD_TOOL, BUILT, INDEX

DEFAULT_FOLDER = "wheelhouse"


def wheelhouse(directory: Path, out: Path | None, ui: Reporter) -> Done:
    try:
        project = discover(directory)
        where = (out or project.root / DEFAULT_FOLDER).absolute()
        made = make_wheelhouse(project, where, ui)
    except BulletproofError as exc:
        return Done("", error=exc)
    files = made.manifest.files
    counts = {o: sum(f.origin == o for f in files) for o in (INDEX, BUILT, BUILD_TOOL)}
    said = [
        f"{counts[INDEX]} wheels from the index, {counts[BUILT]} built here from sdists, "
        f"{counts[BUILD_TOOL]} build tools of the project",
        f"made for {made.manifest.target.describe()}",
    ]
    packages = made.manifest.system_packages
    said.append(
        "run-time system packages it needs: " + (", ".join(packages) if packages else "none")
    )
    said += [f"left out: {why}" for why in made.manifest.left_out]
    if made.replaced:
        said.append("an earlier wheelhouse there was replaced")
    size = f"{made.size / (1 << 20):.1f} MiB"
    return Done(
        f"wrote the wheelhouse {made.path} ({len(files)} files, {size}); set up from it with: "
        f"bulletproof setup DIR --offline --wheelhouse {made.path}",
        said=tuple(said),
        project=project,
    )
