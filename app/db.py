import contextlib
import fcntl
import logging
import os
import select as io_select
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Protocol, TypeVar

import psycopg
from fastapi import Depends
from psycopg.types.numeric import Int8Dumper
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Engine,
    Insert,
    LargeBinary,
    Sequence,
    Table,
    create_engine,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import Executable, FromClause, FunctionElement
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

from app.config import get_settings
from app.errors import ReadsBusy, WriteBusy
from app.read_turns import Turns, WriteBeacon

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


class _Utf8(TypeDecorator[bytes]):
    impl = LargeBinary
    cache_ok = True

    def process_result_value(self, value: bytes | str | None, dialect: Dialect) -> bytes | None:
        return value.encode() if isinstance(value, str) else value


class _Utf8Bytes(FunctionElement[bytes]):
    """A text column read as its UTF-8 bytes, for text that goes out as it is stored (entry
    documents). SQLite hands over the stored bytes (CAST AS BLOB): a page of 60 documents,
    262 KB, took 0.31 ms against 0.60 to decode them into strings and encode them again for
    the response. PostgreSQL sends text, encoded here: its bytea comes hex-encoded, which took
    1.5 ms against 0.8."""

    type = _Utf8()
    inherit_cache = True


@compiles(_Utf8Bytes, "sqlite")
def _sqlite_utf8(element: _Utf8Bytes, compiler: SQLCompiler, **kw: Any) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS BLOB)"


@compiles(_Utf8Bytes)
def _text_utf8(element: _Utf8Bytes, compiler: SQLCompiler, **kw: Any) -> str:
    return str(compiler.process(element.clauses, **kw))


def utf8_bytes(column: ColumnElement[str]) -> ColumnElement[bytes]:
    return _Utf8Bytes(column)


class _SQLiteCompiler(SQLiteCompiler):
    """SQLite's compiler, with a table's `with_hint(..., "sqlite")` written after its name
    ("INDEXED BY <index>"), which SQLAlchemy leaves out for SQLite."""

    def get_from_hint_text(self, table: FromClause, text: str | None) -> str | None:
        return text


