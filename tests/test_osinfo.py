import os
import platform
from pathlib import Path

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


def test_comments_blank_lines_and_broken_quotes_do_not_break_parsing() -> None:
    info = parse_os_release('# comment\n\nID=debian\nPRETTY_NAME="unterminated\nJUNK\n')
    assert info.id == "debian"
    assert info.pretty_name == "unterminated"


def test_missing_os_release_falls_back_to_platform(tmp_path: Path) -> None:
    info = read_os_info((tmp_path / "absent", tmp_path / "also-absent"))
    assert (info.id, info.version_id) == (platform.system().lower(), platform.release())


def test_the_first_readable_os_release_is_read(tmp_path: Path) -> None:
    (tmp_path / "usr-lib-os-release").write_text("ID=qwzxos\nVERSION_ID=7\n")
    info = read_os_info((tmp_path / "absent", tmp_path / "usr-lib-os-release"))
    assert (info.id, info.version_id) == ("qwzxos", "7")


def test_libc_of_this_machine() -> None:
    """Compared with what the C library itself says (glibc's confstr; else the musl loader)."""
    libc = detect_libc()
    try:
        told = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (ValueError, OSError):
        told = ""
    if told.startswith("glibc"):
        assert (libc.name, libc.version) == ("glibc", told.split()[-1])
    elif any(Path("/lib").glob("ld-musl-*")):
        assert libc.name == "musl"
    else:
        assert libc.name == "unknown"
