"""Container images for the fresh-system tests: buildah and podman with a storage of the tests'
own (under the test cache, never the machine's /var/lib/containers), the vfs driver and chroot
isolation (what works here: no overlay, no user namespaces), and a base image imported from the
fresh-system tarball, since no image registry is reachable.

The base is imported once per tarball: a stamp beside the storage records which tarball (size
and time) the image came from, and a file lock keeps two test processes from importing at once.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from tests.fresh.system import CACHE, rootfs_tarball

STORE = CACHE / "containers"
BASE_NAME = "localhost/bulletproof-test-base"


def storage_options() -> list[str]:
    """The global options every buildah or podman call of the tests takes."""
    return [
        "--root",
        str(STORE / "root"),
        "--runroot",
        str(STORE / "run"),
        "--storage-driver",
        "vfs",
    ]


def buildah(args: Sequence[str], *, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
    """buildah with the tests' storage; output kept, never raised on."""
    return subprocess.run(
        ["buildah", *storage_options(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def build(
    context: Path, tag: str, *, volumes: Sequence[str] = (), target: str = "", timeout: float = 1800
) -> subprocess.CompletedProcess[str]:
    """``buildah bud`` of the Containerfile in ``context`` (stdout and stderr together, as a
    build log reads), with chroot isolation and without intermediate layers."""
    argv = ["bud", "--isolation", "chroot", "--layers=false", "-t", tag, "-f"]
    argv += [str(context / "Containerfile")]
    for volume in volumes:
        argv += ["-v", volume]
    if target:
        argv += ["--target", target]
    return subprocess.run(
        ["buildah", *storage_options(), *argv, str(context)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def _import_lock(suite: str) -> Iterator[None]:
    STORE.mkdir(parents=True, exist_ok=True)
    with (STORE / f"import-{suite}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def base_image(suite: str) -> str:
    """The suite's fresh system as a local image (imported the first time, and again when the
    tarball is rebuilt); its name for FROM."""
    assert shutil.which("buildah") and shutil.which("podman"), (
        "buildah and podman are missing: `make test-deps` installs them"
    )
    tarball = rootfs_tarball(suite)
    name = f"{BASE_NAME}:{suite}"
    info = tarball.stat()
    wanted = f"{tarball.name} {info.st_size} {int(info.st_mtime)}\n"
    stamp = STORE / f"base-{suite}.stamp"
    with _import_lock(suite):
        present = buildah(["inspect", "--type", "image", name]).returncode == 0
        if present and stamp.exists() and stamp.read_text() == wanted:
            return name
        done = subprocess.run(
            ["podman", *storage_options(), "import", str(tarball), name],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, f"importing {tarball} failed:\n{done.stderr}"
        tmp = stamp.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(wanted)
        tmp.replace(stamp)
    return name
