"""The system's own Rust crate registry, for a cargo build that cannot reach crates.io.

Debian and Fedora package Rust crates as system packages (Debian's `librust-pyo3-dev`) that put
each crate's source in one folder, `/usr/share/cargo/registry/pyo3-0.17.3/`, laid out as a cargo
directory source. A build that names a crate cargo could not get gets that crate's package (the
file index places it) and a cargo home whose config replaces crates.io with that folder. The
cargo home is bulletproof's own, in its cache: the project's `.cargo/config.toml` and the user's
`~/.cargo` are never written."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_cache_path

from bulletproof.fsutil import write_text
from bulletproof.host.filequery import CRATE_REGISTRY

REGISTRY = Path("/") / CRATE_REGISTRY

CONFIG = f"""\
# Written by bulletproof: cargo reads crates from the system's registry ({REGISTRY}), the crates
# the system's packages installed, instead of crates.io, which a build here could not reach.
[source.crates-io]
replace-with = "system-registry"

[source.system-registry]
directory = "{REGISTRY}"
"""


def registry_home(cache: Path | None = None) -> Path:
    """A cargo home (CARGO_HOME) whose config reads crates from the system's registry; its
    config written when it is missing or not this text."""
    home = (cache or user_cache_path("bulletproof")) / "cargo-system-registry"
    config = home / "config.toml"
    if not config.is_file() or config.read_text(encoding="utf-8") != CONFIG:
        home.mkdir(parents=True, exist_ok=True)
        write_text(config, CONFIG)
    return home
