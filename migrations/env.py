from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from logging.config import fileConfig
from typing import Any

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table on the metadata)
from app.db import get_engine, make_engine

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# Full-text search objects are dialect-specific DDL made by the migrations, not the models.
SEARCH_PREFIX = "search_"


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, _: Any) -> bool:
    return not (name or "").startswith(SEARCH_PREFIX)


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("url")
    engine = make_engine(url) if url else get_engine()
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        if url:
            engine.dispose()


def _run(connection: Any) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=sqlite,
        include_object=include_object,
        compare_type=True,
    )
    with (
        _foreign_keys_not_enforced(connection) if sqlite else nullcontext(),
        context.begin_transaction(),
    ):
        before = context.get_context().get_current_revision()
        context.run_migrations()
        if sqlite and context.get_context().get_current_revision() != before:
            _check_foreign_keys(connection)


@contextmanager
def _foreign_keys_not_enforced(connection: Any) -> Iterator[None]:
    """SQLite changes a table by copying it into a new one and dropping the old (alembic's batch
    mode). With foreign keys enforced, dropping a table deletes its rows first, and that
    cascades: migration 0013 emptied the webhook deliveries log so. As SQLite's own procedure
    for altering a table says, enforcement is turned off around the transaction (it cannot be
    turned off inside one) and the keys are checked before it commits."""
    if connection.in_transaction():
        yield  # a caller's transaction: the caller answers for its foreign keys
        return
    raw = connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Any) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise RuntimeError(f"the migration left rows whose foreign keys name nothing: {tables}")


run_migrations()
