"""The redactor's rules, one by one: what it learns, in which forms, what it ignores."""

from __future__ import annotations

from pathlib import Path

from bulletproof import redaction
from bulletproof.apply.locksplit import LocalEntry


def test_secret_names_by_their_parts() -> None:
    secret = ["DB_PASSWORD", "GITHUBTOKEN", "API_KEY", "DB_PWD", "AWS_SECRET_ACCESS_KEY"]
    secret += ["UV_INDEX_CORP_PASSWORD", "BASIC_AUTH", "GOOGLE_CREDENTIALS", "PRIVATE_PEM"]
    plain = ["TOKENIZERS_PARALLELISM", "OLDPWD", "PWD", "KEYBOARD", "AUTHOR", "PATH"]
    assert [n for n in secret if not redaction.looks_secret(n)] == []
    assert [n for n in plain if redaction.looks_secret(n)] == []


def test_learned_by_value_in_every_form_and_short_values_ignored() -> None:
    redaction.learn_variables(
        {
            "ZQ_TOKEN": "tok/en#1",
            "ZQ_URL": "postgresql://u:p%40ssw0rd@h/db",
            "ZQ_PASSWORD": "abc",  # too short to be told from ordinary text
            "ZQ_SECRET": "false",
        }
    )
    said = "tok/en#1 tok%2Fen%231 p@ssw0rd p%40ssw0rd abc false"
    assert redaction.redact(said) == "*** *** *** *** abc false"


def test_url_shape_without_learning_keeps_the_user() -> None:
    text = "https://u:pw@h/x git+https://TOKEN@h/r.git git+https://h:8080/r.git@v1 ssh://git@h/r"
    assert redaction.redact(text) == (
        "https://u:***@h/x git+https://***@h/r.git git+https://h:8080/r.git@v1 ssh://***@h/r"
    )


def test_project_files_and_netrc(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("ZQ_SIGNING_KEY=k3y-from-dotenv\nPLAIN=visible-value\n")
    (tmp_path / "requirements.txt").write_text(
        "--index-url https://me:idx-pass@corp.example/simple\n"
        "zq @ git+https://vcs-token-1@git.example/zq.git@v1\n"
    )
    netrc = tmp_path / "netrc"
    netrc.write_text("machine corp.example login me password netrc-pass\n")
    netrc.chmod(0o600)
    redaction.learn_project(tmp_path)
    redaction.learn_netrc(netrc)
    text = "k3y-from-dotenv idx-pass vcs-token-1 netrc-pass visible-value"
    assert redaction.redact(text) == "*** *** *** *** visible-value"


def test_lock_urls_lose_their_credentials_and_the_install_gets_them_back(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("zq @ git+https://vcs-token-1@git.example/zq.git\n")
    redaction.learn_project(tmp_path)
    body = 'url = "https://vcs-token-1@git.example/zq.git"\nother = "https://u:p@h.example/x"\n'
    assert redaction.strip_credentials(body) == (
        'url = "https://git.example/zq.git"\nother = "https://h.example/x"\n'
    )
    entry = LocalEntry("zq", "git+https://git.example/zq.git@abc", None, False,
                       "git+https://git.example/zq.git@abc")  # fmt: skip
    assert entry.install_args() == ["zq @ git+https://vcs-token-1@git.example/zq.git@abc"]
    other = LocalEntry("o", "", None, False, "git+https://else.example/o.git")
    assert other.install_args() == ["o @ git+https://else.example/o.git"]


def test_a_password_with_an_unencoded_hash_is_said_not_skipped() -> None:
    from bulletproof.code.services import service_from_url

    found = service_from_url("DATABASE_URL", ".env", "postgresql://u:pa#ss@127.0.0.1:5432/db")
    assert found is not None and (found.host, found.port) == ("127.0.0.1", 5432)
    assert found.problem == (
        "the password in DATABASE_URL (.env) contains an unencoded '#': percent-encode it (as %23)"
    )
    assert found.redacted == "postgresql://u:***@127.0.0.1:5432/db"
