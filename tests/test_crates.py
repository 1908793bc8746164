"""A Rust crate cargo could not get: named from cargo's own words, placed in the system's crate
registry by the file index, and cargo pointed at that registry. The crate names are made up at
test time (no table, signature or code names them); the file index is a local one."""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import pytest

from bulletproof.analyze.named import named
from bulletproof.analyze.signatures import match
from bulletproof.host.crates import CONFIG, REGISTRY
from bulletproof.host.filequery import Query
from bulletproof.host.present import System
from bulletproof.host.pythons import query
from bulletproof.knowledge.mappings import load_mapping
from bulletproof.mitigate.context import Asks, Facts
from bulletproof.mitigate.propose import Context, pick
from bulletproof.model import Failure, FixKind, Stage
from tests.test_evidence_first import _index, contents_only


def _crate() -> str:
    return "zq-" + secrets.token_hex(3)


def _cargo_said(crate: str) -> str:
    """What cargo says when crates.io is out of reach (the shape of a real maturin build's log)."""
    return "\n".join(
        [
            "    Updating crates.io index",
            f"error: failed to get `{crate}` as a dependency of package `core v0.1.0 (/src/core)`",
            "",
            "Caused by:",
            f"  failed to load source for dependency `{crate}`",
            "",
            "Caused by:",
            "  Unable to update registry `crates-io`",
            "💥 maturin failed",
            "  Caused by: Cargo metadata failed. Does your crate compile with `cargo build`?",
        ]
    )


def test_cargos_wordings_name_the_crate() -> None:
    one, two = _crate(), _crate()
    text = _cargo_said(one) + f"\nerror: no matching package named `{two}` found\n"
    assert [q for q in named(text) if q.kind == "crate"] == [
        Query("crate", one),
        Query("crate", two),
    ]
    hits = match(text, "build")
    assert ("cargo-crate-unreachable", {"crate": one}) in [(h.signature.id, h.values) for h in hits]


def test_the_file_index_places_a_crate_by_its_registry_folder() -> None:
    pattern = Query("crate", "pyo3").path_pattern()
    assert pattern.match("usr/share/cargo/registry/pyo3-0.17.3/Cargo.toml")
    assert not pattern.match("usr/share/cargo/registry/pyo3-ffi-0.17.3/Cargo.toml")
    assert not pattern.match("usr/share/cargo/registry/pyo3-0.17.3/src/lib.rs")


@pytest.fixture
def setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The cache (where the cargo home is written) in tmp_path; the file index is the list of
    Contents files the test fills; the package manager says nothing is installed."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return contents_only(monkeypatch)


def _context(root: Path, *, allow_system: bool = True, cwd: Path | None = None) -> Context:
    interpreter = query(Path(sys.executable), "given")
    assert interpreter is not None
    facts = Facts(
        load_mapping("debian-12", extra_dirs=[]),
        interpreter,
        cwd or root,
        {},
        system=System(root=root, path=str(root / "bin")),
        allow_system=allow_system,
    )
    return Context(facts, Asks(nearest=lambda *_, **__: None, build_tools=lambda *_: []))


def _failure(crate: str) -> Failure:
    return Failure("core", Stage.BUILD, _cargo_said(crate))


def test_a_crate_the_index_places_gets_its_package_and_cargo_the_systems_registry(
    tmp_path: Path, setting: list[Path]
) -> None:
    crate = _crate()
    setting.append(
        _index(tmp_path, f"usr/share/cargo/registry/{crate}-1.2.3/Cargo.toml   rust/librust-x-dev")
    )
    system = tmp_path / "system"
    system.mkdir()
    picked = pick(_failure(crate), match(_cargo_said(crate), "build"), _context(system))
    fixes = [(f.kind, f.value) for _, f in picked]
    assert (FixKind.SYSTEM, "librust-x-dev") in fixes, fixes
    home = tmp_path / "cache" / "bulletproof" / "cargo-system-registry"
    assert (FixKind.ENV, f"CARGO_HOME={home}") in fixes, fixes
    config = (home / "config.toml").read_text()
    assert config == CONFIG
    assert f'directory = "{REGISTRY}"' in config and 'replace-with = "system-registry"' in config
    assert all(m is not None for m, _ in picked)  # judged by the crate the signature names


