"""The app under a real server with more requests at once than the database pool has
connections: every request is answered."""

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from instances import serve_in_thread
from log_factories import publish
from sqlmodel import Session

from app import db
from app.disclosure_log import service
from app.read_turns import Turns

CONCURRENT = 48  # more than either database's pool (SQLite 5 + 10, PostgreSQL 5 + 5)


@pytest.fixture
def server(session: Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    publish(session, title="Custody records", text="custody")
    # Every request its turn at once (app.read_turns; tested there): what is tested here is
    # the pool. Reads that sleep hold their turns for their lease, and one turn lets 48 in
    # only after 48 leases (12 s).
    turns = Turns(CONCURRENT)
    monkeypatch.setattr(db, "read_turns", lambda: turns)
    with serve_in_thread() as url:
        yield url


def test_more_requests_than_connections_are_all_answered(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with httpx.Client(base_url=server, timeout=20) as client:
        assert client.get("/v1/disclosure-log", params={"q": "custody"}).status_code == 200
        list_entries = service.list_entries

        def slow(*args: Any, **kwargs: Any) -> Any:
            time.sleep(0.3)  # each page holds its connection a while
            return list_entries(*args, **kwargs)

        monkeypatch.setattr(service, "list_entries", slow)
        # Counted: a read that may be slow, run in the thread pool on either database
        # (`app.db.reads_on_loop`), so that many at once each hold a connection.
        urls = [
            f"/v1/disclosure-log?q=custody&count=true&limit={n}" for n in range(1, CONCURRENT + 1)
        ]
        with ThreadPoolExecutor(CONCURRENT) as pool:
            statuses = list(pool.map(lambda url: client.get(url).status_code, urls))
    assert statuses == [200] * CONCURRENT
