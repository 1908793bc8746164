"""Mapping from os-release to the right PEP 804 file, package names and commands, per distro."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bulletproof.host import pkgmgr
from bulletproof.host.osinfo import parse_os_release, read_os_info
from bulletproof.knowledge.mappings import ecosystem_for, load_mapping
from tests.conftest import not_here

OS_RELEASES = {
    "debian-12": 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n',
    "debian-13": 'ID=debian\nVERSION_ID="13"\nVERSION_CODENAME=trixie\n',
    "debian-testing": "ID=debian\nVERSION_CODENAME=forky\n",
    "ubuntu-22.04": 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="22.04"\nUBUNTU_CODENAME=jammy\n',
    "ubuntu-24.04": 'ID=ubuntu\nID_LIKE=debian\nVERSION_ID="24.04"\nUBUNTU_CODENAME=noble\n',
    "mint-22.1": 'ID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="22.1"\n'
    "VERSION_CODENAME=xia\nUBUNTU_CODENAME=noble\n",
    "mint-21.3": 'ID=linuxmint\nID_LIKE="ubuntu debian"\nVERSION_ID="21.3"\n'
    "UBUNTU_CODENAME=jammy\n",
    "fedora-41": "ID=fedora\nVERSION_ID=41\n",
    "rocky-9": 'ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\n',
    "arch": "ID=arch\nBUILD_ID=rolling\n",
    "manjaro": "ID=manjaro\nID_LIKE=arch\n",
    "alpine-3.20": "ID=alpine\nVERSION_ID=3.20.3\n",
    "gentoo": "ID=gentoo\nPRETTY_NAME=Gentoo Linux\n",
}


@pytest.mark.parametrize(
    ("release", "ecosystem"),
    [
        ("debian-12", "debian-12"),
        ("debian-13", "debian-13"),
        ("debian-testing", "debian-13"),
        ("ubuntu-22.04", "ubuntu-22.04"),
        ("ubuntu-24.04", "ubuntu-24.04"),
        ("mint-22.1", "ubuntu-24.04"),
        ("mint-21.3", "ubuntu-22.04"),
        ("fedora-41", "fedora"),
        ("rocky-9", "fedora"),
        ("arch", "arch"),
        ("manjaro", "arch"),
        ("alpine-3.20", "alpine"),
        ("gentoo", None),
    ],
)
def test_ecosystem_from_os_release(release: str, ecosystem: str | None) -> None:
    assert ecosystem_for(parse_os_release(OS_RELEASES[release]), platform="linux") == ecosystem


def test_macos_is_homebrew() -> None:
    assert ecosystem_for(parse_os_release(""), platform="darwin") == "homebrew"


# (ecosystem, libpq for builds, libmagic at run time, mysql client for builds, install, query)
NAMES: list[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]]] = [
    (
        "debian-12",
        "libpq-dev",
        "libmagic1",
        "default-libmysqlclient-dev",
        ("apt-get", "install", "--yes", "--no-install-recommends"),
        ("dpkg-query", "--show"),
    ),
    (
        "debian-13",
        "libpq-dev",
        "libmagic1t64",
        "default-libmysqlclient-dev",
        ("apt-get", "install", "--yes", "--no-install-recommends"),
        ("dpkg-query", "--show"),
    ),
    (
        "ubuntu-22.04",
        "libpq-dev",
        "libmagic1",
        "libmysqlclient-dev",
        ("apt-get", "install", "--yes", "--no-install-recommends"),
        ("dpkg-query", "--show"),
    ),
    (
        "ubuntu-24.04",
        "libpq-dev",
        "libmagic1t64",
        "libmysqlclient-dev",
        ("apt-get", "install", "--yes", "--no-install-recommends"),
        ("dpkg-query", "--show"),
    ),
    (
        "fedora",
        "libpq-devel",
        "file-libs",
        "mariadb-connector-c-devel",
        ("dnf", "install", "--assumeyes"),
        ("rpm", "--query"),
    ),
    (
        "arch",
        "postgresql-libs",
        "file",
        "mariadb-libs",
        ("pacman", "-S", "--needed", "--noconfirm"),
        ("pacman", "-Q"),
    ),
    (
        "alpine",
        "libpq-dev",
        "libmagic",
        "mariadb-connector-c-dev",
        ("apk", "add", "--no-interactive"),
        ("apk", "info", "--installed"),
    ),
    (
        "homebrew",
        "libpq",
        "libmagic",
        "mysql-client",
        ("brew", "install"),
        ("brew", "list", "--versions"),
    ),
]


@pytest.mark.parametrize("row", NAMES, ids=[row[0] for row in NAMES])
def test_names_and_commands(
    row: tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ecosystem, libpq, magic, mysql, install, query = row
    mapping = load_mapping(ecosystem, extra_dirs=[])
    assert mapping.packages("dep:generic/libpq", "host") == (libpq,)
    assert mapping.packages("dep:generic/libmagic", "run") == (magic,)
    assert mapping.packages("dep:generic/libmysqlclient", "host") == (mysql,)
    assert mapping.packages("dep:generic/libpq@>=12", "host") == (libpq,)  # versions ignored
    assert mapping.packages("dep:generic/no-such-thing", "host") is None
    assert mapping.manager.install_command((libpq, magic)) == (*install, libpq, magic)
    assert mapping.manager.query_command(libpq)[: len(query)] == query
    assert mapping.manager.query_command(libpq)[-1] == libpq
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    commands = pkgmgr.install_commands(mapping.manager, (libpq,))
    assert commands[-1] == ((("sudo",) if ecosystem != "homebrew" else ()) + (*install, libpq))
    if mapping.manager.name == "apt":  # lists are refreshed first: stale ones give 404s
        assert commands[0][-2:] == ("apt-get", "update")
    monkeypatch.setattr("os.geteuid", lambda: 0)
    assert pkgmgr.install_commands(mapping.manager, (libpq,))[-1][0] != "sudo"


def test_every_mapping_knows_every_identifier_the_knowledge_uses() -> None:
    from bulletproof.knowledge import known_needs

    used = {
        i
        for n in known_needs().values()
        for i in (*n.build_requires, *n.host_requires, *n.dependencies)
    }
    import bulletproof.knowledge

    folder = Path(bulletproof.knowledge.__file__).parent / "mappings"
    paths = sorted(folder.glob("*.mapping.json"))
    assert len(paths) >= 4, f"the mappings shipped with the package are missing: {paths}"
    for path in paths:
        mapping = load_mapping(path.name.split(".mapping")[0], extra_dirs=[])
        unknown = {
            i
            for i in used
            if mapping.packages(i, "host") is None
            and mapping.packages(i, "run") is None
            and mapping.packages(i, "build") is None
        }
        assert not unknown, f"{path.name} cannot map {unknown}"


def test_installed_pep804_files_fill_gaps_and_ours_win(tmp_path: Path) -> None:
    standard = tmp_path / "share" / "external-packaging-metadata-mappings"
    standard.mkdir(parents=True)
    (standard / "debian.mapping.json").write_text(
        json.dumps(
            {
                "schema_version": 1,
                "name": "Debian",
                "package_managers": [],
                "mappings": [
                    {
                        "id": "dep:generic/libfoo",
                        "specs": {"build": [], "host": ["libfoo-dev"], "run": ["libfoo1"]},
                    },
                    {"id": "dep:generic/foo-alias", "specs_from": "dep:generic/libfoo"},
                    {"id": "dep:generic/everywhere", "specs": ["libeverywhere"]},
                    {"id": "dep:generic/libpq", "specs": {"host": ["not-this"]}},
                ],
            }
        )
    )
    (standard / "fedora.mapping.json").write_text("not json")  # ignored with a warning
    mapping = load_mapping("debian-12", extra_dirs=[standard])
    assert mapping.packages("dep:generic/libfoo", "host") == ("libfoo-dev",)
    assert mapping.packages("dep:generic/foo-alias", "run") == ("libfoo1",)
    assert mapping.packages("dep:generic/everywhere", "build") == ("libeverywhere",)
    assert mapping.packages("dep:generic/libpq", "host") == ("libpq-dev",)
    assert (
        load_mapping("fedora", extra_dirs=[standard]).packages("dep:generic/libfoo", "host") is None
    )


def test_apt_says_which_names_this_release_lacks() -> None:
    if ecosystem_for(read_os_info()) != "debian-12":
        not_here("asks this host's apt, which must be Debian 12")
    manager = load_mapping("debian-12", extra_dirs=[]).manager
    # the seed plan's own list failed on Debian 12 for exactly this name
    gone = pkgmgr.unavailable(
        manager, ("libmysqlclient-dev", "default-libmysqlclient-dev", "libpq-dev")
    )
    assert gone == frozenset({"libmysqlclient-dev"})
