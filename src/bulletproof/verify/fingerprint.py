"""An environment's fingerprint: what makes it what it is, as one frozen value that can be kept
as JSON and compared with another's (`fingerprintdiff.diff`).

The interpreter, the platform (machine, the most specific wheel platform tag, libc, OS), each
distribution with its version, the tag its wheel was built for and a hash of its content, and
the system packages the environment needs at run time. The content hash is over the files a
distribution installed inside site-packages (path and sha256 of the file as it is now), leaving
out what differs between two installs of the same wheel (bytecode, RECORD, INSTALLER, REQUESTED,
direct_url.json, console scripts whose shebangs name the venv): the same wheel installed into
two venvs hashes the same, and an edited file changes it."""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import json
import platform
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging import tags
from packaging.utils import canonicalize_name

from bulletproof import proc
from bulletproof.errors import ToolError
from bulletproof.host.osinfo import detect_libc, read_os_info
from bulletproof.verify.distributions import Distribution, distributions
from bulletproof.verify.runtimelibs import runtime_needs

SCHEMA = 1
QUERY_TIMEOUT = 60.0
# written by the installer, not the wheel: they differ between two installs of the same wheel
_INSTALLER_FILES = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})
_INTERPRETER_SCRIPT = (
    "import json, platform, sys; "
    "print(json.dumps([sys.implementation.name, platform.python_version()]))"
)


@dataclass(frozen=True)
class Platform:
    machine: str  # "x86_64"
    tag: str  # the most specific wheel platform tag here: "manylinux_2_36_x86_64"
    libc: str  # "glibc"
    libc_version: str
    os_id: str  # os-release ID: "debian"
    os_version: str  # os-release VERSION_ID: "12"


@dataclass(frozen=True)
class InstalledDistribution:
    name: str  # normalized
    version: str
    tags: tuple[str, ...]  # the WHEEL file's Tag lines, sorted: what the wheel was built for
    content: str  # "sha256:<hex>" over the files it installed in site-packages
    editable: bool = False  # installed from a folder in place: its files are the project's
    requires_python: str = ""  # its Requires-Python: why another interpreter gets another version
    requires: tuple[str, ...] = ()  # its Requires-Dist: why another interpreter adds or drops one


@dataclass(frozen=True)
class SystemPackage:
    name: str
    version: str  # "" when the package manager does not say


