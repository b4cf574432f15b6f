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
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
