"""Faults injected into a real `foilog serve` of two workers: the worker running an import is
killed (SIGKILL) in the middle of the import's transaction. Nothing of the import may be
visible, the change feed neither records it nor stalls behind it, uvicorn's supervisor starts a
worker in the dead one's place, and the same import then goes in whole."""

import os
import signal
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import census
import httpx
import orjson
import pytest
from factories import add_response, auth, create_request, make_key, publish
from instances import Server, process_serving, serve_cli
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from sqlmodel import Session, SQLModel

from app.demo import generate_entries

# Three of the import's batches (app.imports.service.BATCH): the first batch's entry rows are
# written with two batches still to come, seconds of work before the commit.
IMPORT_LINES = 3000


def until(condition: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.02)
    return result


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows in every table: what a half-written import would change."""
    tables = SQLModel.metadata.sorted_tables
    with engine.connect() as connection:
        row = connection.execute(
            select(*(select(func.count()).select_from(t).scalar_subquery() for t in tables))
        ).one()
    return {t.name: count for t, count in zip(tables, row, strict=True)}


def import_body(count: int) -> bytes:
    return b"".join(orjson.dumps(entry) + b"\n" for entry in generate_entries(count))


def send_import(url: str, key: str, body: bytes) -> socket.socket:
    """POST the whole body on a connection of its own and return without waiting: the caller
    reads the answer, if one ever comes."""
    host, port = url.removeprefix("http://").split(":")
    connection = socket.create_connection((host, int(port)))
    head = (
        "POST /v1/import HTTP/1.1\r\nHost: foilog\r\nConnection: close\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/x-ndjson\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    connection.sendall(head.encode() + body)
    return connection


def entry_rows_being_written(url: str) -> Callable[[], bool]:
    """True while another transaction of the database is writing: on PostgreSQL, one that has
    inserted into disclosure_entry (it holds ROW EXCLUSIVE on the table until it ends); on
    SQLite, one that holds the write lock (a probe cannot take it)."""
    if url.startswith("sqlite"):
        path = make_url(url).database

        def sqlite_locked() -> bool:
            probe = sqlite3.connect(str(path), timeout=0, isolation_level=None)
            try:
                probe.execute("BEGIN IMMEDIATE")
                probe.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc):
                    raise
                return True
            finally:
                probe.close()

        return sqlite_locked
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    query = text(
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "WHERE c.relname = 'disclosure_entry' AND l.mode = 'RowExclusiveLock' "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        "AND l.pid <> pg_backend_pid()"
    )

    def postgres_writing() -> bool:
        with engine.connect() as connection:
            return bool(connection.execute(query).scalar_one())

    return postgres_writing


def walk_changes(client: httpx.Client, since: str | None) -> tuple[list[dict[str, Any]], str]:
    """Every change after `since` (from the start if None), page by page, and the cursor
    after the last."""
    items: list[dict[str, Any]] = []
    while True:
        params: dict[str, Any] = {"limit": 100} if since is None else {"since": since, "limit": 100}
        page = client.get("/v1/changes", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        since = body["next_cursor"]
        if not body["items"]:
            return items, since


def publish_one(client: httpx.Client, key: str, reference: str) -> dict[str, Any]:
    request = create_request(client, key, reference=reference)
    add_response(client, key, request["id"])
    return publish(client, key, request["id"])


def public_total(client: httpx.Client) -> int:
    listed = client.get("/v1/disclosure-log", params={"count": "true", "limit": 1})
    assert listed.status_code == 200, listed.text
    total: int = listed.json()["total"]
    return total


@pytest.fixture
def server(database_url: str, tmp_path: Path) -> Iterator[Server]:
    # A write that finds the lock taken waits this long before its 503 (SQLite).
    with serve_cli(database_url, tmp_path / "serve.log", write_wait_s="10") as running:
        yield running


def test_a_worker_killed_mid_import_leaves_nothing_and_the_import_then_goes_in_whole(
    server: Server, session: Session, database_url: str
) -> None:
    key = make_key(session)
    session.commit()
    engine = create_engine(database_url)
    writing = entry_rows_being_written(database_url)
    body = import_body(IMPORT_LINES)
    with httpx.Client(base_url=server.url, timeout=300) as client:
        seeded = [publish_one(client, key, f"SEED/{n}") for n in range(3)]
        _, cursor = walk_changes(client, None)
        before = table_counts(engine)
        workers = server.workers()

        connection = send_import(server.url, key, body)
        until(writing, "the import to begin writing entries", timeout=120)
        if database_url.startswith("sqlite"):
            # The write lock is taken as the write pass begins; the first batch of entry rows
            # goes in within the next second.
            time.sleep(1.0)
            assert writing()
        victim = process_serving(server, connection.getsockname()[1])
        os.kill(victim, signal.SIGKILL)
        connection.settimeout(30)
        try:
            answer = connection.recv(64)
        except ConnectionResetError:
            answer = b""
        connection.close()
        # The import had not finished: its worker died without answering.
        assert answer == b"", answer

        until(
            lambda: len(server.workers()) == len(workers) and victim not in server.workers(),
            "the supervisor to start a worker in the killed one's place",
        )
        until(lambda: client.get("/readyz").status_code == 200, "the server to be ready")
        assert server.process.poll() is None
        # All or nothing: not a row of the import anywhere.
        after_kill = table_counts(engine)

        # The feed records none of it and does not stall behind it: the next publish reaches a
        # reader polling from before the import, alone.
        later = publish_one(client, key, "AFTER/KILL")
        until(lambda: walk_changes(client, cursor)[0], "the next publish to reach the feed")
        changes, cursor = walk_changes(client, cursor)

        again = client.post(
            "/v1/import",
            content=body,
            headers={**auth(key), "Content-Type": "application/x-ndjson"},
        )
        imported, _ = walk_changes(client, cursor)
        total = public_total(client)
    engine.dispose()

    lost = len(seeded) + 1 + IMPORT_LINES - total
    census.fault("kill -9 of a worker mid-import", lost=max(lost, 0))
    assert after_kill == before
    assert [(c["change"], c["id"]) for c in changes] == [("published", later["id"])]
    assert again.status_code == 200, again.text
    assert again.json() == {"created": IMPORT_LINES, "updated": 0, "unchanged": 0}
    assert total == len(seeded) + 1 + IMPORT_LINES
    # Each line published once, in order; then an `updated` for each entry the import's
    # linking pass put into a round-robin (the demo corpus sends some requests to many forces).
    published = [c["id"] for c in imported if c["change"] == "published"]
    linked = imported[len(published) :]
    assert [c["change"] for c in imported[: len(published)]] == ["published"] * IMPORT_LINES
    assert len(set(published)) == IMPORT_LINES
    assert {c["change"] for c in linked} <= {"updated"}
    assert {c["id"] for c in linked} <= set(published)
    seqs = [c["seq"] for c in [*changes, *imported]]
    assert seqs == sorted(seqs)
    if database_url.startswith("sqlite"):
        # One writer at a time: the numbers are the committed changes, gap-free.
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
