import multiprocessing
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import factories
import orjson
import pytest
from fastapi.testclient import TestClient
from log_factories import Spec, publish, withdraw
from sqlalchemy import func, select, text
from sqlmodel import Session

from app.changes import service as changes
from app.config import get_settings
from app.db import get_engine, new_session, utcnow
from app.entries import service as entries
from app.models import DisclosureEntry, EntryChange
from app.pagination import encode_cursor


def poll(client: TestClient, since: str | None = None, limit: int = 100) -> dict[str, Any]:
    params: dict[str, Any] = {"limit": limit}
    if since is not None:
        params["since"] = since
    response = client.get("/v1/changes", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_publish_update_withdraw_arrive_in_order(client: TestClient, session: Session) -> None:
    key = factories.make_key(session)
    created = factories.create_request(client, key)
    factories.add_response(client, key, created["id"])
    entry = factories.publish(client, key, created["id"])
    review = factories.hertfordshire_response_body(
        kind="internal_review", responded_on="2018-07-20"
    )
    factories.add_response(client, key, created["id"], **review)

    page = poll(client)
    assert [(i["change"], i["id"]) for i in page["items"]] == [
        ("published", entry["id"]),
        ("updated", entry["id"]),
    ]
    assert page["items"][1]["entry"]["responses"][-1]["kind"] == "internal_review"
    assert [i["seq"] for i in page["items"]] == [1, 2]

    withdrawn = client.post(
        f"/v1/disclosure-log/{entry['id']}/withdraw",
        json={"reason": "published in error"},
        headers=factories.auth(key),
    )
    assert withdrawn.status_code == 200, withdrawn.text
    later = poll(client, page["next_cursor"])
    assert [(i["change"], i["id"]) for i in later["items"]] == [("withdrawn", entry["id"])]
    assert later["items"][0]["entry"]["reason"] == "published in error"


def test_withdrawn_content_never_comes_back_through_old_changes(
    client: TestClient, session: Session
) -> None:
    entry = publish(session, Spec(title="Secret squirrel fleet", text="squirrel text"))
    withdraw(session, entry)
    body = client.get("/v1/changes").content
    assert b"squirrel" not in body.lower()
    items = orjson.loads(body)["items"]
    assert items[0]["entry"]["status"] == "withdrawn"
    assert set(items[0]["entry"]) == {
        "id",
        "status",
        "force",
        "reference",
        "withdrawn_at",
        "reason",
    }


def test_cursor_is_always_returned_and_stays_put_when_nothing_is_new(
    client: TestClient, session: Session
) -> None:
    empty = poll(client)
    assert empty["items"] == []
    assert empty["next_cursor"]
    assert poll(client, empty["next_cursor"])["next_cursor"] == empty["next_cursor"]
    publish(session)
    first = poll(client, empty["next_cursor"])
    assert len(first["items"]) == 1
    again = poll(client, first["next_cursor"])
    assert again["items"] == []
    assert again["next_cursor"] == first["next_cursor"]


def test_paging_through_the_feed_sees_each_change_once(
    client: TestClient, session: Session
) -> None:
    for _ in range(7):
        publish(session)
    seen: list[int] = []
    cursor = None
    for _ in range(10):
        page = poll(client, cursor, limit=3)
        seen += [i["seq"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not page["items"]:
            break
    assert seen == [1, 2, 3, 4, 5, 6, 7]


def announce_due() -> int:
    """What the background runner does for entries that fell due."""
    with new_session(write=True) as session:
        return changes.announce(session, changes.due_announcements(session))


def test_a_scheduled_entry_is_announced_once_when_due(client: TestClient, session: Session) -> None:
    entry = publish(session, published_at=utcnow() + timedelta(days=3), title="Future fleet")
    assert announce_due() == 0
    assert poll(client)["items"] == []
    entry.published_at = utcnow() - timedelta(seconds=1)
    session.add(entry)
    session.commit()
    # Reading the feed writes nothing: the announcement is the runner's.
    assert poll(client)["items"] == []
    assert announce_due() == 1
    assert announce_due() == 0
    first = poll(client)
    assert [(i["change"], i["id"]) for i in first["items"]] == [("published", entry.id)]
    assert first["items"][0]["entry"]["title"] == "Future fleet"
    assert first["items"][0]["entry"]["status"] == "published"
    assert client.get(f"/v1/disclosure-log/{entry.id}").json()["status"] == "published"
    assert poll(client)["items"] == first["items"]


def test_a_scheduled_entry_withdrawn_before_its_time_is_never_announced(
    client: TestClient, session: Session
) -> None:
    entry = publish(session, published_at=utcnow() + timedelta(days=3))
    withdraw(session, entry)
    entry.published_at = utcnow() - timedelta(seconds=1)
    session.add(entry)
    session.commit()
    assert announce_due() == 0
    assert poll(client)["items"] == []


def test_the_link_header_repeats_the_next_cursor(client: TestClient, session: Session) -> None:
    for _ in range(3):
        publish(session)
    response = client.get("/v1/changes", params={"limit": 2})
    cursor = response.json()["next_cursor"]
    link = response.headers["link"]
    assert link.endswith('>; rel="next"')
    url = link[1 : link.index(">")]
    assert url.startswith("http")
    assert "/v1/changes?" in url
    followed = client.get(url)
    assert [i["seq"] for i in followed.json()["items"]] == [3]
    assert f"since={cursor}" in url
    assert url.count("since=") == 1


@pytest.mark.parametrize(
    "since",
    [
        "garbage",
        "eyJ4Ijox",
        encode_cursor("-published_at", ["2020-01-01", 1]),
        "WyJjaGFuZ2VzIiwtMV0",
        # Past what a BIGINT holds: the database cannot be asked for it (was a 500).
        encode_cursor("changes", [2**63]),
        encode_cursor("changes", [2**64 - 1]),
    ],
)
def test_bad_cursors_are_400(client: TestClient, since: str) -> None:
    response = client.get("/v1/changes", params={"since": since})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("limit", ["0", "101", "x"])
def test_bad_limits_are_422(client: TestClient, limit: str) -> None:
    assert client.get("/v1/changes", params={"limit": limit}).status_code == 422


def test_the_feed_is_cacheable(client: TestClient, session: Session) -> None:
    publish(session)
    first = client.get("/v1/changes")
    assert first.headers["cache-control"].startswith("public")
    assert (
        client.get("/v1/changes", headers={"If-None-Match": first.headers["etag"]}).status_code
        == 304
    )


WRITERS = 3
ENTRIES_PER_WRITER = 12


def _writer(database_url: str, number: int) -> None:
    """Publishes and updates entries, lingering between taking sequence numbers and
    committing: the window in which a plain sequence would let a later number commit first."""
    import os

    os.environ["FOILOG_DATABASE_URL"] = database_url
    from app.db import get_engine

    get_settings.cache_clear()
    get_engine.cache_clear()
    record = changes.record
    rng = random.Random(number)

    def slow_record(*args: Any, **kwargs: Any) -> None:
        record(*args, **kwargs)
        time.sleep(rng.uniform(0, 0.01))

    changes.record = slow_record
    for index in range(ENTRIES_PER_WRITER):
        with new_session(write=True) as session:
            entry = publish(session, reference=f"W{number}-{index}")
            if index % 3 == 0:
                entry = session.get_one(DisclosureEntry, entry.id)
                entry.title = f"Updated {number}-{index}"
                entries.refresh(session, entry)
                session.commit()
    get_engine().dispose()


def test_concurrent_writers_in_several_processes_never_make_a_reader_skip(
    client: TestClient, database_url: str
) -> None:
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_writer, args=(database_url, n)) for n in range(WRITERS)]
    for writer in writers:
        writer.start()
    expected = WRITERS * (ENTRIES_PER_WRITER + len(range(0, ENTRIES_PER_WRITER, 3)))
    seen: list[int] = []
    cursor = None
    deadline = time.monotonic() + 120
    while len(seen) < expected and time.monotonic() < deadline:
        page = poll(client, cursor, limit=5)
        seqs = [item["seq"] for item in page["items"]]
        # Every page continues exactly where the last one stopped: no gap, ever.
        assert seqs == list(range(len(seen) + 1, len(seen) + 1 + len(seqs)))
        seen += seqs
        cursor = page["next_cursor"]
    for writer in writers:
        writer.join(timeout=60)
        assert writer.exitcode == 0
    seen += [item["seq"] for item in poll(client, cursor)["items"]]
    assert seen == list(range(1, expected + 1))


IMPORT_LINES = 30


def _held_import(database_url: str, holding: Any, release: Any) -> None:
    """Imports entries in one transaction that stays open, after its first changes are
    recorded, until the test releases it: a long import, frozen at its most obstructive."""
    import os

    os.environ["FOILOG_DATABASE_URL"] = database_url
    from app.db import get_engine
    from app.imports import service as imports

    get_settings.cache_clear()
    get_engine.cache_clear()
    from test_import import SYSTEM, entry_document

    record = changes.record

    def held_record(*args: Any, **kwargs: Any) -> None:
        record(*args, **kwargs)
        if not holding.is_set():
            holding.set()
            assert release.wait(timeout=90)

    changes.record = held_record
    lines = [
        orjson.dumps(entry_document(reference=f"IMPORT-{n}", published_at=None))
        for n in range(IMPORT_LINES)
    ]
    imports.BATCH = 10
    with new_session(write=True) as session:
        imports.import_entries(session, lines, actor=SYSTEM)
    get_engine().dispose()


@contextmanager
def import_held_open(database_url: str) -> Iterator[None]:
    """While inside, another process holds an import's transaction open after its first
    changes took their numbers; on leaving, the import commits."""
    context = multiprocessing.get_context("spawn")
    holding, release = context.Event(), context.Event()
    importer = context.Process(target=_held_import, args=(database_url, holding, release))
    importer.start()
    try:
        assert holding.wait(timeout=60), "the import never began writing"
        yield
    finally:
        release.set()
        importer.join(timeout=60)
    assert importer.exitcode == 0


def test_a_long_import_blocks_no_publish_and_the_reader_still_never_skips(
    client: TestClient, session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "write_wait_s", 2.0)
    key = factories.make_key(session)
    created = factories.create_request(client, key)
    factories.add_response(client, key, created["id"])
    before = poll(client)
    with import_held_open(database_url):
        started = time.monotonic()
        published = client.post(
            "/v1/disclosure-log", json={"request_id": created["id"]}, headers=factories.auth(key)
        )
        waited = time.monotonic() - started
        if database_url.startswith("sqlite"):
            # One writer at a time: the publish waits FOILOG_WRITE_WAIT_S, then says to retry.
            assert published.status_code == 503, published.text
            assert published.headers["content-type"] == "application/problem+json"
            assert int(published.headers["retry-after"]) >= 1
        else:
            assert published.status_code == 201, published.text
            assert waited < 5
            # The publish took a number above the import's first ones, which are not visible
            # yet: the reader must not pass them.
            assert poll(client, before["next_cursor"])["items"] == []
    after = poll(client, before["next_cursor"])
    seqs = [item["seq"] for item in after["items"]]
    expected = IMPORT_LINES + (0 if database_url.startswith("sqlite") else 1)
    assert len(seqs) == expected
    assert seqs == sorted(seqs)
    assert poll(client, after["next_cursor"])["items"] == []


def test_a_reader_starting_at_the_latest_change_misses_no_write_still_in_flight(
    session: Session, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock commits changes in number order: none is in flight")
    with import_held_open(database_url):
        publish(session, Spec(title="Committed above the import's numbers"))
        start = changes.latest(session)
    seen = changes.since(session, start, 1000)
    assert sum(row.reference.startswith("IMPORT-") for row in seen) == IMPORT_LINES


def test_the_latest_change_is_not_held_back_by_a_transaction_that_writes_no_changes(
    session: Session, database_url: str
) -> None:
    """A new webhook starts at `latest`: an open transaction that takes no change numbers (a
    long report, another database's import) must not send it back to the start of the feed."""
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's write lock commits changes in number order: none is in flight")
    with get_engine().connect() as other:
        other.execute(text("SELECT pg_current_xact_id()"))  # open, with an id, no changes
        for n in range(3):
            publish(session, Spec(title=f"After the open transaction {n}"))
        newest = session.execute(select(func.max(EntryChange.seq))).scalar_one()
        assert changes.latest(session) == newest


def test_a_cursor_at_the_largest_change_number_is_an_empty_page(client: TestClient) -> None:
    response = client.get("/v1/changes", params={"since": encode_cursor("changes", [2**63 - 1])})
    assert (response.status_code, response.json()["items"]) == (200, [])
