"""Keyset paging: walking every page yields each entry exactly once, in order, for every sort."""

import base64
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from log_factories import publish
from sqlmodel import Session
from test_search import FORMS, only_form

from app.db import get_engine, is_sqlite, utcnow
from app.disclosure_log import service
from app.disclosure_log.schemas import LogFilters, LogPage
from app.models import DisclosureEntry
from app.pagination import encode_cursor
from app.search import pages

LOG = "/v1/disclosure-log"
PROBLEM = "application/problem+json"
WORDS = ["custody", "custody custody", "custody custody custody"]


@pytest.fixture
def sixty(session: Session) -> list[DisclosureEntry]:
    """60 entries whose sort keys tie in groups: 6 publication times, 4 receipt dates, and
    three texts, so relevance ties too."""
    start = datetime(2024, 1, 1, 9, tzinfo=UTC)
    return [
        publish(
            session,
            title=f"Custody records {i}",
            text=WORDS[i % 3] + (" escort" if i % 10 == 0 else ""),
            published_at=start + timedelta(days=i % 6),
            received_on=date(2023, 12, 1) + timedelta(days=i % 4),
        )
        for i in range(60)
    ]


def walk(client: TestClient, params: dict[str, Any]) -> list[int]:
    seen: list[int] = []
    response = client.get(LOG, params={**params, "limit": 7})
    pages = 0
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= 7
        seen += [item["id"] for item in body["items"]]
        pages += 1
        if body["next_cursor"] is None:
            assert "link" not in response.headers
            break
        link = response.headers["link"]
        assert link.endswith('>; rel="next"')
        assert body["next_cursor"] in link
        response = client.get(link[1 : link.index(">")])
    assert pages == 9
    return seen


def key(entry: DisclosureEntry, sort: str) -> tuple[Any, int]:
    field = sort.lstrip("-")
    return getattr(entry, field), entry.id or 0


@pytest.mark.parametrize("sort", ["-published_at", "published_at", "-received_on", "received_on"])
def test_every_sort_walks_each_entry_exactly_once_in_order(
    client: TestClient, sixty: list[DisclosureEntry], sort: str
) -> None:
    expected = sorted(sixty, key=lambda e: key(e, sort), reverse=sort.startswith("-"))
    assert walk(client, {"sort": sort}) == [e.id for e in expected]


@pytest.mark.parametrize("sort", ["relevance", "-published_at", "received_on"])
def test_search_pages_walk_each_hit_exactly_once(
    client: TestClient, sixty: list[DisclosureEntry], sort: str
) -> None:
    seen = walk(client, {"q": "custody", "sort": sort})
    assert len(seen) == len(sixty)
    assert set(seen) == {e.id for e in sixty}
    whole = client.get(LOG, params={"q": "custody", "sort": sort, "limit": 100}).json()
    assert seen == [item["id"] for item in whole["items"]]


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("q", ["custody", "escort"])
def test_newest_first_search_walks_each_hit_exactly_once(
    client: TestClient,
    sixty: list[DisclosureEntry],
    monkeypatch: pytest.MonkeyPatch,
    q: str,
    form: str,
) -> None:
    # Every form of the match (the matches looked up and sorted, listed and probed from the
    # date index, or each entry tested while walking it) pages the same.
    only_form(monkeypatch, form)
    expected = [
        e.id
        for e in sorted(sixty, key=lambda e: key(e, "-published_at"), reverse=True)
        if q in e.request.text
    ]
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"q": q, "sort": "-published_at", "limit": 7, "cursor": cursor}
        body = client.get(LOG, params={k: v for k, v in params.items() if v}).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


@pytest.mark.parametrize("window", [10, 1000])
def test_relevance_pages_list_each_entry_once_while_matches_are_published(
    client: TestClient,
    session: Session,
    sixty: list[DisclosureEntry],
    monkeypatch: pytest.MonkeyPatch,
    window: int,
) -> None:
    # A match published between pages is newer than the window the first page ranked: it
    # pushed a listed entry out of the window into the older matches (listed again) and, on
    # SQLite, moved every BM25 score (the walk repeated entries, or looped).
    monkeypatch.setattr(pages, "RANKED_WINDOW", window)
    before = {e.id or 0 for e in sixty}
    seen: list[int] = []
    cursor = None
    for n in range(100):
        params: dict[str, Any] = {"q": "custody", "sort": "relevance", "limit": 7}
        body = client.get(LOG, params={**params, **({"cursor": cursor} if cursor else {})}).json()
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        publish(session, title=f"Newer custody record {n}", text=WORDS[n % 3] * 3)
    assert sorted(seen) == sorted(before)


def test_relevance_puts_the_densest_texts_first(
    client: TestClient, sixty: list[DisclosureEntry]
) -> None:
    ranked = client.get(LOG, params={"q": "custody", "limit": 60}).json()["items"]
    density = [item["request"]["text"].count("custody") for item in ranked]
    assert density[:10] == [3] * 10
    assert density[-10:] == [1] * 10


