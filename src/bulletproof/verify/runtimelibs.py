"""What an environment needs from the system at run time: the shared libraries its compiled files
ask the loader for that the environment does not ship itself, and the system packages that ship
them on this machine.

A wheel repaired by auditwheel carries its libraries (``pkg.libs/``, found through its RPATH); a
wheel built here from source links against the system's (``libpq.so.5``). Only the second kind
leaves the environment: those are what a wheelhouse, a container's final image or another
machine must provide. Their own dependencies are the package manager's to pull in, so only the
direct ones are named.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bulletproof import proc
from bulletproof.verify.elfneeded import dynamic

QUERY_TIMEOUT = 120.0
# what `ldconfig -p` calls this machine's architecture, beside each library
_LDCONFIG_ARCH = {"x86_64": "x86-64", "aarch64": "AArch64", "ppc64le": "64bit", "s390x": "64bit"}
_LDCONFIG_LINE = re.compile(r"^\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)\s*$")
_DEFAULT_DIRS = ("/lib", "/usr/lib", "/lib64", "/usr/lib64", "/usr/local/lib")


@dataclass(frozen=True)
class RuntimeNeeds:
    libraries: tuple[str, ...]  # sonames the env's compiled files need from outside the env
    packages: tuple[str, ...]  # the system packages that ship them here, sorted
    unresolved: tuple[str, ...]  # sonames not found on this system


def runtime_needs(env: Path) -> RuntimeNeeds:
    """What the venv at ``env`` (DIR/.venv or a generation) needs from the system."""
    root = env.resolve()
    outside = sorted(_needed_outside(root))
    where = _system_paths(outside)
    unresolved = tuple(name for name in outside if name not in where)
    owners = _owners(where.values())
    packages = sorted({owners[path] for path in where.values() if path in owners})
    return RuntimeNeeds(tuple(outside), tuple(packages), unresolved)


def _compiled_files(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            if name.endswith(".so") or ".so." in name:
                path = Path(dirpath, name)
                if not path.is_symlink():
                    yield path


def _needed_outside(root: Path) -> set[str]:
    """The sonames some compiled file under ``root`` needs and nothing in the env provides."""
    shipped: set[str] = set()
    wanted: dict[str, set[str]] = {}  # soname -> the directories that file searches first
    for path in _compiled_files(root):
        shipped.add(path.name)
        found = dynamic(path)
        if found is None:
            continue
        origin = str(path.parent)
        dirs = {s.replace("$ORIGIN", origin).replace("${ORIGIN}", origin) for s in found.search}
        for soname in found.needed:
            wanted.setdefault(soname, set()).update(dirs | {origin})
    outside: set[str] = set()
    for soname, dirs in wanted.items():
        if soname in shipped or any(Path(d, soname).exists() for d in dirs):
            continue
        outside.add(soname)
    return outside


def _system_paths(sonames: list[str]) -> dict[str, str]:
    """Where the loader finds each soname on this system (its cache, then the usual folders)."""
    if not sonames:
        return {}
    arch = _LDCONFIG_ARCH.get(platform.machine(), "")
    cache: dict[str, str] = {}
    ldconfig = shutil.which("ldconfig") or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if Path(p).exists()), None
    )
    if ldconfig:
        done = proc.run([ldconfig, "-p"], timeout=QUERY_TIMEOUT)
        for line in done.stdout.splitlines():
            match = _LDCONFIG_LINE.match(line)
            if match and (not arch or arch in match.group(2)):
                cache.setdefault(match.group(1), match.group(3))
    found: dict[str, str] = {}
    for soname in sonames:
        if soname in cache:
            found[soname] = cache[soname]
            continue
        for folder in _DEFAULT_DIRS:
            hit = next(Path(folder).glob(f"*/{soname}"), None) or Path(folder, soname)
            if hit.exists():
                found[soname] = str(hit)
                break
    return found


def _owners(paths: Iterable[str]) -> dict[str, str]:
    """The system package that owns each path (dpkg or rpm); a path no package owns is left
    out. /lib and /usr/lib are one folder on a merged-/usr system, but the package records name
    only one of them, so each spelling is asked."""
    spellings: dict[str, str] = {}  # a spelling to ask -> the path it stands for
    for path in paths:
        for spelling in _spellings(path):
            spellings.setdefault(spelling, path)
    if not spellings:
        return {}
    if shutil.which("dpkg"):
        return _dpkg_owners(spellings)
    if shutil.which("rpm"):
        return _rpm_owners(spellings)
    return {}


def _spellings(path: str) -> list[str]:
    real = os.path.realpath(path)
    out = [path, real]
    for p in (path, real):
        if p.startswith("/usr/lib/"):
            out.append(p[len("/usr") :])
        elif p.startswith("/lib/"):
            out.append("/usr" + p)
    return list(dict.fromkeys(out))


def _dpkg_owners(spellings: dict[str, str]) -> dict[str, str]:
    # one query for all: dpkg prints "pkg:arch, other: /path" for each it knows (and fails for
    # the rest, which is fine)
    done = proc.run(["dpkg", "-S", *spellings], timeout=QUERY_TIMEOUT)
    owners: dict[str, str] = {}
    for line in done.stdout.splitlines():
        names, sep, path = line.partition(": ")
        if not sep or path.strip() not in spellings:
            continue
        first = names.split(",")[0].strip().split(":")[0]
        if first and not first.startswith("diversion"):
            owners.setdefault(spellings[path.strip()], first)
    return owners


def _rpm_owners(spellings: dict[str, str]) -> dict[str, str]:
    owners: dict[str, str] = {}
    for spelling, path in spellings.items():
        if path in owners:
            continue
        done = proc.run(["rpm", "-qf", "--qf", "%{NAME}\n", spelling], timeout=QUERY_TIMEOUT)
        if done.ok and done.stdout.strip():
            owners[path] = done.stdout.split()[0]
    return owners
