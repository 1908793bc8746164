"""The tests use the server DATABASE_URL names when it names one (PostgreSQL, say: a database the
tests may empty), its tables made afresh for each test and dropped after it; else a SQLite file of
the test's own, never the project's."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from code_engine.app import create_app
from code_engine.auth import token_for
from code_engine.db import Base, make_engine, make_sessionmaker


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    if os.environ.get("DATABASE_URL", "sqlite").startswith("sqlite"):  # never the project's file
        monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/test.db")
    engine = make_engine()
    Base.metadata.drop_all(engine)
    try:
        yield TestClient(create_app(make_sessionmaker(engine=engine)))
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()


@pytest.fixture
def auth() -> dict[str, str]:
    """The header of a writer whose token is signed with the configured key."""
    return {"Authorization": f"Bearer {token_for('tests')}"}
