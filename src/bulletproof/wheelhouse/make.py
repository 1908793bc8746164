"""`make_wheelhouse`: from a project's lock and its working environment, a folder another
machine of the same target can set the project up from with no network."""

from __future__ import annotations

import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bulletproof import __version__
from bulletproof.apply.generations import Generation, Store
from bulletproof.errors import InputError
from bulletproof.fsutil import write_json
from bulletproof.host.osinfo import detect_libc, read_os_info
from bulletproof.host.pythons import query
from bulletproof.host.values import Interpreter
from bulletproof.lockfile.lock import LOCK_NAME
from bulletproof.model import Project
from bulletproof.redaction import redact
from bulletproof.reporter import Reporter
from bulletproof.tomlcompat import tomllib
from bulletproof.verify.runtimelibs import runtime_needs
from bulletproof.wheelhouse.build import (
    backend_requirements,
    build_requirements,
    build_wheel,
    resolve_build_tools,
)
from bulletproof.wheelhouse.choose import Artefact, best_tag, choose, is_local, ranked_tags
from bulletproof.wheelhouse.fetch import Wanted, download_all, sha256_of
from bulletproof.wheelhouse.manifest import (
    BUILD_TOOL,
    BUILT,
    INDEX,
    LOCK_COPY,
    MANIFEST_NAME,
    HouseFile,
    HouseTarget,
    Manifest,
    read_manifest,
)

CONSTRAINTS_NAME = "bulletproof-build-constraints.txt"  # apply/install.py keeps it there


@dataclass(frozen=True)
class Made:
    path: Path
    manifest: Manifest
    size: int  # bytes, every file in it
    replaced: bool  # an earlier wheelhouse of ours was there


def make_wheelhouse(project: Project, out: Path, ui: Reporter) -> Made:
    """The wheelhouse for ``project``'s lock and current environment, written to ``out`` (a new
    folder, an empty one or an earlier wheelhouse of ours, replaced whole at the end)."""
    lock, generation = _inputs(project)
    replaced = _check_destination(out)
    interpreter = _interpreter(generation)
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new-"))
    umask = os.umask(0)
    os.umask(umask)
    scratch.chmod(0o777 & ~umask)  # a folder to share, not mkdtemp's private one
    try:
        files, left_out = _fill(
            project, lock=lock, generation=generation, interpreter=interpreter, into=scratch, ui=ui
        )
        shutil.copyfile(lock, scratch / LOCK_COPY)
        with ui.step("Finding what the environment needs from the system at run time") as detail:
            needs = runtime_needs(generation.path)
            detail.append(", ".join(needs.packages) or "nothing")
        manifest = Manifest(
            tool_version=__version__,
            created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            project=project.name,
            target=_target(interpreter, files),
            files=files,
            system_packages=needs.packages,
            system_libraries=needs.libraries,
            left_out=left_out,
        )
        write_json(scratch / MANIFEST_NAME, manifest.to_dict())
        _put_in_place(scratch, out)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    return Made(out, manifest, size, replaced)


def _inputs(project: Project) -> tuple[Path, Generation]:
    lock = project.root / LOCK_NAME
    generation = Store(project.root).current()
    if generation is None or not generation.complete or not lock.is_file():
        missing = f"no {LOCK_NAME}" if not lock.is_file() else "no environment (.venv)"
        raise InputError(
            f"{project.root}: {missing} to make a wheelhouse from",
            hint=f"run `bulletproof setup {project.root}` first: the wheelhouse carries what "
            "its lock and its working environment are made of",
        )
    return lock, generation


