"""os-release (freedesktop.org format) and libc detection.

This system's os-release is read by the standard library (``platform.freedesktop_os_release``:
/etc/os-release, then /usr/lib/os-release). Text that is not this system's (a test's file, a
chroot's) has no reader there, so ``parse_os_release`` reads it by the format's rules."""

from __future__ import annotations

import os
import platform
import shlex
from collections.abc import Mapping
from pathlib import Path

from bulletproof.host.values import Libc
from bulletproof.model import OsInfo


def parse_os_release(text: str) -> OsInfo:
    return _os_info(_fields(text))


def _fields(text: str) -> dict[str, str]:
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
    return values


def _os_info(values: Mapping[str, str]) -> OsInfo:
    return OsInfo(
        id=values.get("ID", "linux").lower(),
        id_like=tuple(values.get("ID_LIKE", "").lower().split()),
        version_id=values.get("VERSION_ID", ""),
        version_codename=values.get("VERSION_CODENAME", ""),
        ubuntu_codename=values.get("UBUNTU_CODENAME", ""),
        pretty_name=values.get("PRETTY_NAME", ""),
    )


def read_os_info(paths: tuple[Path, ...] | None = None) -> OsInfo:
    """This system's os-release; ``paths``: the first readable of these files instead. Without
    one, the kernel's name and release."""
    try:
        if paths is None:
            return _os_info(platform.freedesktop_os_release())
        return parse_os_release(_first_readable(paths))
    except (OSError, UnicodeDecodeError):  # none there, or not UTF-8 (the standard's encoding)
        system = platform.system().lower() or "unknown"
        return OsInfo(id=system, version_id=platform.release(), pretty_name=platform.platform())


def _first_readable(paths: tuple[Path, ...]) -> str:
    for path in paths:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    raise FileNotFoundError(f"none of {', '.join(map(str, paths))} can be read")


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
