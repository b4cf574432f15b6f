"""Relevance pages: every match ranked when they fit the window, else the most recently added
ones ranked and the rest listed after them."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from log_factories import publish
from sqlmodel import Session

from app.models import DisclosureEntry
from app.search import pages

LOG = "/v1/disclosure-log"
TEXTS = ["custody", "custody custody", "custody custody custody"]


@pytest.fixture
def thirty(session: Session) -> list[DisclosureEntry]:
    """30 entries with three densities of `custody` (so scores tie), every third also about
    escorts, published in an order of their own."""
    start = datetime(2024, 1, 1, 9, tzinfo=UTC)
    entries = []
    for i in range(30):
        text = TEXTS[i % 3] + (" escort" if i % 3 == 1 else "")
        when = start + timedelta(days=(i * 7) % 30)
        entries.append(publish(session, title=f"Custody {i}", text=text, published_at=when))
    return entries


def densest_first(items: list[dict[str, Any]]) -> bool:
    """The texts saying `custody` three times come first (between one and two, PostgreSQL's
    length normalisation may prefer the shorter text without `escort`)."""
    densest = [item["request"]["text"].count("custody") == 3 for item in items]
    return densest == sorted(densest, reverse=True)


def walk(client: TestClient, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    """Every page of a listing through its cursors; each page's `ranking` the same."""
    items: list[dict[str, Any]] = []
    notes = set()
    cursor = None
    while True:
        page = {**params, "limit": limit, **({"cursor": cursor} if cursor else {})}
        response = client.get(LOG, params=page)
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        notes.add(body.get("ranking"))
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(notes) == 1
    return items


def test_relevance_ranks_every_match_when_they_fit_the_window(
    client: TestClient, thirty: list[DisclosureEntry]
) -> None:
    items = walk(client, {"q": "custody"}, limit=4)
    assert "ranking" not in client.get(LOG, params={"q": "custody"}).json()
    assert sorted(item["id"] for item in items) == sorted(e.id or 0 for e in thirty)
    assert densest_first(items)
    assert items[0]["request"]["text"].count("custody") == 3


@pytest.mark.parametrize(
    ("q", "limit"), [("custody", 4), ("custody", 7), ("escort", 3), ("custody -escort", 50)]
)
def test_relevance_beyond_the_window_lists_the_rest_most_recently_added_first(
    client: TestClient,
    thirty: list[DisclosureEntry],
    monkeypatch: pytest.MonkeyPatch,
    q: str,
    limit: int,
) -> None:
    monkeypatch.setattr(pages, "RANKED_WINDOW", 7)
    word = q.split()[0]
    matching = [
        e.id or 0
        for e in sorted(thirty, key=lambda e: e.id or 0, reverse=True)
        if word in e.request.text and not ("-escort" in q and "escort" in e.request.text)
    ]
    items = walk(client, {"q": q}, limit)
    window, rest = items[:7], items[7:]
    assert {i["id"] for i in window} == set(matching[:7])
    if "-" not in q:  # ts_rank weighs an excluded word its own way
        assert densest_first(window)
    assert [i["id"] for i in rest] == matching[7:]
    note = client.get(LOG, params={"q": q, "limit": limit}).json()["ranking"]
    assert "7 most recently added matches" in note


def test_relevance_window_keeps_to_the_filters(
    session: Session,
    client: TestClient,
    thirty: list[DisclosureEntry],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pages, "RANKED_WINDOW", 2)
    # The most recently added, and the best match, but not published yet: never listed.
    publish(
        session, title="Custody", text="custody " * 9, published_at=datetime(2999, 1, 1, tzinfo=UTC)
    )
    params = {"q": "custody", "published_from": "2024-01-15"}
    expected = [e.id or 0 for e in thirty if e.published_at >= datetime(2024, 1, 15, tzinfo=UTC)]
    assert sorted(i["id"] for i in walk(client, params, limit=3)) == sorted(expected)
