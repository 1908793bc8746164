"""`generate env`: the variables a project's code reads, in every style it can read them, written
as .env.template; an .env.example is kept as written. The sample code is written here with names
nothing in bulletproof knows."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bulletproof.cli import main
from bulletproof.code.envvars import env_vars
from bulletproof.code.found import EnvVar
from tests.conftest import not_here

_PLAIN = """
import os
from os import getenv, environ as ENVIRON

FLAG = os.environ.get("QV_FLAG", "0") == "1"
HOST = getenv("QV_HOST", default="127.0.0.1")
MAYBE = getenv("QV_MAYBE")
NEEDED = os.environ["QV_NEEDED"]
ALSO = ENVIRON["QV_ALSO"]
computed = os.environ[f"QV_{FLAG}"]  # a name made at run time is not listed
prefix = "QV"
also_computed = os.getenv(prefix + "_FILE")
"""

_PYDANTIC = """
from pydantic import BaseModel, Field, SecretStr, AliasChoices
from pydantic_settings import BaseSettings, SettingsConfigDict

class Store(BaseModel):
    host: str = "localhost"
    port: int

class Base(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QV_", env_nested_delimiter="__")
    api_token: SecretStr
    workers: int = 4
    store: Store
    endpoint: str = Field(validation_alias=AliasChoices("QV_ENDPOINT_URL", "ENDPOINT"))
    level: str = Field("info", alias="QV_LOG_LEVEL")
    cache: list[str] = Field(default_factory=list)

class Derived(Base):  # a settings class through a base of this file
    extra: str

class Legacy(BaseSettings):
    timeout: float = 3.0
    class Config:
        env_prefix = "QVOLD_"
"""

_READERS = """
import environ
from environs import Env as E
from decouple import config

env = environ.Env(QV_DEBUG=(bool, False))
DEBUG = env("QV_DEBUG")
DATABASES = {"default": env.db("QV_DB_URL")}
e = E()
e.read_env()
PORT = e.int("QV_PORT", 8000)
NAME = e.str("QV_NAME")
SECRET = config("QV_SECRET_KEY")
RETRIES = config("QV_RETRIES", default=3, cast=int)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "qvproj"
    (root / "qv").mkdir(parents=True)
    (root / "qv" / "plain.py").write_text(_PLAIN)
    (root / "qv" / "settings.py").write_text(_PYDANTIC)
    (root / "qv" / "readers.py").write_text(_READERS)
    (root / "tests").mkdir()
    (root / "tests" / "test_ci.py").write_text('import os\nos.environ["QV_ONLY_IN_TESTS"]\n')
    return root


def _by_name(root: Path) -> dict[str, EnvVar]:
    return {v.name: v for v in env_vars(root)}


def test_os_environ_reads(project: Path) -> None:
    found = _by_name(project)
    assert (found["QV_FLAG"].required, found["QV_FLAG"].default) == (False, "0")
    assert (found["QV_HOST"].required, found["QV_HOST"].default) == (False, "127.0.0.1")
    assert (found["QV_MAYBE"].required, found["QV_MAYBE"].default) == (False, "")
    assert found["QV_NEEDED"].required and found["QV_ALSO"].required
    assert found["QV_NEEDED"].readers == ("qv/plain.py:8",)
    assert all(name.isidentifier() for name in found), sorted(found)
    assert "QV_ONLY_IN_TESTS" not in found


def test_pydantic_settings_prefixes_aliases_and_nesting(project: Path) -> None:
    found = _by_name(project)
    token = found["QV_API_TOKEN"]
    assert token.required and token.secret and token.style == "pydantic-settings"
    assert (found["QV_WORKERS"].default, found["QV_WORKERS"].type) == ("4", "int")
    assert found["QV_STORE__HOST"].default == "localhost"
    assert found["QV_STORE__PORT"].required
    assert "QV_STORE" not in found
    assert found["QV_ENDPOINT_URL"].required  # an alias: the prefix is not added
    assert found["QV_LOG_LEVEL"].default == "info"
    assert not found["QV_CACHE"].required
    assert found["QV_EXTRA"].required  # Derived takes its base's prefix, as pydantic does
    assert found["QVOLD_TIMEOUT"].default == "3.0"


def test_environs_django_environ_and_decouple(project: Path) -> None:
    found = _by_name(project)
    assert (found["QV_DEBUG"].default, found["QV_DEBUG"].type) == ("false", "bool")
    assert found["QV_DEBUG"].style == "django-environ"
    assert found["QV_DB_URL"].required and found["QV_DB_URL"].type == "url"
    assert (found["QV_PORT"].default, found["QV_PORT"].style) == ("8000", "environs")
    assert found["QV_NAME"].required
    assert found["QV_SECRET_KEY"].secret and found["QV_SECRET_KEY"].style == "decouple"
    assert (found["QV_RETRIES"].default, found["QV_RETRIES"].type) == ("3", "int")


def test_the_template_keeps_the_example_and_adds_what_it_misses(project: Path) -> None:
    example = "# where the data lives\nQV_DB_URL=sqlite:///dev.db\n#QV_HOST=0.0.0.0\n"
    (project / ".env.example").write_text(example)
    assert main(["generate", "env", str(project), "-q"]) == 0
    text = (project / ".env.template").read_text()
    assert example in text
    added = text.split("not in .env.example ---", 1)[1]
    assert "QV_DB_URL" not in added and "QV_HOST" not in added
    assert "\nQV_NEEDED=\n" in added and "\nQV_PORT=8000\n" in added
    assert "\nQV_API_TOKEN=\n" in added  # a secret is never given a value
    assert "# required · secret · str · read at qv/settings.py:11 (pydantic-settings)" in added
    assert (project / ".env.example").read_text() == example


def test_a_template_someone_else_wrote_is_left_alone(project: Path) -> None:
    (project / ".env.template").write_text("MINE=1\n")
    assert main(["generate", "env", str(project), "-q"]) == 2
    assert (project / ".env.template").read_text() == "MINE=1\n"
    # one it wrote itself is written again
    (project / ".env.template").unlink()
    assert main(["generate", "env", str(project), "-q"]) == 0
    (project / "qv" / "plain.py").write_text(textwrap.dedent(_PLAIN) + 'os.getenv("QV_NEW")\n')
    assert main(["generate", "env", str(project), "-q"]) == 0
    assert "\nQV_NEW=\n" in (project / ".env.template").read_text()


SHARED = Path(__file__).resolve().parents[2] / "shared" / "cases" / "projects"


@pytest.mark.parametrize(
    ("name", "expected"),
    [("powerdns-admin", {"PDNS_API_KEY", "SQLALCHEMY_DATABASE_URI"}), ("hvac", {"VAULT_ADDR"})],
)
def test_the_shared_projects_that_read_variables(
    tmp_path: Path, name: str, expected: set[str]
) -> None:
    import tarfile

    if not SHARED.is_dir():
        not_here("../shared/cases/projects is not beside the repo")

    with tarfile.open(SHARED / f"{name}.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")
    assert main(["generate", "env", str(tmp_path), "-q"]) == 0
    listed = {
        line.split("=", 1)[0]
        for line in (tmp_path / ".env.template").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert expected <= listed, sorted(listed)