def _configure_sqlite(engine: Engine) -> None:
    engine.dialect.statement_compiler = _SQLiteCompiler

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Own the transaction boundaries: pysqlite's implicit BEGIN cannot be IMMEDIATE.
        dbapi_connection.isolation_level = None
        settings = get_settings()
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(settings.write_wait_s * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # SQLite's own 2 MB page cache held too little of a 100,000-entry log: a page of 40
        # entries' documents read their pages afresh, 4.5 ms, against 0.5 through the map.
        cursor.execute(f"PRAGMA cache_size=-{settings.sqlite_cache_mb * 1024}")
        cursor.execute(f"PRAGMA mmap_size={settings.sqlite_mmap_mb * 2**20}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        # A write transaction takes the write lock up front and waits for it (busy_timeout);
        # a deferred one that upgrades later fails at once when another process wrote meanwhile.
        # Reads stay deferred and never block writers (WAL).
        immediate = connection.get_execution_options().get(WRITE_OPTION, False)
        if immediate:
            # Set at each write, not once per connection: the setting applies without a restart.
            wait_ms = int(get_settings().write_wait_s * 1000)
            connection.exec_driver_sql(f"PRAGMA busy_timeout={wait_ms}")
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        except OperationalError as exc:
            if "locked" not in str(exc.orig):
                raise
            wait = get_settings().write_wait_s
            raise WriteBusy(
                f"another write held the database for more than {wait:g} s; try again shortly",
                retry_after=max(1, round(wait)),
            ) from None


# What every PostgreSQL connection sets (libpq's `options`):
# - plan_cache_mode: psycopg prepares a statement the fifth time it runs, and PostgreSQL may
#   then plan it once for any values. A search's plan depends on how common its words are: a
#   generic plan walked the date index testing every entry for two words 23 entries share
#   (120 ms at 20,000 entries, against 1.9 ms for the plan made for those words).
# - max_parallel_workers_per_gather: foilog's statements are short, and starting a parallel
#   worker is not: a topic page's check that the topic has a visible entry, which reads one
#   row, took 4.4 ms with a worker and 0.5 ms without at 100,000 entries. Several requests at
#   once keep the cores busy anyway.
POSTGRES_OPTIONS = {"plan_cache_mode": "force_custom_plan", "max_parallel_workers_per_gather": "0"}
# Public reads' connections keep the plan of a statement marked `planned_once` (`_plan_public`).
PUBLIC_READ_OPTIONS = {**POSTGRES_OPTIONS, "plan_cache_mode": "force_generic_plan"}
PLANNED_ONCE = "foilog_planned_once"

Marked = TypeVar("Marked", bound=Executable)


def planned_once(statement: Marked) -> Marked:
    """Mark a statement whose best plan is the same whatever values it is given (a lookup by
    key, a walk of one index in order): PostgreSQL's public reads plan it once per connection
    instead of at every execution. SQLite keeps every statement's plan anyway."""
    return statement.execution_options(**{PLANNED_ONCE: True})


PLANNER_OFF = "foilog_planner_off"


def planner_off(statement: Marked, settings: tuple[str, ...]) -> Marked:
    """Mark a PostgreSQL statement to be planned with these planner settings off
    (`enable_seqscan`, ...): they are set, the statement run and they are reset in one round
    trip (`_with_planner_off`). SQLite ignores the mark."""
    return statement.execution_options(**{PLANNER_OFF: settings})


def planned_size(count: int) -> int:
    """`count` rounded up to a power of two: the size a `planned_once` statement is written
    for (a page's LIMIT, a list's number of values), so that all sizes make a handful of
    statements. psycopg keeps a connection's last 100 prepared statements and deallocates the
    oldest past them: a statement a page size and a number of documents made 223, a
    DEALLOCATE a request and the next page's statement prepared anew (1,500 of the mix's
    URLs)."""
    return 1 << max(0, count - 1).bit_length()


def _with_planner_off(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """Run a statement marked `planner_off` as one simple query, `SET ...; statement; RESET
    ...`, its values written in (psycopg's client-side binding). A SET and a RESET each of
    their own were two of a search page's eight round trips. The query's statements run as one
    implicit transaction, so a statement that fails takes its SETs back with it, and within a
    transaction its failure leaves one to roll back, SETs and all: the connection never keeps
    the settings."""
    settings = context.execution_options.get(PLANNER_OFF)
    if not settings:
        return False
    statement = psycopg.ClientCursor(cursor.connection).mogrify(statement, parameters)
    sets = [f"SET {setting} = off" for setting in settings]
    resets = [f"RESET {setting}" for setting in settings]
    cursor.execute("; ".join([*sets, statement, *resets]), prepare=False)
    for _ in sets:
        cursor.nextset()  # to the statement's own result
    return True


def _plan_public(cursor: Any, statement: str, parameters: Any, context: Any) -> bool:
    """How a public read's statement runs on PostgreSQL. Planning was half of a cheap page:
    the data version, with 0.2 ms of work, took 0.45 ms to plan at each request (force page
    4.8 ms in-process, all planned generically 3.4). So the connection plans generically, and
    a statement marked `planned_once` is prepared at its first run on a connection, its plan
    kept from then on. Every other statement goes with its values written in (psycopg's
    client-side binding), planned for those values as any other connection plans it (a
    search's plan depends on how common its words are: see POSTGRES_OPTIONS), and is never
    prepared nor counted towards preparing (the connection's threshold is None: psycopg would
    otherwise keep the text of each of the last hundred, a driven search's ids among them)."""
    connection = cursor.connection
    if context.execution_options.get(PLANNED_ONCE):
        connection.prepare_threshold = 0
        try:
            cursor.execute(statement, parameters)
        finally:
            connection.prepare_threshold = None
        return True
    if parameters:
        statement, parameters = (
            psycopg.ClientCursor(connection).mogrify(statement, parameters),
            None,
        )
    cursor.execute(statement, parameters)
    return True


def make_engine(url: str, *, public: bool = False) -> Engine:
    """An engine on `url`; `public`: for public reads only (`get_read_engine`)."""
    # A short pool timeout: with every connection taken, a request fails fast (503) instead of
    # queueing for SQLAlchemy's default 30 s behind requests that hold theirs.
    timeout = get_settings().db_pool_timeout
    if url.startswith("sqlite"):
        sqlite_args = {"check_same_thread": False, "timeout": get_settings().write_wait_s}
        engine = create_engine(url, connect_args=sqlite_args, pool_timeout=timeout)
        _configure_sqlite(engine)
        return engine
    size = get_settings().db_pool_size
    options = PUBLIC_READ_OPTIONS if public else POSTGRES_OPTIONS
    engine = create_engine(
        url,
        pool_size=size,
        max_overflow=size,
        pool_timeout=timeout,
        connect_args={
            "options": " ".join(f"-c {k}={v}" for k, v in options.items()),
            **({"prepare_threshold": None} if public else {}),
        },
    )
    event.listen(engine, "checkout", _ended_by_server)
    event.listen(engine, "do_execute", _with_planner_off)
    if public:
        event.listen(engine, "do_execute", _plan_public)
        event.listen(engine, "connect", _ints_as_bigint)
    return engine


def _ended_by_server(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """A pooled connection the server has ended is not handed out: the pool opens another.
    An idle connection has nothing to read until the server ends it (a restart, a fail-over,
    `pg_terminate_backend`, an idle timeout send an error and close, or the kernel closes the
    socket), so a readable socket means an ended session: a poll, where a pre-ping (`SELECT
    1`) is a round trip on every checkout (one statement in four of a log page's, and the
    server's time for it)."""
    if dbapi_connection.closed or dbapi_connection.broken:
        raise DisconnectionError("the pooled connection is closed")
    poller = io_select.poll()
    poller.register(dbapi_connection.fileno(), io_select.POLLIN)
    if poller.poll(0):
        raise DisconnectionError("the server ended the pooled connection")


def _ints_as_bigint(dbapi_connection: Any, _: Any) -> None:
    """Every integer parameter of a public read's connection goes as int8. psycopg sends the
    smallest type that holds the value (int2 up to 32,767), and keys a prepared statement by
    its text and its parameters' types: a page's documents, their ids of either width, were
    a statement of their own almost every time, prepared anew and the oldest deallocated (the
    mix's URLs: 292 deallocations in 600 requests, none so). The statements cast their
    parameters to the columns' types."""
    dbapi_connection.adapters.register_dumper(int, Int8Dumper)


def dedicated_engine(engine: Engine) -> Engine:
    """One autocommit connection of its own beside `engine`'s pool, for a session-level lock
    that must outlive every request's connection (the background runner's election)."""
    dedicated = create_engine(engine.url, pool_size=1, max_overflow=0, isolation_level="AUTOCOMMIT")
    event.listen(dedicated, "checkout", _ended_by_server)
    return dedicated


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().database_url)


@lru_cache
def get_read_engine() -> Engine:
    """Where public reads go: the streaming replica of FOILOG_READ_DATABASE_URL, else the
    primary through a pool of its own (on PostgreSQL planned as `_plan_public` says; on SQLite
    a read on the event loop never waits for a connection behind writes queued for the write
    lock). Keyed calls and writes always use the primary's `get_engine`."""
    settings = get_settings()
    return make_engine(settings.read_database_url or settings.database_url, public=True)


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


@lru_cache
def read_turns() -> Turns:
    """SQLite reads are all CPU in this process: one at a time is fastest (a distinct-URL mix
    at 100,000 entries served 182 requests/s with 1, 158 with 2, 154 with no limit). A
    PostgreSQL read waits on the server part of its time, which others can use. A write goes
    first in every process serving the database (`WriteBeacon`)."""
    settings = get_settings()
    size = settings.read_concurrency or (1 if is_sqlite(get_read_engine()) else 4)
    return Turns(size, beacon=WriteBeacon.for_database(settings.database_url))


def reads_on_loop() -> bool:
    """Whether a quick public read runs on the event loop rather than in the thread pool.
    SQLite's reads are CPU work in this process, taken one at a time anyway: on the loop they
    save the hand-off to a thread and back (a distinct-URL mix at 100,000 entries served 1.21x
    and 1.34x the requests/s of reads in threads, in runs taken in turn). PostgreSQL's reads
    wait on the server, and the loop must not."""
    return is_sqlite(get_read_engine())


def _no_turn(timeout: float) -> ReadsBusy:
    return ReadsBusy(
        f"public reads kept every turn taken for {timeout:g} s; try again shortly", retry_after=1
    )


def _read_only_session() -> Session:
    read_bind, _ = _binds(get_read_engine())
    return Session(read_bind, expire_on_commit=False)


@contextlib.contextmanager
def public_session() -> Iterator[Session]:
    """A read-only session for a public read, on the read database (a replica when set), once
    the read's turn has come (`app.read_turns`: at most FOILOG_READ_CONCURRENCY at once)."""
    timeout = get_settings().db_pool_timeout
    with read_turns().turn(timeout) as turn:
        if not turn:
            raise _no_turn(timeout)
        with _read_only_session() as session:
            yield session


@contextlib.asynccontextmanager
async def public_session_on_loop() -> AsyncIterator[Session]:
    """`public_session` for a read run on the event loop (`reads_on_loop`): waiting for its
    turn lets the loop run on."""
    timeout = get_settings().db_pool_timeout
    async with read_turns().turn_on_loop(timeout) as turn:
        if not turn:
            raise _no_turn(timeout)
        with _read_only_session() as session:
            yield session


async def read_session() -> AsyncIterator[Session]:
    # Async, though the routes are not: FastAPI runs a plain generator dependency in the thread
    # pool twice (to open, to close), two hand-offs per request more than the route's own.
    # Opening a session does no I/O; closing one rolls back and returns its connection.
    with new_session() as session:
        yield session


def write_session() -> Iterator[Session]:
    # Its request goes ahead of the public reads waiting their turn (`app.writes_first`).
    with new_session(write=True) as session:
        yield session


ReadSession = Annotated[Session, Depends(read_session)]
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


def refresh_statistics() -> None:
    """Let PostgreSQL see what a bulk write changed, without waiting for autovacuum (which may
    be off or late: 45 minutes after a 100,000-entry import it had not run). ANALYZE gives the
    planner statistics: without them it guessed 32 rows for a 20,000-row search and walked the
    table (1 s, against 6 ms once analysed). VACUUM marks the new pages all-visible, so index-only
    scans (the narrow first step of every log page) read no heap: until then each of their rows
    was also read from the table. VACUUM cannot run in a transaction: it runs on a connection of
    its own, in autocommit, on the tables this user may vacuum. SQLite's plans were chosen
    without statistics, which ANALYZE there would change, so it is left alone."""
    engine = get_engine()
    if is_sqlite(engine):
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))


def lock_for_transaction(session: Session, keys: Iterable[int]) -> None:
    """Hold the exclusive locks named by `keys` (signed 64-bit numbers) until the transaction
    ends, taken in ascending order in one statement, so writers that each take theirs in one
    call cannot deadlock on them. PostgreSQL: advisory locks. SQLite: a write transaction holds
    the database's one write lock already (BEGIN IMMEDIATE), so there is nothing more to take."""
    ordered = sorted(set(keys))
    if ordered and session.get_bind().dialect.name != "sqlite":
        session.execute(
            text(
                "SELECT count(pg_advisory_xact_lock(k)) FROM "
                "(SELECT unnest(CAST(:keys AS bigint[])) AS k ORDER BY 1) AS ordered"
            ),
            {"keys": ordered},
        )


def read_under_locks(
    session: Session, read: Callable[[], tuple[set[int], T]], *, attempts: int = 5
) -> T:
    """Run `read`, which returns the lock keys of everything it read and what it found, until
    it has run holding every one of those keys (taken as `lock_for_transaction` does), so no
    other writer can change what it found before this transaction ends. A run that found more
    to lock gives back what it took (a savepoint) and takes the union in order: never a lock
    out of order, so never a deadlock. SQLite: one run, under the write lock."""
    if session.get_bind().dialect.name == "sqlite":
        return read()[1]
    held: set[int] = set()
    for _ in range(attempts):
        savepoint = session.begin_nested()
        lock_for_transaction(session, held)
        needed, found = read()
        if needed <= held:
            savepoint.commit()
            return found
        savepoint.rollback()
        held |= needed
    raise WriteBusy("entries this write links kept changing; try again", retry_after=1)


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def insert_missing(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose unique keys are not taken yet, the rest not at all: a get-or-create
    that two writers can race (INSERT ... ON CONFLICT DO NOTHING). On PostgreSQL the second
    waits for the first to commit or abort, then inserts nothing or its own row."""
    if not rows:
        return
    connection = session.connection()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    connection.execute(dialect.insert(table).on_conflict_do_nothing(), rows)


def upsert_adding(
    connection: Connection, table: Table, rows: list[tuple[Any, ...]], added: tuple[str, ...]
) -> None:
    """Insert the rows (values of every column, in table order), or add their `added` columns
    to the row already under their primary key (INSERT ... ON CONFLICT DO UPDATE SET c = c +
    excluded.c): counters two writers can bump at once. The statement goes to the driver as
    it is, the same text on both databases: SQLAlchemy's parameter handling was a third of a
    tally recount's CPU (cProfile, 5,000 entries: 2.6 of 7.4 s)."""
    connection.exec_driver_sql(_adding(table, f"VALUES ({_marks(connection, table)})", added), rows)


def insert_rows(connection: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """Insert the rows (values of every column, in table order), sent as `upsert_adding`'s;
    on PostgreSQL by COPY (`insert_many`)."""
    if connection.dialect.name != "sqlite":
        _copy(connection, table, [c.name for c in table.columns], rows)
        return
    columns = ", ".join(c.name for c in table.columns)
    values = _marks(connection, table)
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({values})", rows)  # noqa: S608


def insert_many(
    connection: Connection,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    statement: Insert | None = None,
) -> None:
    """Insert rows that all give the same columns. PostgreSQL: one COPY ... FROM STDIN, each
    value through its column's type as a statement's parameter would go (triggers, constraints
    and generated columns as for an INSERT). An executemany of INSERTs sent a statement a row
    (psycopg pipelines them), each through SQLAlchemy's parameter handling: an import's band
    keys, 1,600 rows a batch, took 77 ms a batch so; an import of 20,000 entries 82 s, 61 by
    COPY. SQLite: `statement` (an INSERT of the table by default) executed for the rows, its
    driver's loop in C.

    A column with a default computed in Python must be given: COPY knows only the database's
    own defaults, and both databases must store the same rows."""
    if not rows:
        return
    defaulted = {c.name for c in table.columns if c.default is not None or c.onupdate is not None}
    if missing := sorted(defaulted - rows[0].keys()):
        raise ValueError(f"insert_many into {table.name} needs {', '.join(missing)} given")
    if connection.dialect.name == "sqlite":
        connection.execute(insert(table) if statement is None else statement, rows)
        return
    columns = list(rows[0])
    _copy(connection, table, columns, ([row[c] for c in columns] for row in rows))


def _copy(
    connection: Connection, table: Table, columns: list[str], rows: Iterable[Iterable[Any]]
) -> None:
    """COPY the rows (values of `columns`, in order) into the table, in this transaction."""
    dialect = connection.dialect
    processors = [
        table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns
    ]
    names = ", ".join(columns)
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(
                    [
                        value if process is None else process(value)
                        for process, value in zip(processors, row, strict=True)
                    ]
                )
    finally:
        cursor.close()


def upsert_adding_from(
    connection: Connection, table: Table, source: Table, added: tuple[str, ...]
) -> None:
    """`upsert_adding` of `source`'s rows (a table of the same columns, a key in any number of
    rows) summed by primary key, those whose sums are not all 0, in key order."""
    keys = ", ".join(c.name for c in table.primary_key.columns)
    summed = ", ".join(f"sum({c.name})" if c.name in added else c.name for c in table.columns)
    nonzero = " OR ".join(f"sum({c}) <> 0" for c in added)
    # SQLite reads ON CONFLICT after a SELECT only once a WHERE clause has ended its FROM.
    rows = (
        f"SELECT {summed} FROM {source.name} WHERE true GROUP BY {keys}"  # noqa: S608
        f" HAVING {nonzero} ORDER BY {keys}"
    )
    connection.exec_driver_sql(_adding(table, rows, added))


def _marks(connection: Connection, table: Table) -> str:
    """A parameter marker per column: only the table's own names go into a text, values are
    parameters."""
    return ", ".join(
        ["?" if connection.dialect.paramstyle == "qmark" else "%s"] * len(table.columns)
    )


def _adding(table: Table, rows: str, added: tuple[str, ...]) -> str:
    columns = ", ".join(c.name for c in table.columns)
    keys = ", ".join(c.name for c in table.primary_key.columns)
    adding = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in added)
    return (
        f"INSERT INTO {table.name} ({columns}) {rows} ON CONFLICT ({keys}) DO UPDATE SET {adding}"
    )


# ---------------------------------------------------------------------------------------------
# Numbered rows that readers take in number order and never skip (the change feed)


class _SnapshotHorizon(FunctionElement[int]):
    """PostgreSQL: the oldest transaction still in flight as this statement sees the database
    (every transaction below it has committed or aborted, and this statement sees the commits).
    SQLite: NULL, as nothing numbered is ever pending there (see `insert_numbered`)."""

    type = BigInteger()
    inherit_cache = True


@compiles(_SnapshotHorizon, "postgresql")
def _postgres_horizon(element: _SnapshotHorizon, compiler: SQLCompiler, **kw: Any) -> str:
    return "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"


@compiles(_SnapshotHorizon)
def _no_horizon(element: _SnapshotHorizon, compiler: SQLCompiler, **kw: Any) -> str:
    return "NULL"


def settled(horizon: ColumnElement[int | None]) -> ColumnElement[bool]:
    """True for a row written by `insert_numbered` once no number below its own can still
    become visible, judged within the statement: every transaction of the PostgreSQL cluster
    below the row's horizon has ended. Sure but coarse (an open transaction of another database
    holds it back); `passable_horizon` looks closer."""
    return horizon.is_(None) | (horizon <= _SnapshotHorizon())


class _InFlight(FunctionElement[Any]):
    """PostgreSQL: the transactions in flight as this statement sees the database, an array of
    64-bit ids. SQLite: NULL."""

    type = postgresql.ARRAY(BigInteger())
    inherit_cache = True


@compiles(_InFlight, "postgresql")
def _postgres_in_flight(element: _InFlight, compiler: SQLCompiler, **kw: Any) -> str:
    return "ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(pg_current_snapshot()) AS x)"


@compiles(_InFlight)
def _nothing_in_flight(element: _InFlight, compiler: SQLCompiler, **kw: Any) -> str:
    return "NULL"


def in_flight() -> ColumnElement[Any]:
    """Select this beside rows of `insert_numbered` and give it to `passable_horizon`."""
    return _InFlight()


_SEQUENCE_HOLDERS = text(
    "SELECT t.transactionid::text::bigint FROM pg_locks AS s "
    "JOIN pg_locks AS t ON t.virtualtransaction = s.virtualtransaction "
    "WHERE s.locktype = 'relation' AND s.relation = CAST(:sequence AS regclass) "
    "AND s.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND t.locktype = 'transactionid'"
)


def passable_horizon(
    session: Session, seen_in_flight: list[int] | None, sequence: Sequence
) -> int | None:
    """For rows of `insert_numbered` read in a statement that saw `seen_in_flight` (select
    `in_flight()` with them): the highest horizon a reader may pass, or None for every row.

    Of the transactions that statement saw in flight, only those that took numbers of
    `sequence` can commit one below a row it read (a row's horizon is above the id of every
    transaction that took a lower number, so those are among them). PostgreSQL keeps the lock
    `nextval` takes until the transaction ends, so the lock table, asked now, names those still
    in flight that took numbers: another database's open transactions, or this one's that
    write no changes, hold no reader back. One that took numbers and ended between that
    statement and now is not named: the caller reads again to see whether it committed any of
    them below the rows read (`changes.service.since`)."""
    if not seen_in_flight:
        return None
    holders = {
        xid % _XID_SPACE
        for xid in session.connection()
        .execute(_SEQUENCE_HOLDERS, {"sequence": sequence.name})
        .scalars()
    }
    return min((x for x in seen_in_flight if x % _XID_SPACE in holders), default=None)


_XID_SPACE = 2**32


def insert_numbered(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    number: str,
    sequence: Sequence,
    horizon: str,
) -> list[int]:
    """Insert `rows`, numbered in order in the column `number`, so that a reader walking the
    numbers upwards never passes one that becomes visible later. Returns the numbers.

    SQLite: writers are serialised by the write lock this transaction holds from its start, so
    the next numbers are the column's largest plus one, and they commit in order.

    PostgreSQL: numbers come from `sequence` and writers never wait for each other, so numbers
    can commit out of order; the `horizon` column tells readers when a row's number is safe to
    pass. Every transaction that took a lower number did so after it had a transaction id and
    before this one took its numbers; the horizon is a transaction id assigned after that (a
    subtransaction's, around this INSERT), so it is above theirs. Once no transaction below
    the horizon that took numbers is in flight, each of them has committed (and a reader sees
    its rows) or aborted (and they never appear): `settled`, `passable_horizon`. Writers that
    take numbers later get higher ones."""
    connection = session.connection()
    column = table.c[number]
    if connection.dialect.name == "sqlite":
        last = connection.execute(select(func.max(column))).scalar_one() or 0
        numbers = list(range(last + 1, last + 1 + len(rows)))
        connection.execute(
            insert(table), [{**r, number: n} for r, n in zip(rows, numbers, strict=True)]
        )
        return numbers
    # This transaction's id, assigned now if it has none yet: before its numbers are taken.
    top: int = connection.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one()
    numbers = sorted(
        connection.execute(
            select(sequence.next_value()).select_from(func.generate_series(1, len(rows)))
        ).scalars()
    )
    connection.exec_driver_sql("SAVEPOINT numbered")
    xids: list[str] = list(
        connection.execute(
            insert(table).returning(literal_column("xmin::text")),
            [{**r, number: n} for r, n in zip(rows, numbers, strict=True)],
        ).scalars()
    )
    # The subtransaction's id, taken after the numbers, widened to 64 bits by its parent's epoch.
    subtransaction = top + (int(xids[0]) - top) % _XID_SPACE
    connection.exec_driver_sql("RELEASE SAVEPOINT numbered")
    connection.execute(update(table).where(column.in_(numbers)).values({horizon: subtransaction}))
    return numbers


class ProcessLock(Protocol):
    """An exclusive lock a process holds across transactions, released at once when it dies."""

    def acquire(self) -> bool:
        """Take the lock if it is free (never waits); True while this process holds it."""

    def release(self) -> None: ...


class _AdvisoryLock:
    """PostgreSQL: a session-level advisory lock, taken on a connection of its own that the
    holder keeps open; the server lets go of it when that connection ends, however the
    process died."""

    def __init__(self, engine: Engine, key: int) -> None:
        self._engine = dedicated_engine(engine)
        self._key = key
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        try:
            if self._connection is not None:
                # Still connected means still holding it.
                self._connection.execute(text("SELECT 1"))
                return True
            connection = self._engine.connect()
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar_one()
        except SQLAlchemyError:
            logging.getLogger("foilog.db").warning("lost the connection that held a lock")
            self._drop()
            return False
        if taken:
            self._connection = connection
            return True
        connection.close()
        return False

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.invalidate()
            self._connection.close()
            self._connection = None

    def release(self) -> None:
        if self._connection is not None:
            # A connection that is gone has taken the lock with it.
            with contextlib.suppress(SQLAlchemyError):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
            self._drop()
        self._engine.dispose()


class _FileLock:
    """SQLite: an exclusive `flock` on a file beside the database. SQLite is shared only by
    processes of one machine, which a file lock reaches, and the kernel drops the lock with the
    process. A lease row would need an expiry to outlive a crashed holder (a stall before anyone
    takes over), and renewing it would take SQLite's single write lock every few seconds."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def process_lock(engine: Engine, name: str, key: int) -> ProcessLock:
    """The lock `key` (a signed 64-bit number) on PostgreSQL, the file
    `<database file>.<name>` on SQLite."""
    if is_sqlite(engine):
        database = Path(engine.url.database or "foilog.db").resolve()
        return _FileLock(database.with_name(f"{database.name}.{name}"))
    return _AdvisoryLock(engine, key)
