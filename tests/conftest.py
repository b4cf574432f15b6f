"""Every test runs against a database built by the real migrations: SQLite by default, or the
PostgreSQL server named by FOILOG_TEST_POSTGRES_URL, in a throwaway database made for the run."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from app.config import get_settings
from app.db import get_engine, new_session
from app.migrate import upgrade

REFERENCE_TABLES = {"force", "exemption", "alembic_version"}


def _throwaway_postgres(admin_url: str) -> Iterator[str]:
    name = f"foilog_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        get_engine().dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    postgres = os.environ.get("FOILOG_TEST_POSTGRES_URL")
    if postgres:
        urls = _throwaway_postgres(postgres)
        url = next(urls)
    else:
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'foilog.db'}"
    os.environ["FOILOG_DATABASE_URL"] = url
    # Writers wait longer for SQLite's lock than in production: the suite shares a busy machine.
    # Tests of the wait itself set their own.
    os.environ.setdefault("FOILOG_WRITE_WAIT_S", "30")
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade(url)
    yield url
    if postgres:
        next(urls, None)


def _reset(url: str) -> None:
    tables = [t.name for t in SQLModel.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with get_engine().begin() as connection:
        if url.startswith("postgresql"):
            names = ", ".join(f'"{t}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(text(f'DELETE FROM "{table}"'))


@pytest.fixture(autouse=True)
def clean_database(database_url: str) -> Iterator[None]:
    yield
    _reset(database_url)


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    with new_session(write=True) as session:
        yield session


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    from app.main import create_app

    with TestClient(create_app(), raise_server_exceptions=False) as client:
        yield client
