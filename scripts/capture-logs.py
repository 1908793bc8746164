"""Capture the real failure logs that tests/fixtures/logs holds: each is what uv or Python printed
when a real package failed for a real reason, on a fresh Debian 12 (what the system lacks) or on
this host's interpreters (what a Python version removed). Run as root from the repository:

    python scripts/capture-logs.py [NAME ...]

The signature tests read the files; this script only documents and repeats how they were made.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fresh.system import fresh_system  # noqa: E402

OUT = REPO / "tests/fixtures/logs"
UV_VENV = "/opt/bulletproof/bin/uv venv --quiet --python /usr/bin/python3 /tmp/v"
PIP = "/opt/bulletproof/bin/uv pip install --python /tmp/v/bin/python"
PY = "/tmp/v/bin/python -c"  # noqa: S108  (inside the throwaway system)
APT = "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends"

# On a fresh Debian 13: a C API that Python 3.13 no longer declares.
TRIXIE: list[tuple[str | None, str]] = [
    (None, UV_VENV),
    (None, f"apt-get update -q && {APT} gcc libc6-dev python3-dev libpq-dev"),
    ("c-api-removed", f"{PIP} psycopg2==2.9.9"),
]

# On a fresh Debian 12, in order: each step changes the system a little more.
FRESH: list[tuple[str | None, str]] = [
    (None, UV_VENV),
    ("helper-pg-config", f"{PIP} psycopg2==2.9.9"),
    ("pkg-config-tool-missing", f"{PIP} mysqlclient==2.2.4"),
    ("compiler-missing", f"{PIP} pyaudio==0.2.14"),
    ("helper-krb5-config", f"{PIP} gssapi==1.9.0"),
    (None, f"{PIP} python-magic==0.4.27 pyzbar==0.1.9 sounddevice==0.5.1 cairocffi==1.7.1"),
    (None, f"{PIP} opencv-python==4.10.0.84 pylibdmtx==0.1.10"),
    ("import-libmagic", f"{PY} 'import magic'"),
    ("import-zbar", f"{PY} 'import pyzbar.pyzbar'"),
    ("import-portaudio", f"{PY} 'import sounddevice'"),
    ("import-cairo", f"{PY} 'import cairocffi'"),
    ("import-shared-object", f"{PY} 'import cv2'"),
    ("import-dmtx", f"{PY} 'import pylibdmtx.pylibdmtx'"),
    (None, "apt-get update -q"),
    (None, f"{APT} gcc libc6-dev"),
    ("python-h-missing", f"{PIP} pyaudio==0.2.14"),
    (None, f"{APT} python3-dev"),
    ("header-missing", f"{PIP} pyaudio==0.2.14"),
    (None, f"{APT} pkg-config"),
    ("pkg-config-name-not-found", f"{PIP} mysqlclient==2.2.4"),
    ("pkg-config-package-not-found", f"{PIP} pycairo==1.27.0"),
    # a -dev package whose link library went missing: ld's own wording
    (None, f"{APT} portaudio19-dev && rm /usr/lib/x86_64-linux-gnu/libportaudio.[sa]*"),
    ("library-missing", f"{PIP} pyaudio==0.2.14"),
]

PYENV = Path.home() / ".pyenv/versions"
# On this host's interpreters: what a newer Python or a newer build tool broke.
HOST: list[tuple[str, str, list[str]]] = [
    ("distutils-removed", "3.12", ["install", "numpy==1.24.4"]),
    ("cython3", "3.11", ["install", "PyYAML==5.4.1"]),
    ("rust-missing-maturin", "3.11", ["install", "--no-binary", "rpds-py", "rpds-py==0.22.3"]),
    (
        "rust-missing-setuptools",
        "3.11",
        ["install", "--no-binary", "cryptography", "cryptography==3.4.8"],
    ),
]
HOST_IMPORTS: list[tuple[str, str, list[str], str]] = [
    ("removed-api-import", "3.11", ["wrapt==1.12.1"], "import wrapt"),
    (
        "pkg-resources-gone",
        "3.11",
        ["opentelemetry-instrumentation==0.46b0", "setuptools>=82"],
        "import opentelemetry.instrumentation.dependencies",
    ),
]


def _save(name: str, done: subprocess.CompletedProcess[str]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # no machine paths in the fixtures: the home folder and this host's interpreter builds
    text = (done.stdout + done.stderr).replace(str(PYENV), "/opt/python")
    text = text.replace(str(Path.home()), "~")
    (OUT / f"{name}.log").write_text(text)
    print(f"{name}: exit {done.returncode}, {len(text.splitlines())} lines")


def fresh(only: set[str], wheel: Path, suite: str, steps: list[tuple[str | None, str]]) -> None:
    with tempfile.TemporaryDirectory() as tmp, fresh_system(suite, Path(tmp), wheel) as box:
        for name, command in steps:
            done = box.run(["sh", "-c", command])
            if name is None:
                assert done.returncode == 0, done.stderr
            elif not only or name in only:
                _save(name, done)


def host(only: set[str]) -> None:
    uv = str(REPO / ".dev/bin/uv")
    env = {**os.environ, "UV_NO_CACHE": "1"}
    path = [p for p in env["PATH"].split(":") if ".cargo" not in p]
    for name, version, args in HOST:
        if only and name not in only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            python = str(next(PYENV.glob(f"{version}.*")) / "bin/python")
            subprocess.run([uv, "venv", "-q", "--python", python, tmp + "/v"], check=True)
            run_env = {**env, "PATH": ":".join(path)} if "rust" in name else env
            done = subprocess.run(
                [uv, "pip", *args, "--python", tmp + "/v/bin/python"],
                capture_output=True,
                text=True,
                env=run_env,
                check=False,
            )
            _save(name, done)
    for name, version, packages, code in HOST_IMPORTS:
        if only and name not in only:
            continue
        with tempfile.TemporaryDirectory() as tmp:
            python = str(next(PYENV.glob(f"{version}.*")) / "bin/python")
            subprocess.run([uv, "venv", "-q", "--python", python, tmp + "/v"], check=True)
            subprocess.run(
                [uv, "pip", "install", "-q", *packages, "--python", tmp + "/v/bin/python"],
                check=True,
                env=env,
            )
            done = subprocess.run(
                [tmp + "/v/bin/python", "-c", code], capture_output=True, text=True, check=False
            )
            _save(name, done)


def network(only: set[str]) -> None:
    """uv against an index it cannot trust (a self-signed certificate) and one it cannot reach."""
    uv = str(REPO / ".dev/bin/uv")
    with tempfile.TemporaryDirectory() as tmp:
        key, cert = f"{tmp}/key.pem", f"{tmp}/cert.pem"
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
                "-keyout",
                key,
                "-out",
                cert,
            ],
            check=True,
            capture_output=True,
        )
        server = subprocess.Popen(
            [
                "openssl",
                "s_server",
                "-quiet",
                "-accept",
                "18443",
                "-key",
                key,
                "-cert",
                cert,
                "-www",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for name, index in (
                ("tls-self-signed", "https://localhost:18443/simple"),
                ("registry-unreachable", "http://127.0.0.1:9/simple"),
            ):
                if only and name not in only:
                    continue
                done = subprocess.run(
                    [
                        uv,
                        "pip",
                        "compile",
                        "-",
                        "--no-cache",
                        "--index-url",
                        index,
                        "--no-header",
                        "-q",
                    ],
                    input="six==1.16.0\n",
                    capture_output=True,
                    text=True,
                    check=False,
                )
                _save(name, done)
        finally:
            server.terminate()


if __name__ == "__main__":
    wanted = set(sys.argv[1:])
    host(wanted)
    network(wanted)
    for suite, steps in (("bookworm", FRESH), ("trixie", TRIXIE)):
        if not wanted or wanted & {n for n, _ in steps if n}:
            with tempfile.TemporaryDirectory() as dist:
                uv = str(REPO / ".dev/bin/uv")
                subprocess.run([uv, "build", "-q", "--wheel", "-o", dist, str(REPO)], check=True)
                fresh(wanted, next(Path(dist).glob("*.whl")), suite, steps)
