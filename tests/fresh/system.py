"""A fresh Debian system for a test: extracted from a cached debootstrap tarball (made by
scripts/fresh-system.sh), with proc/dev/sys mounted, and bulletproof installed from a wheel."""

from __future__ import annotations

import fcntl
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


# the test process's name among concurrent ones (pytest-xdist's gw0, gw1, ...), "" when alone
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


@contextmanager
def cache_lock(name: str) -> Iterator[None]:
    """One test process at a time makes a cached thing (a tarball, an image) that all share."""
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def rootfs_tarball(suite: str) -> Path:
    """The suite's fresh system as a tarball, built once per machine (about 30 s)."""
    tarball = CACHE / f"{suite}.tar"
    with cache_lock(f"{suite}.tar"):
        if not tarball.exists():
            script = str(REPO / "scripts/fresh-system.sh")
            subprocess.run([script, suite, str(tarball)], check=True)
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


def _seed(cache: Path, shared: Path) -> None:
    """A worker's own cache starts as hard links to what the shared one already holds, all but
    apt's lock file: a lock shared by hard link is one lock, and a worker's apt-get would wait
    for (and then fail on) another worker's."""
    if cache != shared and not cache.exists() and shared.is_dir():
        with cache_lock(cache.name):
            if not cache.exists():
                part = cache.with_name(cache.name + ".part")
                shutil.copytree(
                    shared, part, copy_function=os.link, ignore=shutil.ignore_patterns("lock")
                )
                part.rename(cache)
    lock = cache / "lock"
    if lock.is_file() and lock.stat().st_nlink > 1:  # seeded before the lock was left out
        lock.unlink()


@contextmanager
def fresh_system(
    suite: str, where: Path, wheel: Path, *, install: bool = True
) -> Iterator[FreshSystem]:
    """Extract the suite's system into ``where``, mount what a build needs, install bulletproof
    (``install=False``: the system as it is, for a test that installs it another way)."""
    root = where / "root"
    root.mkdir()
    subprocess.run(["tar", "-C", str(root), "-xf", str(rootfs_tarball(suite))], check=True)
    # downloads only: the packages themselves are installed afresh in every system; the
    # archive's Contents index (the file index bulletproof reads) is checked against each
    # system's own apt Release before it is used, as it is on a user's machine. apt locks its
    # archive folder while it downloads, so systems running at once each have their own.
    mine = f"-{WORKER}" if WORKER else ""
    caches = {
        "var/cache/apt/archives": CACHE / f"apt-{suite}{mine}",
        "root/.cache/pip": CACHE / "pip",
        "root/.cache/bulletproof/contents": CACHE / f"contents-{suite}{mine}",
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
            _seed(source, CACHE / source.name.removesuffix(mine) if mine else source)
            source.mkdir(parents=True, exist_ok=True)
            target = root / inside
            target.mkdir(parents=True, exist_ok=True)
            _mount(["--bind", str(source), str(target)])
            mounted.append(target)
        system = FreshSystem(root, suite)
        if install:
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