def test_filters_ride_along_in_the_link(client: TestClient, sixty: list[DisclosureEntry]) -> None:
    response = client.get(LOG, params={"received_from": "2023-12-03"})
    body = response.json()
    assert len(body["items"]) == 20
    assert "received_from=2023-12-03" in response.headers["link"]
    rest = client.get(response.headers["link"][1 : response.headers["link"].index(">")]).json()
    assert all(item["received_on"] >= "2023-12-03" for item in rest["items"])
    assert len(body["items"]) + len(rest["items"]) == 30


def test_new_entries_do_not_shift_a_walk(
    client: TestClient, session: Session, sixty: list[DisclosureEntry]
) -> None:
    first = client.get(LOG, params={"limit": 7}).json()
    publish(session, title="Arrived meanwhile")
    second = client.get(LOG, params={"limit": 7, "cursor": first["next_cursor"]}).json()
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert len(set(ids)) == 14


def token(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("sort", "cursor"),
    [
        ("-published_at", encode_cursor("published_at", ["2024-01-01T09:00:00+00:00", 1])),
        ("-published_at", token('["-published_at","2024-01-01T09:00:00",1]')),
        ("-published_at", token('["-published_at","yesterday",1]')),
        ("-published_at", token('["-published_at",null,1]')),
        ("-published_at", token('["-published_at","2024-01-01T09:00:00+00:00","1"]')),
        ("-published_at", token('["-published_at","2024-01-01T09:00:00+00:00",1e30]')),
        (
            "-published_at",
            token('["-published_at","2024-01-01T09:00:00+00:00",99999999999999999999]'),
        ),
        ("-published_at", token('["-published_at","2024-01-01T09:00:00+00:00",true]')),
        ("-published_at", token('["-published_at","2024-01-01T09:00:00+00:00",2147483648]')),
        ("-published_at", token('["-published_at","0001-01-01T00:00:00+14:00",1]')),
        ("received_on", token('["received_on","2023-02-30",1]')),
        ("received_on", token('["received_on",20231201,1]')),
        ("-published_at", token('["-published_at","x",1,2]')),
        ("-published_at", token('{"a": 1}')),
        ("relevance", token('["relevance",1e999,1]')),
        ("relevance", token('["relevance","1",1]')),
        ("relevance", token('["relevance",null,1]')),
        ("relevance", token('["relevance",true,1]')),
        # Relevance: [matches of the window listed, or -1 past it; the last id; the top id].
        ("relevance", token('["relevance",0.5,1,60]')),
        ("relevance", token('["relevance",0,1,60]')),
        ("relevance", token('["relevance",1001,1,60]')),
        ("relevance", token('["relevance",-2,1,60]')),
        ("relevance", token('["relevance",3,1,2147483648]')),
        ("relevance", token('["relevance",3,1,null]')),
        ("-published_at", "%%%"),
        ("-published_at", "W10"),
        ("-published_at", "bm90IGpzb24"),
    ],
)
def test_foreign_or_tampered_cursors_are_400(
    client: TestClient, sixty: list[DisclosureEntry], sort: str, cursor: str
) -> None:
    response = client.get(LOG, params={"sort": sort, "cursor": cursor, "q": "custody"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


def _steps(session: Session, filters: LogFilters, **page: Any) -> tuple[int, LogPage]:
    """SQLite virtual machine steps a page of the log takes, and the page."""
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0

    driver = session.connection().connection.driver_connection
    assert driver is not None
    driver.set_progress_handler(step, 1)
    try:
        found = service.list_entries(session, filters, now=utcnow(), **page)
    finally:
        driver.set_progress_handler(None, 1)
    return steps, found


@pytest.mark.parametrize("filters", [LogFilters(), LogFilters(topics=("drones",))])
def test_a_deep_page_starts_at_its_cursor(session: Session, filters: LogFilters) -> None:
    """A page after a cursor seeks the cursor's place in the date index, rather than walking
    down to it from the newest entry (the public `published_at <= now` is a bound on the same
    key, and SQLite seeks on the first it meets). Counted in SQLite's steps; PostgreSQL takes
    the tighter of two bounds on an index column itself."""
    if not is_sqlite(get_engine()):
        return
    now = utcnow()
    for hours in range(1, 121):
        publish(session, topics=["drones"], published_at=now - timedelta(hours=hours))
    walked = service.list_entries(session, filters, now=now, limit=116)
    assert walked.next_cursor is not None
    first, _ = _steps(session, filters, limit=2)
    deep, page = _steps(session, filters, limit=2, cursor=walked.next_cursor)
    assert len(page.items) == 2
    # Walking down from the newest entry took 5 to 7.5 times the steps of the first page here,
    # and more the deeper the page.
    assert deep < 3 * first, (deep, first)
