"""Where a public read runs (`app.db.reads_on_loop`): on SQLite a quick read on the event loop,
saving the thread pool's hand-off, and one that may take long (statistics, a count of every
match, the log's pages, which count) in the thread pool, so that the loop answers meanwhile;
on PostgreSQL, whose reads wait on the server, every read in the thread pool. Either way a
read still goes after a write that is running."""

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from log_factories import publish
from sqlmodel import Session

from app.disclosure_log import service as log
from app.exemptions import service as exemptions
from app.forces import service as forces
from app.stats import service as stats
from app.topics import service as topics


def _on_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _recording(monkeypatch: pytest.MonkeyPatch, module: Any, name: str, places: list[bool]) -> None:
    called: Callable[..., Any] = getattr(module, name)

    def record(*args: Any, **kwargs: Any) -> Any:
        places.append(_on_loop())
        return called(*args, **kwargs)

    monkeypatch.setattr(module, name, record)


def test_quick_reads_run_on_the_loop_on_sqlite_only_and_slow_ones_never(
    client: TestClient, session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = publish(session, title="Custody records", text="custody")
    places: list[bool] = []
    for name in ("get_document", "get_document_by_reference", "list_entries"):
        _recording(monkeypatch, log, name, places)
    _recording(monkeypatch, stats, "stats", places)
    for module, names in (
        (forces, ("list_forces", "get_force")),
        (topics, ("list_topics",)),
        (exemptions, ("list_exemptions", "get_exemption")),
    ):
        for name in names:
            _recording(monkeypatch, module, name, places)
    quick = [
        f"/v1/disclosure-log/{entry.id}",
        f"/v1/forces/{entry.force_id}/references/{entry.request.reference}",
        "/v1/disclosure-log?q=custody",
        "/v1/forces",
        f"/v1/forces/{entry.force_id}",
        "/v1/topics",
        "/v1/exemptions",
    ]
    slow = [
        "/v1/disclosure-log?q=custody&count=true",
        "/v1/stats",
        "/disclosure-log",
        "/v1/exemptions/foia-s31",
    ]
    for url in quick + slow:
        places.clear()
        assert client.get(url).status_code == 200, url
        assert places, url
        sqlite = database_url.startswith("sqlite")
        assert set(places) == {sqlite and url in quick}, url
