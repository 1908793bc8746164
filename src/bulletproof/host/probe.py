"""probe_host(): everything bulletproof needs to know about this machine."""

from __future__ import annotations

import platform
import shutil

from bulletproof import proc
from bulletproof.errors import ToolError
from bulletproof.host.osinfo import detect_libc, read_os_info
from bulletproof.host.pythons import find_interpreters
from bulletproof.host.values import Host

COMPILERS = ("cc", "gcc", "clang", "c++", "rustc", "cargo", "pkg-config")
PACKAGE_MANAGERS = ("apt-get", "dnf", "yum", "pacman", "apk", "zypper", "brew")


def _version_line(command: str) -> str | None:
    path = shutil.which(command)
    if path is None:
        return None
    try:
        done = proc.run([path, "--version"], timeout=10)
    except ToolError:
        return None
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if lines else "present"


def probe_host() -> Host:
    compilers = tuple((c, v) for c in COMPILERS if (v := _version_line(c)) is not None)
    manager = next((m for m in PACKAGE_MANAGERS if shutil.which(m)), None)
    return Host(
        os=read_os_info(),
        arch=platform.machine(),
        libc=detect_libc(),
        interpreters=find_interpreters(),
        compilers=compilers,
        package_manager=manager,
    )
