"""The HTTP API: create and list deployments, and analyse a piece of source code."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import Depends, FastAPI, HTTPException
from prometheus_client import make_asgi_app
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from code_engine.analysis import analyze
from code_engine.auth import require_token
from code_engine.db import Deployment, make_sessionmaker


class DeploymentIn(BaseModel):
    name: str = Field(min_length=1, max_length=100)


class SourceIn(BaseModel):
    source: str = Field(max_length=10_000_000)


class DeploymentOut(BaseModel):
    id: int
    name: str
    status: str


def create_app(sessions: sessionmaker[Session] | None = None) -> FastAPI:
    factories = [sessions] if sessions else []
    app = FastAPI(title="code-engine")
    app.mount("/metrics", make_asgi_app())  # Prometheus

    def session() -> Iterator[Session]:
        if not factories:  # the database is opened on first use, not at import
            factories.append(make_sessionmaker())
        with factories[0]() as s:
            yield s

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/deployments", status_code=201, response_model=DeploymentOut)
    def create(
        body: DeploymentIn, s: Session = Depends(session), _: str = Depends(require_token)
    ) -> Deployment:
        row = Deployment(name=body.name, status="pending")
        s.add(row)
        try:
            s.commit()
        except IntegrityError:
            raise HTTPException(409, f"deployment {body.name!r} exists") from None
        return row

    @app.get("/deployments", response_model=list[DeploymentOut])
    def list_all(s: Session = Depends(session)) -> list[Deployment]:
        return list(s.scalars(select(Deployment).order_by(Deployment.id)))

    @app.post("/analyze")
    def analyze_source(body: SourceIn) -> dict[str, int | str]:
        return analyze(body.source)

    return app