def _check_destination(out: Path) -> bool:
    """Whether ``out`` is an earlier wheelhouse of ours; InputError when it is something else
    that is not an empty folder (never written into)."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(f"--out {out}: exists and is not a folder")
    if not out.exists():
        return False
    if (out / MANIFEST_NAME).is_file():
        # replaced whole: only while it holds nothing but what its manifest says it made
        made = {f.file for f in read_manifest(out).files} | {MANIFEST_NAME, LOCK_COPY}
        if others := sorted(p.name for p in out.iterdir() if p.name not in made):
            raise InputError(
                f"--out {out}: a wheelhouse of bulletproof's that also holds what it did not "
                f"make ({', '.join(others[:5])}): it is left as it is",
                hint="move those aside, or name a new or empty folder",
            )
        return True
    if any(out.iterdir()):
        raise InputError(
            f"--out {out}: the folder is not empty and is not a bulletproof wheelhouse",
            hint="name a new or empty folder; bulletproof does not write into a folder it did "
            "not make",
        )
    return False


def _interpreter(generation: Generation) -> Interpreter:
    recorded = generation.meta().get("python-path")
    found = query(Path(recorded), "given") if recorded else None
    if found is None:
        raise InputError(
            f"{generation.path}: the interpreter it was built with ({recorded}) is gone",
            hint="run setup again, then make the wheelhouse",
        )
    return found


def _raw_packages(lock: Path) -> list[dict[str, Any]]:
    with lock.open("rb") as handle:
        packages: list[dict[str, Any]] = tomllib.load(handle).get("packages", [])
    return packages


def _fill(
    project: Project,
    *,
    lock: Path,
    generation: Generation,
    interpreter: Interpreter,
    into: Path,
    ui: Reporter,
) -> tuple[tuple[HouseFile, ...], tuple[str, ...]]:
    """Every file downloaded or built into ``into``; (their records, what was left out)."""
    ranks = ranked_tags(interpreter)
    chosen: list[Artefact] = []
    left_out: list[str] = []
    for raw in _raw_packages(lock):
        if is_local(raw):
            if (
                "directory" not in raw
                or Path(lock.parent, raw["directory"].get("path", ".")).resolve()
                != project.root.resolve()
            ):
                left_out.append(
                    f"{raw.get('name')}: a local or VCS source, installed from where it is"
                )
            continue
        artefact = choose(raw, ranks)
        if artefact is None:
            left_out.append(f"{raw.get('name')} {raw.get('version', '')}: no file with a hash")
        else:
            chosen.append(artefact)
    wheels = [a for a in chosen if a.tag]
    sdists = [a for a in chosen if not a.tag]
    files = _download(wheels, lock, into, INDEX, ui)
    files += _build(
        sdists, lock=lock, generation=generation, interpreter=interpreter, into=into, ui=ui
    )
    files += _build_tools(project, interpreter, into, {f.file for f in files}, ui)
    return tuple(sorted(files, key=lambda f: (f.name, f.file))), tuple(left_out)


def _wanted(artefacts: Iterable[Artefact], lock: Path, into: Path) -> list[Wanted]:
    """What to fetch, and from where: an earlier wheelhouse's copy of the file when there is one
    (its hash is checked all the same), else where the lock says."""
    out = []
    earlier = into.parent / into.name.split(".new-")[0].removeprefix(".")
    for a in artefacts:
        url = a.url if "://" in a.url else str((lock.parent / a.url).resolve())
        if (earlier / MANIFEST_NAME).is_file() and (earlier / a.file).is_file():
            url = str(earlier / a.file)
        out.append(Wanted(url, a.sha256, into / a.file))
    return out


def _download(
    artefacts: list[Artefact], lock: Path, into: Path, origin: str, ui: Reporter
) -> list[HouseFile]:
    if not artefacts:
        return []
    what = "build tools" if origin == BUILD_TOOL else "files the lock names"
    with ui.step(f"Downloading {len(artefacts)} {what}") as detail:
        download_all(_wanted(artefacts, lock, into))
        detail.append(f"{sum((into / a.file).stat().st_size for a in artefacts) >> 20} MiB")
    return [
        HouseFile(
            a.file, a.name, a.version, a.sha256, origin, redact(a.url) if "://" in a.url else ""
        )
        for a in artefacts
    ]


def _build(
    sdists: list[Artefact],
    *,
    lock: Path,
    generation: Generation,
    interpreter: Interpreter,
    into: Path,
    ui: Reporter,
) -> list[HouseFile]:
    if not sdists:
        return []
    sources = into / ".sdists"
    sources.mkdir()
    download_all(_wanted(sdists, lock, sources))
    constraints = generation.path / CONSTRAINTS_NAME
    files = []
    for a in sdists:
        with ui.step(f"Building a wheel of {a.name} {a.version} from its sdist") as detail:
            wheel = build_wheel(sources / a.file, a, interpreter.path, constraints, into)
            detail.append(wheel.name)
        files.append(HouseFile(wheel.name, a.name, a.version, sha256_of(wheel), BUILT))
    shutil.rmtree(sources)
    return files


def _build_tools(
    project: Project, interpreter: Interpreter, into: Path, have: set[str], ui: Reporter
) -> list[HouseFile]:
    """The project's build requirements for the target, and what its backend asks for besides
    them to build it editable (asked of it in an environment installed from the wheelhouse)."""
    requires = build_requirements(project)
    if not requires:
        return []
    files = _tools(requires, project, interpreter=interpreter, into=into, have=have, ui=ui)
    with ui.step("Asking the project's build backend what an editable build needs") as detail:
        more = backend_requirements(project, interpreter.path, into, requires)
        detail.append(", ".join(more) or "nothing more")
    if more:
        have = have | {f.file for f in files}
        files += _tools(
            (*requires, *more), project, interpreter=interpreter, into=into, have=have, ui=ui
        )
    return files


def _tools(
    requires: tuple[str, ...],
    project: Project,
    *,
    interpreter: Interpreter,
    into: Path,
    have: set[str],
    ui: Reporter,
) -> list[HouseFile]:
    with ui.step(f"Resolving the project's build requirements ({', '.join(requires)})"):
        scratch = into / ".tools"
        scratch.mkdir()
        tools_lock = resolve_build_tools(requires, interpreter.path, project.root, scratch)
        ranks = ranked_tags(interpreter)
        artefacts = [a for raw in _raw_packages(tools_lock) if (a := choose(raw, ranks))]
        shutil.rmtree(scratch)
    missing = [a for a in artefacts if not a.tag]
    if missing:  # a build tool published only as an sdist would need building at the other end
        raise InputError(
            "the project's build requirements include packages with no wheel for the target: "
            + ", ".join(f"{a.name} {a.version}" for a in missing)
        )
    new = [a for a in artefacts if a.file not in have]
    return _download(new, tools_lock, into, BUILD_TOOL, ui)


def _target(interpreter: Interpreter, files: tuple[HouseFile, ...]) -> HouseTarget:
    os_info = read_os_info()
    libc = detect_libc()
    ranks = ranked_tags(interpreter)
    needed = sorted({t for f in files if (t := best_tag(f.file, ranks))})
    return HouseTarget(
        implementation=interpreter.implementation,
        python=interpreter.version,
        machine=platform.machine(),
        libc=libc.name,
        libc_version=libc.version,
        os_id=os_info.id,
        os_version=os_info.version_id,
        tags=tuple(needed),
    )


def _put_in_place(scratch: Path, out: Path) -> None:
    """The new wheelhouse renamed into place; an earlier one (or an empty folder) removed."""
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        out.rename(old / "house")
        scratch.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        scratch.rename(out)
