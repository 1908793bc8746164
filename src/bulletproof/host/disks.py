"""Which filesystem a path is on (its device and mount point, from the mount table) and how much
room is left there: what a full disk is named by."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

_MOUNTINFO = Path("/proc/self/mountinfo")


@dataclass(frozen=True)
class Disk:
    device: str  # the mount table's source: /dev/sda1, tmpfs, overlay
    mount_point: Path
    free: int  # bytes an unprivileged write may still use

    def describe(self) -> str:
        return f"{self.device} at {self.mount_point}"


def existing(path: Path) -> Path:
    """The nearest folder of ``path`` that exists (a failed write leaves none of its own)."""
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def disk_of(path: Path) -> Disk:
    """The filesystem ``path`` (or its nearest existing folder) is written to."""
    real = Path(os.path.realpath(existing(path)))
    stat = os.statvfs(real)
    free = stat.f_bavail * stat.f_frsize
    device, point = _mount_entry(real)
    return Disk(device, point, free)


def _mount_entry(real: Path) -> tuple[str, Path]:
    """(source, mount point) of the longest mount point above ``real``; without a mount table,
    the nearest folder that is a mount point names both."""
    best: tuple[str, Path] | None = None
    try:
        lines = _MOUNTINFO.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        # id parent major:minor root MOUNT-POINT options [optional…] - fstype SOURCE superopts
        fields, _, tail = line.partition(" - ")
        parts, rest = fields.split(), tail.split()
        if len(parts) < 5 or len(rest) < 2:
            continue
        point = Path(_unescape(parts[4]))
        if real.is_relative_to(point) and (best is None or len(point.parts) >= len(best[1].parts)):
            best = (_unescape(rest[1]), point)  # a later mount over the same point wins
    if best is not None:
        return best
    point = real
    while not os.path.ismount(point) and point != point.parent:
        point = point.parent
    return str(point), point


def _unescape(field: str) -> str:
    """The mount table writes a space, a tab, a newline and a backslash as octal escapes."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field
