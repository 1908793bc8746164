from fastapi.testclient import TestClient


def test_health(client: TestClient) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_create_and_list(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/deployments", json={"name": "api"}, headers=auth).status_code == 201
    assert client.post("/deployments", json={"name": "worker"}, headers=auth).status_code == 201
    names = [d["name"] for d in client.get("/deployments").json()]
    assert names == ["api", "worker"]


def test_duplicate_and_invalid_names_are_refused(client: TestClient, auth: dict[str, str]) -> None:
    assert client.post("/deployments", json={"name": "api"}, headers=auth).status_code == 201
    assert client.post("/deployments", json={"name": "api"}, headers=auth).status_code == 409
    assert client.post("/deployments", json={"name": ""}, headers=auth).status_code == 422


def test_writes_need_a_token_signed_with_our_key(client: TestClient) -> None:
    assert client.post("/deployments", json={"name": "api"}).status_code == 401
    forged = {"Authorization": "Bearer e30.e30.c2lnbmF0dXJl"}
    assert client.post("/deployments", json={"name": "api"}, headers=forged).status_code == 401
    assert client.get("/deployments").json() == []


def test_metrics(client: TestClient) -> None:
    assert "# TYPE" in client.get("/metrics/").text


def test_analyze_counts_tokens_and_sums_the_bytes(client: TestClient) -> None:
    answer = client.post("/analyze", json={"source": "def f(x): return x  # é"}).json()
    assert answer["tokens"] == 5
    assert client.post("/analyze", json={"source": ""}).json() == {
        "tokens": 0,
        "checksum": "cbf29ce484222325",  # FNV-1a's offset basis: nothing hashed
    }
    assert client.post("/analyze", json={"source": "a"}).json()["checksum"] == "af63dc4c8601ec8c"
