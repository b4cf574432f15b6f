"""The public read path never writes: with the database's write lock held by another
connection, as a long import holds it, every public read still answers at once, including one
where a scheduled entry has just fallen due and nothing has announced it yet."""

import sqlite3
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as Late
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from log_factories import publish
from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url
from sqlmodel import Session

from app.models import DisclosureEntry

LOG = "/v1/disclosure-log"
# A read that tried to write would wait for the lock (busy_timeout, 30 s) and fail.
ANSWER_WITHIN = 5.0


@contextmanager
def write_lock_held(database_url: str) -> Iterator[None]:
    """Another connection holds the write lock: SQLite's (BEGIN IMMEDIATE), or on PostgreSQL
    locks that stop every other write of entries and of the change feed."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(make_url(database_url).database or "", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = create_engine(database_url)
    with engine.connect() as connection:
        connection.execute(text("LOCK TABLE entry_change IN EXCLUSIVE MODE"))
        connection.execute(text("LOCK TABLE disclosure_entry IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            connection.rollback()
    engine.dispose()


def test_public_reads_answer_while_another_connection_holds_the_write_lock(
    client: TestClient, session: Session, database_url: str
) -> None:
    seen = publish(session, title="Custody records", text="custody", topics=["custody"])
    due = publish(
        session,
        title="Custody deaths",
        text="custody",
        published_at=datetime.now(UTC) + timedelta(days=3),
    )
    # Its time comes with no write through the API: nothing has announced it.
    session.execute(
        update(DisclosureEntry)
        .where(DisclosureEntry.id == due.id)  # type: ignore[arg-type]
        .values(published_at=datetime.now(UTC))
    )
    session.commit()
    reads = [
        LOG,
        f"{LOG}?q=custody",
        f"{LOG}?topic=custody&count=true",
        f"{LOG}/{due.id}",
        f"{LOG}/{seen.id}",
        f"/v1/forces/metropolitan/references/{due.reference}",
        f"{LOG}.ndjson",
        f"{LOG}.csv",
        f"{LOG}.atom",
        "/v1/stats",
        "/v1/forces",
        "/v1/topics",
        "/v1/exemptions/foia-s31",
        "/disclosure-log?q=custody",
        f"/disclosure-log/{due.id}",
        "/forces/metropolitan",
    ]
    with write_lock_held(database_url), ThreadPoolExecutor(len(reads)) as pool:
        answers = {path: pool.submit(client.get, path) for path in reads}
        statuses: dict[str, int | str] = {}
        for path, answer in answers.items():
            try:
                statuses[path] = answer.result(timeout=ANSWER_WITHIN).status_code
            except Late:
                statuses[path] = "no answer while the write lock was held"
    assert statuses == dict.fromkeys(reads, 200)
    assert due.id in [item["id"] for item in client.get(LOG).json()["items"]]
