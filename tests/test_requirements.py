from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulletproof.errors import InputError
from bulletproof.requirements import exact_pin, parse_file


def _write(tmp_path: Path, text: str, name: str = "requirements.txt") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_malformed_line_names_file_line_and_column(tmp_path: Path) -> None:
    path = _write(tmp_path, "requests==2.32.3\n# fine\n  flask >=2 ,,3\n")
    with pytest.raises(InputError) as err:
        parse_file(path, tmp_path)
    assert err.value.message.startswith("requirements.txt:3:")
    column = int(err.value.message.split(":")[2])
    assert column == len("  flask >=2 ,") + 1  # the second comma, 1-based
    assert "'flask >=2 ,,3'" in err.value.message


def test_includes_comments_options_and_continuations(tmp_path: Path) -> None:
    _write(tmp_path, "six==1.16.0\n", "base.txt")
    path = _write(
        tmp_path,
        (
            "-r base.txt\n--index-url=https://example.invalid/simple\n"
            "requests \\\n  ==2.32.3  # pinned\n"
            "attrs==23.1 --hash=sha256:abc\n./local/pkg\nname @ https://example.invalid/x.whl\n"
        ),
    )
    found = parse_file(path, tmp_path)
    assert [f.name for f in found.files] == ["requirements.txt", "base.txt"]
    assert found.notes == ()  # every option here is one uv acts on


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("--frobnicate\n", "unknown option '--frobnicate'"),
        ("-r\n", "needs a value"),
        ("-r missing.txt\n", "missing.txt: file not found"),
        ("--hash=sha256:abc\n", "--hash must follow a requirement"),
    ],
)
def test_bad_options_are_named(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(InputError, match=expected):
        parse_file(_write(tmp_path, text), tmp_path)


def test_pip_options_uv_ignores_are_noted_with_their_place_not_refused(tmp_path: Path) -> None:
    """pip reads these; uv warns that it ignores them. A file that uses them is valid: each is
    noted with file:line:column, in the order met, an included file's in its own place."""
    _write(tmp_path, "six==1.16.0\n  --trusted-host pypi.example.invalid\n", "base.txt")
    path = _write(
        tmp_path,
        "--use-feature=truststore\n-r base.txt\n--prefer-binary\nrequests==2.32.3\n--pre\n",
    )
    found = parse_file(path, tmp_path)
    assert [f.name for f in found.files] == ["requirements.txt", "base.txt"]
    assert [note.split(": ", 2)[:2] for note in found.notes] == [
        ["requirements.txt:1:1", "--use-feature=truststore"],
        ["base.txt:2:3", "--trusted-host pypi.example.invalid"],
        ["requirements.txt:3:1", "--prefer-binary"],
        ["requirements.txt:5:1", "--pre"],
    ]
    assert all("uv ignores" in note for note in found.notes)


def test_a_noted_option_still_needs_its_value_and_an_unknown_one_is_refused(
    tmp_path: Path,
) -> None:
    with pytest.raises(InputError, match=r"^requirements\.txt:2:1: option --use-feature needs"):
        parse_file(_write(tmp_path, "six\n--use-feature\n"), tmp_path)
    with pytest.raises(InputError, match=r"^requirements\.txt:1:1: unknown option '--use-feat'"):
        parse_file(_write(tmp_path, "--use-feat=truststore\n"), tmp_path)


def test_include_cycle_terminates(tmp_path: Path) -> None:
    _write(tmp_path, "-r b.txt\n", "a.txt")
    _write(tmp_path, "-r a.txt\nsix\n", "b.txt")
    assert [f.name for f in parse_file(tmp_path / "a.txt", tmp_path).files] == ["a.txt", "b.txt"]


def test_undecodable_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_bytes(b"good\xff\n")  # no byte order mark: UTF-8, and this is not
    with pytest.raises(InputError, match=r"not UTF-8 \(byte 0xff at offset 4\)"):
        parse_file(path, tmp_path)
    path.write_bytes(b"\xff\xfe" + "good==1.0\n".encode("utf-16-le"))  # UTF-16, by its mark
    assert parse_file(path, tmp_path).files == (path,)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=200))
def test_any_text_gives_files_or_an_input_error(
    tmp_path_factory: pytest.TempPathFactory, text: str
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    path = root / "requirements.txt"
    path.write_text(text, encoding="utf-8")
    try:
        found = parse_file(path, root)
    except InputError as exc:
        assert exc.message.startswith("requirements.txt") or "not found" in exc.message
    else:
        assert found.files[0] == path
        assert all(note.startswith("requirements.txt:") for note in found.notes)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Zq_Thing==1.2.3", ("zq-thing", "1.2.3")),
        ('zq-other==2.0 ; python_version < "3.13"', ("zq-other", "2.0")),
        ("  zq-spaced==0.1.dev3  ", ("zq-spaced", "0.1.dev3")),
        ("zq-range>=1,<2", None),
        ("zq-ranged>=1", None),
        ("zq-url @ https://files.example/zq_url-1.0-py3-none-any.whl", None),
        ("    # via zq-parent", None),
        ("", None),
    ],
)
def test_an_exact_pin_is_read_as_uv_writes_it(line: str, expected: tuple[str, str] | None) -> None:
    assert exact_pin(line) == expected
