from pathlib import Path

from fastapi.testclient import TestClient

from code_engine.app import create_app
from code_engine.db import make_sessionmaker


def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(make_sessionmaker(f"sqlite:///{tmp_path}/test.db")))


def test_health(tmp_path: Path) -> None:
    assert client(tmp_path).get("/health").json() == {"status": "ok"}


def test_create_and_list(tmp_path: Path) -> None:
    c = client(tmp_path)
    assert c.post("/deployments", json={"name": "api"}).status_code == 201
    assert c.post("/deployments", json={"name": "worker"}).status_code == 201
    names = [d["name"] for d in c.get("/deployments").json()]
    assert names == ["api", "worker"]


def test_duplicate_and_invalid_names_are_refused(tmp_path: Path) -> None:
    c = client(tmp_path)
    assert c.post("/deployments", json={"name": "api"}).status_code == 201
    assert c.post("/deployments", json={"name": "api"}).status_code == 409
    assert c.post("/deployments", json={"name": ""}).status_code == 422


def test_metrics(tmp_path: Path) -> None:
    assert "# TYPE" in client(tmp_path).get("/metrics/").text