@dataclass(frozen=True)
class Fingerprint:
    implementation: str  # "cpython"
    python: str  # "3.12.3"
    platform: Platform
    distributions: tuple[InstalledDistribution, ...]  # by name
    system_packages: tuple[SystemPackage, ...]  # by name
    unresolved_libraries: tuple[str, ...] = ()  # sonames needed and not found on the system

    def distribution(self, name: str) -> InstalledDistribution | None:
        wanted = canonicalize_name(name)
        return next((d for d in self.distributions if d.name == wanted), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "interpreter": {"implementation": self.implementation, "version": self.python},
            "platform": {
                "machine": self.platform.machine,
                "tag": self.platform.tag,
                "libc": {"name": self.platform.libc, "version": self.platform.libc_version},
                "os": {"id": self.platform.os_id, "version": self.platform.os_version},
            },
            "distributions": [
                {
                    "name": d.name,
                    "version": d.version,
                    "tags": list(d.tags),
                    "content": d.content,
                    "editable": d.editable,
                    "requires_python": d.requires_python,
                    "requires": list(d.requires),
                }
                for d in self.distributions
            ],
            "system_packages": [
                {"name": p.name, "version": p.version} for p in self.system_packages
            ],
            "unresolved_libraries": list(self.unresolved_libraries),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fingerprint:
        """The value `to_dict` wrote; ValueError when it is not one (or of a newer schema)."""
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise ValueError(f"not a fingerprint of schema {SCHEMA} (schema: {found!r})")
        try:
            plat, interp = data["platform"], data["interpreter"]
            return cls(
                implementation=str(interp["implementation"]),
                python=str(interp["version"]),
                platform=Platform(
                    machine=str(plat["machine"]),
                    tag=str(plat["tag"]),
                    libc=str(plat["libc"]["name"]),
                    libc_version=str(plat["libc"]["version"]),
                    os_id=str(plat["os"]["id"]),
                    os_version=str(plat["os"]["version"]),
                ),
                distributions=tuple(
                    InstalledDistribution(
                        name=str(d["name"]),
                        version=str(d["version"]),
                        tags=tuple(map(str, d["tags"])),
                        content=str(d["content"]),
                        editable=bool(d.get("editable", False)),
                        requires_python=str(d.get("requires_python", "")),
                        requires=tuple(map(str, d.get("requires", ()))),
                    )
                    for d in data["distributions"]
                ),
                system_packages=tuple(
                    SystemPackage(str(p["name"]), str(p["version"]))
                    for p in data["system_packages"]
                ),
                unresolved_libraries=tuple(map(str, data.get("unresolved_libraries", ()))),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(
                f"fingerprint malformed: {exc!r} missing or of the wrong type"
            ) from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Fingerprint:
        return cls.from_dict(json.loads(text))


def fingerprint(env: Path) -> Fingerprint:
    """The fingerprint of the venv at ``env`` on this system; ToolError when its interpreter
    does not run."""
    implementation, version = _interpreter(env)
    with ThreadPoolExecutor(max_workers=4) as pool:  # hashing releases the GIL on large files
        installed = list(pool.map(installed_distribution, distributions(env)))
    needs = runtime_needs(env)
    return Fingerprint(
        implementation=implementation,
        python=version,
        platform=this_platform(),
        distributions=tuple(sorted(installed, key=lambda d: (d.name, d.version))),
        system_packages=package_versions(needs.packages),
        unresolved_libraries=tuple(sorted(needs.unresolved)),
    )


def _interpreter(env: Path) -> tuple[str, str]:
    done = proc.run([str(env / "bin" / "python"), "-I", "-c", _INTERPRETER_SCRIPT], timeout=60.0)
    try:
        implementation, version = json.loads(done.stdout)
    except ValueError:
        raise ToolError(
            f"the interpreter of {env} did not run", detail=done.stderr or done.stdout
        ) from None
    return str(implementation), str(version)


def this_platform() -> Platform:
    os_info = read_os_info()
    libc = detect_libc()
    return Platform(
        machine=platform.machine(),
        tag=_most_specific(list(tags.platform_tags())),
        libc=libc.name,
        libc_version=libc.version,
        os_id=os_info.id,
        os_version=os_info.version_id,
    )


def _most_specific(platforms: list[str]) -> str:
    """The tag that says most of this platform: manylinux_2_36_x86_64 rather than the plain
    linux_x86_64 (which packaging may list first), macosx_14_0_arm64, win_amd64."""
    return next(
        (t for t in platforms if not t.startswith("linux_")), platforms[0] if platforms else ""
    )


def installed_distribution(dist: Distribution) -> InstalledDistribution:
    requires_python, requires = _requires(dist.dist_info)
    return InstalledDistribution(
        name=canonicalize_name(dist.name),
        version=dist.version,
        tags=_wheel_tags(dist.dist_info),
        content=content_hash(dist),
        editable=_editable(dist.dist_info),
        requires_python=requires_python,
        requires=requires,
    )


def content_hash(dist: Distribution) -> str:
    """sha256 over the sorted (path, file hash) of the files it installed in site-packages; a
    file RECORD names that is gone counts as "missing", an unreadable RECORD as no files."""
    try:
        rows = dist.record()
    except (OSError, ValueError):
        rows = []
    info_dir = dist.dist_info.name
    lines = []
    for row in rows:
        path = row.path.replace("\\", "/")
        if not _counted(path, info_dir):
            continue
        lines.append(f"{path}\t{_file_hash(dist.site_packages / path)}\n")
    digest = hashlib.sha256("".join(sorted(lines)).encode())
    return f"sha256:{digest.hexdigest()}"


def _counted(path: str, info_dir: str) -> bool:
    # outside site-packages (../../../bin/...): scripts with the venv in their shebang, data
    if path.startswith(("../", "/")):
        return False
    if path.endswith((".pyc", ".pyo")) or "__pycache__/" in path:
        return False
    folder, _, name = path.rpartition("/")
    return not (folder == info_dir and name in _INSTALLER_FILES)


def _file_hash(path: Path) -> str:
    h = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                h.update(chunk)
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    # RECORD's own encoding, so a row reads the same as the recorded hash of an intact file
    return "sha256=" + base64.urlsafe_b64encode(h.digest()).rstrip(b"=").decode()


def _wheel_tags(info: Path) -> tuple[str, ...]:
    try:
        text = (info / "WHEEL").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ()
    found = set()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "tag" and value.strip():
            found.add(value.strip())
    return tuple(sorted(found))


def _requires(info: Path) -> tuple[str, tuple[str, ...]]:
    """Its Requires-Python and Requires-Dist lines, from its METADATA."""
    try:
        meta = importlib.metadata.Distribution.at(info).metadata
    except ValueError:  # not UTF-8
        return "", ()
    if meta is None:  # no METADATA
        return "", ()
    requires = tuple(str(line) for line in meta.get_all("Requires-Dist") or ())
    return str((meta.get_all("Requires-Python") or [""])[0]), requires


def _editable(info: Path) -> bool:
    try:
        data = json.loads((info / "direct_url.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    dir_info = data.get("dir_info") if isinstance(data, dict) else None
    return isinstance(dir_info, dict) and bool(dir_info.get("editable"))


def package_versions(names: tuple[str, ...]) -> tuple[SystemPackage, ...]:
    """Each system package with its installed version, from dpkg or rpm ("" when neither
    says: another package manager, or a name not installed)."""
    versions: dict[str, str] = {}
    if names and shutil.which("dpkg-query"):
        done = proc.run(
            ["dpkg-query", "-W", "-f", "${Package}\t${Version}\t${Status}\n", *names],
            timeout=QUERY_TIMEOUT,
        )
        versions = _dpkg_versions(done.stdout)
    elif names and shutil.which("rpm"):
        done = proc.run(
            ["rpm", "-q", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\n", *names],
            timeout=QUERY_TIMEOUT,
        )
        versions = dict(
            line.split("\t", 1) for line in done.stdout.splitlines() if line.count("\t") == 1
        )
    return tuple(SystemPackage(n, versions.get(n.split(":")[0], "")) for n in sorted(set(names)))


def _dpkg_versions(text: str) -> dict[str, str]:
    versions = {}
    for line in text.splitlines():
        parts = line.split("\t")
        # dpkg remembers removed packages ("deinstall ok config-files"): only installed counts
        if len(parts) == 3 and parts[2].endswith(" installed"):
            versions[parts[0]] = parts[1]
    return versions
