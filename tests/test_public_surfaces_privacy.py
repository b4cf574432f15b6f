"""SPEC §6 on the mirroring surfaces: no requester data, nothing unpublished, scheduled or
withdrawn (a withdrawal's tombstone aside), whatever the filters."""

from datetime import date, timedelta

import factories
import orjson
import pytest
from fastapi.testclient import TestClient
from log_factories import Spec, publish
from sqlmodel import Session

from app.db import utcnow

SURFACES = [
    "/v1/disclosure-log.atom",
    "/v1/disclosure-log.ndjson",
    "/v1/disclosure-log.csv",
    "/v1/stats",
    "/v1/changes",
]
# What the requester told the force (tests/factories.py REQUESTER): it must never come out.
PRIVATE = [v.lower() for v in factories.REQUESTER.values()]
# Words only the scheduled and the withdrawn entries use, in their text, topic, force and month.
HIDDEN = ["zeppelin", "marmoset", "hidden-airships", "hidden-monkeys", "btp", "2019-02", "2019-03"]


@pytest.fixture
def log(client: TestClient, session: Session) -> int:
    """A visible entry answering a requester, a scheduled one and a withdrawn one; returns the
    id of the withdrawn one."""
    key = factories.make_key(session)
    visible = factories.create_request(client, key)
    factories.add_response(client, key, visible["id"])
    factories.publish(client, key, visible["id"])
    publish(
        session,
        Spec(
            force="btp",
            title="Zeppelin hangar inspections",
            text="zeppelin",
            topics=["hidden-airships"],
            received_on=date(2019, 2, 4),
            published_at=utcnow() + timedelta(days=3),
        ),
    )
    withdrawn = publish(
        session,
        Spec(
            force="btp",
            title="Marmoset smuggling",
            text="marmoset",
            topics=["hidden-monkeys"],
            received_on=date(2019, 3, 4),
        ),
    )
    response = client.post(
        f"/v1/disclosure-log/{withdrawn.id}/withdraw",
        json={"reason": "published in error"},
        headers=factories.auth(key),
    )
    assert response.status_code == 200, response.text
    assert withdrawn.id is not None
    return withdrawn.id


# Filters that select the hidden entries too, were they visible (the feed echoes its query).
FILTERS: list[dict[str, str]] = [
    {},
    {"q": "hangar OR smuggling OR facial"},
    {"received_from": "2018-01-01"},
]


@pytest.mark.parametrize(
    ("path", "params"),
    # The change feed takes no filters (a 400 names them).
    [
        (path, params)
        for path in SURFACES
        for params in FILTERS
        if path != "/v1/changes" or not params
    ],
)
def test_no_surface_carries_the_requester_or_hidden_entries(
    client: TestClient, log: int, path: str, params: dict[str, str]
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    body = response.text.lower()
    assert "facial" in body or path == "/v1/changes" or path == "/v1/stats"
    for private in PRIVATE:
        assert private not in body
    for hidden in HIDDEN:
        if path == "/v1/changes" and hidden == "btp":
            continue  # a tombstone names the force, so a mirror can find what to withdraw
        assert hidden not in body, (path, hidden)


def test_stats_count_only_the_visible_entry(client: TestClient, log: int) -> None:
    body = client.get("/v1/stats").json()
    assert body["total"] == 1
    assert body["by_force"] == {"hertfordshire": 1}
    assert client.get("/v1/stats", params={"force": "btp"}).json()["total"] == 0
    assert client.get("/v1/disclosure-log.ndjson", params={"force": "btp"}).content == b""


def test_the_change_feed_shows_the_withdrawal_only_as_a_tombstone(
    client: TestClient, log: int
) -> None:
    items = orjson.loads(client.get("/v1/changes").content)["items"]
    withdrawn = [item for item in items if item["id"] == log]
    assert withdrawn
    assert all(item["entry"]["status"] == "withdrawn" for item in withdrawn)
    assert all("title" not in item["entry"] for item in withdrawn)
    assert len({item["id"] for item in items}) == 2
