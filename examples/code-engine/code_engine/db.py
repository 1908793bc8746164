"""SQLAlchemy models and session; SQLite unless DATABASE_URL says otherwise."""

from __future__ import annotations

import os

from sqlalchemy import Engine, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Deployment(Base):
    __tablename__ = "deployments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")


def database_url() -> str:
    return os.environ.get("DATABASE_URL", "sqlite:///./code_engine.db")


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    sqlite = url.startswith("sqlite")
    return create_engine(url, connect_args={"check_same_thread": False} if sqlite else {})


def make_sessionmaker(url: str | None = None, engine: Engine | None = None) -> sessionmaker[Session]:
    engine = engine or make_engine(url)
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)
