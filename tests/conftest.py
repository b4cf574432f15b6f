"""Every test runs against a database built by the real migrations: SQLite by default, or the
PostgreSQL server named by FOILOG_TEST_POSTGRES_URL, in a throwaway database made for the run.
With FOILOG_TEST_REPLICA_URL too (a streaming replica of that server: scripts/with-replica.sh),
public reads go to the replica (FOILOG_READ_DATABASE_URL)."""

import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from threading import Lock
from typing import Any

import pytest
from census import pytest_runtest_logreport, pytest_sessionfinish  # noqa: F401 (hooks)
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from app.config import get_settings
from app.db import get_engine, get_read_engine, new_session
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
        get_read_engine().dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


class ReplicaCatchUp:
    """Reads on the replica first wait until it has replayed the primary's WAL up to where it
    stood when the tests last returned a primary connection (after a commit), so a test reads
    its own writes there. `paused` lets a test see the lag."""

    def __init__(self, primary_url: str, replica_url: str) -> None:
        self.primary = create_engine(primary_url, isolation_level="AUTOCOMMIT")
        self.replica = create_engine(replica_url, isolation_level="AUTOCOMMIT")
        self.paused = False
        self._target = ""
        self._replayed = ""
        self._lock = Lock()

    def _lsn(self, engine: Engine, query: str) -> str:
        with engine.connect() as connection:
            return str(connection.execute(text(query)).scalar_one())

    def written(self, *_: Any) -> None:
        self._target = self._lsn(self.primary, "SELECT pg_current_wal_lsn()::text")

    def wait(self, *_: Any) -> None:
        if self.paused or not self._target or self._replayed == self._target:
            return
        with self._lock:
            target = self._target
            deadline = time.monotonic() + 60
            query = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
            while self._lsn(self.replica, query) != "True":
                assert time.monotonic() < deadline, "the replica fell 60 s behind"
                time.sleep(0.005)
            self._replayed = target

    def dispose(self) -> None:
        self.primary.dispose()
        self.replica.dispose()


_catch_up: list[ReplicaCatchUp] = []


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    postgres = os.environ.get("FOILOG_TEST_POSTGRES_URL")
    replica = os.environ.get("FOILOG_TEST_REPLICA_URL")
    if postgres:
        urls = _throwaway_postgres(postgres)
        url = next(urls)
    else:
        url = f"sqlite:///{Path(tmp_path_factory.mktemp('db')) / 'foilog.db'}"
    os.environ["FOILOG_DATABASE_URL"] = url
    if postgres and replica:
        read_url = make_url(replica).set(database=make_url(url).database)
        os.environ["FOILOG_READ_DATABASE_URL"] = read_url.render_as_string(hide_password=False)
        _catch_up.append(ReplicaCatchUp(postgres, replica))
    # Writers wait longer for SQLite's lock than in production: the suite shares a busy machine.
    # Tests of the wait itself set their own.
    os.environ.setdefault("FOILOG_WRITE_WAIT_S", "30")
    get_settings.cache_clear()
    get_engine.cache_clear()
    get_read_engine.cache_clear()
    upgrade(url)
    if _catch_up:
        _catch_up[0].written()
        _catch_up[0].wait()  # the database and its schema exist on the replica too
        _listen(get_read_engine(), _catch_up[0])
    yield url
    for catch_up in _catch_up:
        event.remove(get_read_engine(), "before_cursor_execute", catch_up.wait)
        event.remove(get_engine().pool, "checkin", catch_up.written)
        get_read_engine().dispose()
        catch_up.dispose()
    if postgres:
        next(urls, None)


def _listen(engine: Engine, catch_up: ReplicaCatchUp) -> None:
    event.listen(engine, "before_cursor_execute", catch_up.wait)
    event.listen(get_engine().pool, "checkin", catch_up.written)


@pytest.fixture
def replica() -> ReplicaCatchUp:
    """The replica's catch-up (tests run with one only)."""
    if not _catch_up:
        pytest.skip("needs FOILOG_TEST_REPLICA_URL: make test-replica")
    return _catch_up[0]


def _reset(url: str) -> None:
    tables = [t.name for t in SQLModel.metadata.sorted_tables if t.name not in REFERENCE_TABLES]
    with get_engine().begin() as connection:
        if url.startswith("postgresql"):
            names = ", ".join(f'"{t}"' for t in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(text(f'DELETE FROM "{table}"'))
            # Ids start again from 1, as PostgreSQL's RESTART IDENTITY makes them (the tables
            # with AUTOINCREMENT count on in sqlite_sequence otherwise).
            connection.execute(text("DELETE FROM sqlite_sequence"))


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


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set FOILOG_ settings for one test. Webhooks may target private addresses (the tests'
    receivers listen on 127.0.0.1) unless the test says otherwise."""

    def apply(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"FOILOG_{name.upper()}", str(value))
        get_settings.cache_clear()

    apply(webhook_allow_private="true")
    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()
