"""A fresh Debian system for a test: extracted from a cached debootstrap tarball (made by
scripts/fresh-system.sh), with proc/dev/sys mounted, and bulletproof installed from a wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("BULLETPROOF_TEST_CACHE") or Path.home() / ".cache/bulletproof-tests")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CERTS = "/etc/ssl/certs/ca-certificates.crt"


def rootfs_tarball(suite: str) -> Path:
    """The suite's fresh system as a tarball, built once per machine (about 30 s)."""
    tarball = CACHE / f"{suite}.tar"
    if not tarball.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(REPO / "scripts/fresh-system.sh"), suite, str(tarball)], check=True)
    return tarball


class FreshSystem:
    def __init__(self, root: Path, suite: str):
        self.root = root
        self.suite = suite

    def run(
        self, argv: Sequence[str], *, timeout: float = 1800, env: Sequence[str] = ()
    ) -> subprocess.CompletedProcess[str]:
        """Run a command inside, as root with a plain environment (no host settings leak in),
        plus the ``env`` settings given (NAME=value)."""
        settings = [
            *env,
            f"PATH={PATH}",
            "HOME=/root",
            "LANG=C.UTF-8",
            f"SSL_CERT_FILE={CERTS}",
            f"PIP_CERT={CERTS}",
            "PIP_DISABLE_PIP_VERSION_CHECK=1",
        ]
        return subprocess.run(
            ["chroot", str(self.root), "/usr/bin/env", "-i", *settings, *argv],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def must(self, argv: Sequence[str], *, timeout: float = 1800) -> str:
        done = self.run(argv, timeout=timeout)
        assert done.returncode == 0, (
            f"{argv} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout

    def path(self, inside: str) -> Path:
        return self.root / inside.lstrip("/")


def _mount(args: list[str]) -> None:
    subprocess.run(["mount", *args], check=True)


@contextmanager
def fresh_system(suite: str, where: Path, wheel: Path) -> Iterator[FreshSystem]:
    """Extract the suite's system into ``where``, mount what a build needs, install bulletproof."""
    root = where / "root"
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "-xf", str(rootfs_tarball(suite))], check=True)
    # downloads only: the packages themselves are installed afresh in every system; the
    # archive's Contents index (the file index bulletproof reads) is checked against each
    # system's own apt Release before it is used, as it is on a user's machine
    caches = {
        "var/cache/apt/archives": CACHE / f"apt-{suite}",
        "root/.cache/pip": CACHE / "pip",
        "root/.cache/bulletproof/contents": CACHE / f"contents-{suite}",
    }
    mounted: list[Path] = []
    try:
        for inside, source in (
            ("proc", None),
            ("sys", Path("/sys")),
            ("dev", Path("/dev")),
            ("dev/pts", Path("/dev/pts")),
        ):
            target = root / inside
            _mount(
                ["-t", "proc", "proc", str(target)]
                if source is None
                else ["--bind", str(source), str(target)]
            )
            mounted.append(target)
        for inside, source in caches.items():
            source.mkdir(parents=True, exist_ok=True)
            target = root / inside
            target.mkdir(parents=True, exist_ok=True)
            _mount(["--bind", str(source), str(target)])
            mounted.append(target)
        system = FreshSystem(root, suite)
        shutil.copy(wheel, root / "opt" / wheel.name)
        system.must(["python3", "-m", "venv", "/opt/bulletproof"])
        system.must(["/opt/bulletproof/bin/pip", "install", "--quiet", f"/opt/{wheel.name}"])
        yield system
    finally:
        for target in reversed(mounted):
            subprocess.run(["umount", "--lazy", str(target)], check=False)
        still = subprocess.run(
            ["findmnt", "-rno", "TARGET"], capture_output=True, text=True, check=False
        ).stdout
        if str(root) not in still:  # never delete through a mount that is still there
            shutil.rmtree(root, ignore_errors=True)
