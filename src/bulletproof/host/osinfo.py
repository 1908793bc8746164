"""os-release parsing (freedesktop.org format), libc detection."""

from __future__ import annotations

import os
import platform
import shlex
from pathlib import Path

from bulletproof.model import Libc, OsInfo

OS_RELEASE_PATHS = (Path("/etc/os-release"), Path("/usr/lib/os-release"))


def parse_os_release(text: str) -> OsInfo:
    values: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            parts = shlex.split(value)
        except ValueError:  # an unbalanced quote: keep the raw text rather than fail the probe
            parts = [value.strip("\"'")]
        values[key.strip()] = parts[0] if parts else ""
    return OsInfo(
        id=values.get("ID", "linux").lower(),
        id_like=tuple(values.get("ID_LIKE", "").lower().split()),
        version_id=values.get("VERSION_ID", ""),
        version_codename=values.get("VERSION_CODENAME", ""),
        ubuntu_codename=values.get("UBUNTU_CODENAME", ""),
        pretty_name=values.get("PRETTY_NAME", ""),
    )


def read_os_info(paths: tuple[Path, ...] = OS_RELEASE_PATHS) -> OsInfo:
    for path in paths:
        try:
            return parse_os_release(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    system = platform.system().lower() or "unknown"
    return OsInfo(id=system, version_id=platform.release(), pretty_name=platform.platform())


def detect_libc() -> Libc:
    try:
        # "glibc 2.36" on glibc; musl has no such confstr value and raises
        text = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        text = ""
    if text.startswith("glibc"):
        return Libc("glibc", text.split()[-1])
    name, version = platform.libc_ver()
    if name:
        return Libc(name, version)
    if any(Path("/lib").glob("ld-musl-*")):
        return Libc("musl", "")
    return Libc("unknown", "")
