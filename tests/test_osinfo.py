import shutil
import subprocess
from pathlib import Path

import pytest

from bulletproof.host.osinfo import detect_libc, parse_os_release, read_os_info

MINT_22_1 = """\
NAME="Linux Mint"
VERSION="22.1 (Xia)"
ID=linuxmint
ID_LIKE="ubuntu debian"
PRETTY_NAME="Linux Mint 22.1"
VERSION_ID="22.1"
VERSION_CODENAME=xia
UBUNTU_CODENAME=noble
"""


def test_mint_reports_its_ubuntu_base() -> None:
    info = parse_os_release(MINT_22_1)
    assert info.id == "linuxmint"
    assert info.id_like == ("ubuntu", "debian")
    assert (info.version_id, info.version_codename, info.ubuntu_codename) == (
        "22.1",
        "xia",
        "noble",
    )


# os-release texts as these releases ship them, each with what must be read from it, written out
DEBIAN_12 = """\
PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
VERSION_CODENAME=bookworm
ID=debian
HOME_URL="https://www.debian.org/"
"""
UBUNTU_24_04 = """\
PRETTY_NAME="Ubuntu 24.04.1 LTS"
NAME="Ubuntu"
VERSION_ID="24.04"
VERSION="24.04.1 LTS (Noble Numbat)"
VERSION_CODENAME=noble
ID=ubuntu
ID_LIKE=debian
UBUNTU_CODENAME=noble
LOGO=ubuntu-logo
"""
FEDORA_40 = """\
NAME="Fedora Linux"
VERSION="40 (Workstation Edition)"
ID=fedora
VERSION_ID=40
VERSION_CODENAME=""
PRETTY_NAME="Fedora Linux 40 (Workstation Edition)"
"""
ALPINE_3_20 = """\
NAME="Alpine Linux"
ID=alpine
VERSION_ID=3.20.3
PRETTY_NAME="Alpine Linux v3.20"
"""
ROCKY_9 = """\
NAME="Rocky Linux"
VERSION="9.4 (Blue Onyx)"
ID="rocky"
ID_LIKE="rhel centos fedora"
VERSION_ID="9.4"
PRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"
"""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DEBIAN_12, ("debian", (), "12", "bookworm", "", "Debian GNU/Linux 12 (bookworm)")),
        (UBUNTU_24_04, ("ubuntu", ("debian",), "24.04", "noble", "noble", "Ubuntu 24.04.1 LTS")),
        (FEDORA_40, ("fedora", (), "40", "", "", "Fedora Linux 40 (Workstation Edition)")),
        (ALPINE_3_20, ("alpine", (), "3.20.3", "", "", "Alpine Linux v3.20")),
        (
            ROCKY_9,
            ("rocky", ("rhel", "centos", "fedora"), "9.4", "", "", "Rocky Linux 9.4 (Blue Onyx)"),
        ),
        ("", ("linux", (), "", "", "", "")),  # os-release's own default ID
    ],
    ids=["debian-12", "ubuntu-24.04", "fedora-40", "alpine-3.20", "rocky-9", "empty"],
)
def test_each_release_is_read_as_it_ships(text: str, expected: tuple[object, ...]) -> None:
    info = parse_os_release(text)
    assert (
        info.id,
        info.id_like,
        info.version_id,
        info.version_codename,
        info.ubuntu_codename,
        info.pretty_name,
    ) == expected


def test_this_hosts_os_release_as_the_shell_reads_it() -> None:
    """os-release is written to be sourced by sh: the shell's values are the expected ones,
    read by no Python parser (read_os_info uses the standard library's)."""
    path = next(p for p in (Path("/etc/os-release"), Path("/usr/lib/os-release")) if p.is_file())
    script = '. "$1"; printf "%s\\n" "$ID" "$ID_LIKE" "$VERSION_ID" "$VERSION_CODENAME"'
    said = subprocess.run(
        ["sh", "-c", script, "sh", str(path)], capture_output=True, text=True, check=True
    )
    id_, id_like, version_id, codename = said.stdout.split("\n")[:4]
    info = read_os_info()
    assert (info.id, info.id_like, info.version_id, info.version_codename) == (
        id_.lower(),
        tuple(id_like.lower().split()),
        version_id,
        codename,
    )


def test_a_release_file_read_as_text_agrees_with_the_system_reader() -> None:
    """parse_os_release (for files that are not this system's) against the standard library's
    reader of this system's own file: the same values from the same file."""
    path = next(p for p in (Path("/etc/os-release"), Path("/usr/lib/os-release")) if p.is_file())
    assert parse_os_release(path.read_text(encoding="utf-8")) == read_os_info()
    assert read_os_info((path,)) == read_os_info()


def test_comments_blank_lines_and_broken_quotes_do_not_break_parsing() -> None:
    info = parse_os_release('# comment\n\nID=debian\nPRETTY_NAME="unterminated\nJUNK\n')
    assert info.id == "debian"
    assert info.pretty_name == "unterminated"


def test_missing_os_release_falls_back_to_platform(tmp_path: Path) -> None:
    """Without os-release: the kernel's name and release, as uname(1) prints them."""
    info = read_os_info((tmp_path / "absent", tmp_path / "also-absent"))
    release = subprocess.run(["uname", "-r"], capture_output=True, text=True, check=True)
    assert (info.id, info.version_id) == ("linux", release.stdout.strip())


def test_the_first_readable_os_release_is_read(tmp_path: Path) -> None:
    (tmp_path / "usr-lib-os-release").write_text("ID=qwzxos\nVERSION_ID=7\n")
    info = read_os_info((tmp_path / "absent", tmp_path / "usr-lib-os-release"))
    assert (info.id, info.version_id) == ("qwzxos", "7")


def test_libc_of_this_machine() -> None:
    """Compared with what another program says: ldd, which glibc and musl each ship (glibc's
    prints "ldd (Debian GLIBC 2.36-9+deb12u14) 2.36", musl's "musl libc (x86_64)")."""
    ldd = shutil.which("ldd")
    assert ldd, "no ldd on this machine: the C library's own tool is what the test compares with"
    said = subprocess.run([ldd, "--version"], capture_output=True, text=True, check=False)
    first = (said.stdout or said.stderr).splitlines()[0]
    libc = detect_libc()
    if "musl" in first:
        assert libc.name == "musl"
    else:
        assert "GLIBC" in first.upper() or "GNU LIBC" in first.upper(), first
        assert (libc.name, libc.version) == ("glibc", first.split()[-1])