@pytest.mark.parametrize("allow_system", [True, False])
def test_a_crate_the_system_has_needs_only_the_registry(
    tmp_path: Path, setting: list[Path], allow_system: bool
) -> None:
    """Also where no system package may be installed (--no-system): none is needed."""
    crate = _crate()
    system = tmp_path / "system"
    (system / "usr/share/cargo/registry" / f"{crate}-0.9.0").mkdir(parents=True)
    (system / "usr/share/cargo/registry" / f"{crate}-0.9.0" / "Cargo.toml").write_text("")
    context = _context(system, allow_system=allow_system)
    picked = pick(_failure(crate), match(_cargo_said(crate), "build"), context)
    assert [f.kind for _, f in picked] == [FixKind.ENV], picked
    assert picked[0][1].value.startswith("CARGO_HOME=")


def test_a_crate_nothing_packages_leaves_cargo_as_it_is(
    tmp_path: Path, setting: list[Path]
) -> None:
    crate = _crate()
    setting.append(_index(tmp_path, "usr/share/cargo/registry/other-1.0.0/Cargo.toml   rust/o"))
    system = tmp_path / "system"
    system.mkdir()
    picked = pick(_failure(crate), match(_cargo_said(crate), "build"), _context(system))
    assert all(f.kind is not FixKind.ENV for _, f in picked), picked
    assert not (tmp_path / "cache" / "bulletproof" / "cargo-system-registry").exists()


def test_a_lock_in_place_names_no_crate_and_the_manifests_say_which(
    tmp_path: Path, setting: list[Path]
) -> None:
    """With a Cargo.lock, cargo that cannot reach crates.io names no crate (a real log): the
    crates the project's manifests name from a registry are placed and installed; a path
    dependency and cargo's own build output are not read."""
    crate, renamed, local = _crate(), _crate(), _crate()
    project = tmp_path / "project"
    (project / "core").mkdir(parents=True)
    (project / "core" / "Cargo.toml").write_text(
        '[package]\nname = "core"\nversion = "0.1.0"\n\n[dependencies]\n'
        f'{crate} = {{ version = "1", features = ["x"] }}\n'
        f'alias = {{ package = "{renamed}", version = "2" }}\n'
        f'{local} = {{ path = "../{local}" }}\n'
    )
    (project / "core" / "target" / "package").mkdir(parents=True)
    (project / "core" / "target" / "package" / "Cargo.toml").write_text(
        "[dependencies]\nzz = '1'\n"
    )
    setting.append(
        _index(
            tmp_path,
            f"usr/share/cargo/registry/{crate}-1.0.3/Cargo.toml   rust/librust-a-dev",
            f"usr/share/cargo/registry/{renamed}-2.1.0/Cargo.toml   rust/librust-b-dev",
        )
    )
    system = tmp_path / "system"
    system.mkdir()
    text = (Path(__file__).parent / "fixtures/logs/cargo-registry-unreachable.log").read_text()
    assert [q for q in named(text) if q.kind == "crate"] == []  # it names none
    failure = Failure("core", Stage.BUILD, text)
    picked = pick(failure, match(text, "build"), _context(system, cwd=project))
    fixes = [(f.kind, f.value.split("=")[0]) for _, f in picked]
    assert fixes == [
        (FixKind.SYSTEM, "librust-a-dev"),
        (FixKind.SYSTEM, "librust-b-dev"),
        (FixKind.ENV, "CARGO_HOME"),
    ], fixes
    assert all(m is not None for m, _ in picked)
