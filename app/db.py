from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

from app.config import get_settings

# Stable constraint names, so migrations can refer to them on both databases.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRITE_OPTION = "foilog_write"


class UtcDateTime(TypeDecorator[datetime]):
    """Timestamps are UTC everywhere; SQLite has no time zones, so it stores naive UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Own the transaction boundaries: pysqlite's implicit BEGIN cannot be IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # A write transaction takes the write lock up front and waits for it (busy_timeout);
        # a deferred one that upgrades later fails at once when another process wrote meanwhile.
        # Reads stay deferred and never block writers (WAL).
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str) -> Engine:
    # A short pool timeout: with every connection taken, a request fails fast (503) instead of
    # queueing for SQLAlchemy's default 30 s behind requests that hold theirs.
    timeout = get_settings().db_pool_timeout
    if url.startswith("sqlite"):
        sqlite_args = {"check_same_thread": False, "timeout": 30}
        engine = create_engine(url, connect_args=sqlite_args, pool_timeout=timeout)
        _configure_sqlite(engine)
        return engine
    size = get_settings().db_pool_size
    return create_engine(
        url, pool_pre_ping=True, pool_size=size, max_overflow=size, pool_timeout=timeout
    )


def dedicated_engine(engine: Engine) -> Engine:
    """One autocommit connection of its own beside `engine`'s pool, for a session-level lock
    that must outlive every request's connection (the background runner's election)."""
    return create_engine(
        engine.url, pool_pre_ping=True, pool_size=1, max_overflow=0, isolation_level="AUTOCOMMIT"
    )


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_read_engine() -> Engine:
    """Where public reads go: the streaming replica of FOILOG_READ_DATABASE_URL, else the
    primary. Keyed calls and writes always use the primary (`get_engine`)."""
    url = get_settings().read_database_url
    return make_engine(url) if url else get_engine()


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@lru_cache
def _binds(engine: Engine) -> tuple[Engine, Engine]:
    """What read and write sessions run on. PostgreSQL reads run in autocommit: at READ
    COMMITTED each statement sees the data afresh anyway, so a read transaction adds nothing but
    its BEGIN and ROLLBACK, two round trips per request. SQLite reads keep their transaction,
    which gives them one snapshot, at no cost (in process)."""
    write = engine.execution_options(**{WRITE_OPTION: True})
    if is_sqlite(engine):
        return engine, write
    return engine.execution_options(isolation_level="AUTOCOMMIT"), write


def new_session(*, write: bool = False) -> Session:
    read_bind, write_bind = _binds(get_engine())
    return Session(write_bind if write else read_bind, expire_on_commit=False)


def public_session() -> Session:
    """A read-only session for a public read, on the read database (a replica when set)."""
    read_bind, _ = _binds(get_read_engine())
    return Session(read_bind, expire_on_commit=False)


async def read_session() -> AsyncIterator[Session]:
    # Async, though the routes are not: FastAPI runs a plain generator dependency in the thread
    # pool twice (to open, to close), two hand-offs per request more than the route's own.
    # Opening a session does no I/O; closing one rolls back and returns its connection.
    with new_session() as session:
        yield session


async def public_read_session() -> AsyncIterator[Session]:
    with public_session() as session:
        yield session


def write_session() -> Iterator[Session]:
    with new_session(write=True) as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]
PublicSession = Annotated[Session, Depends(public_read_session)]
WriteSession = Annotated[Session, Depends(write_session)]

T = TypeVar("T")
_reference_data: dict[tuple[str, str], Any] = {}


def reference_data(session: Session, name: str, load: Callable[[Session], T]) -> T:
    """Data that only a migration changes (the forces, the exemptions), loaded once per process
    and database instead of on every request. Keyed by the database's URL, so a process that
    talks to several (the tests) sees each one's own."""
    key = (name, session.get_bind().engine.url.render_as_string())
    if key not in _reference_data:
        _reference_data[key] = load(session)
    value: T = _reference_data[key]
    return value


def refresh_statistics(session: Session) -> None:
    """Let PostgreSQL's planner see what a bulk write changed: autovacuum may be off or late,
    and without statistics it guessed 32 rows for a 20,000-row search and walked the table
    (1 s, against 6 ms once analysed). SQLite's plans were chosen without statistics, which
    ANALYZE there would change, so it is left alone."""
    if is_sqlite(get_engine()):
        return
    session.execute(text("ANALYZE"))
    session.commit()


def lock_for_transaction(session: Session, key: int) -> None:
    """Hold the exclusive lock named by `key` (a signed 64-bit number) until the transaction
    ends. PostgreSQL: an advisory lock. SQLite: a write transaction holds the database's one
    write lock already (BEGIN IMMEDIATE), so there is nothing more to take."""
    if session.get_bind().dialect.name != "sqlite":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
