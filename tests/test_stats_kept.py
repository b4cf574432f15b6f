"""Each process keeps the stats it computed, by ETag: a kept answer must never outlive a write,
a withdrawal, or an entry coming into view at its publication time."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any, NamedTuple

import orjson
import pytest
from factories import add_response, auth, create_request, make_key, publish
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from app import caching
from app.db import new_session
from app.models import DisclosureEntry
from app.stats import router

STATS = "/v1/stats"
_references = (f"FOI2026/{n:05d}" for n in count(1))


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


class Published(NamedTuple):
    entry: dict[str, Any]
    response_id: int


def _publish(client: TestClient, key: str, **publishing: Any) -> Published:
    request = create_request(client, key, reference=next(_references))
    response = add_response(client, key, request["id"])
    return Published(publish(client, key, request["id"], **publishing), response["id"])


def _stats(client: TestClient) -> dict[str, Any]:
    response = client.get(STATS)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _withdraw(client: TestClient, key: str, published: Published) -> None:
    url = f"/v1/disclosure-log/{published.entry['id']}/withdraw"
    assert client.post(url, json={"reason": "in error"}, headers=auth(key)).status_code == 200


def _retopic(client: TestClient, key: str, published: Published) -> None:
    url = f"/v1/disclosure-log/{published.entry['id']}"
    response = client.patch(url, json={"topics": ["drones"]}, headers=auth(key))
    assert response.status_code == 200, response.text


def _refuse(client: TestClient, key: str, published: Published) -> None:
    url = f"/v1/responses/{published.response_id}"
    response = client.patch(url, json={"outcome": "refused"}, headers=auth(key))
    assert response.status_code == 200, response.text


def _another(client: TestClient, key: str, published: Published) -> None:
    _publish(client, key)


@pytest.mark.parametrize(
    ("write", "field"),
    [
        (_withdraw, "total"),
        (_retopic, "by_topic"),
        (_refuse, "by_outcome"),
        (_another, "total"),
    ],
)
def test_every_write_changes_the_kept_answer(
    client: TestClient,
    admin: str,
    write: Callable[[TestClient, str, Published], None],
    field: str,
) -> None:
    published = _publish(client, admin)
    before = _stats(client)
    assert _stats(client) == before
    write(client, admin, published)
    after = _stats(client)
    assert after[field] != before[field]


def test_a_scheduled_entry_falling_due_is_counted(client: TestClient, admin: str) -> None:
    _publish(client, admin)
    when = datetime.now(UTC) + timedelta(days=3)
    scheduled = _publish(client, admin, publish_at=when.isoformat())
    assert _stats(client)["total"] == 1
    with new_session(write=True) as session:
        session.execute(
            update(DisclosureEntry)
            .where(DisclosureEntry.id == scheduled.entry["id"])
            .values(published_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        session.commit()
    assert _stats(client)["total"] == 2


def test_an_entry_an_import_moved_into_the_future_is_counted_when_it_comes(
    client: TestClient, admin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _publish(client, admin)
    moved = _publish(client, admin).entry
    later = datetime.now(UTC) + timedelta(days=3)
    assert _stats(client)["total"] == 2
    line = orjson.dumps({**moved, "published_at": later.isoformat()})
    response = client.post("/v1/import", content=line, headers=auth(admin))
    assert response.status_code == 200, response.text
    assert _stats(client)["total"] == 1
    # No write marks the moment it comes into view: only the clock moves.
    for clock_reader in (router, caching):  # the route, and the kept answers before it
        monkeypatch.setattr(clock_reader, "utcnow", lambda: later + timedelta(seconds=1))
    assert _stats(client)["total"] == 2
