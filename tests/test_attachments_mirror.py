"""scripts/mirror.py copies attachments: downloaded from the source, uploaded to the target's
matching response, skipped when the target holds the same SHA-256, removed when the source
removed them."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attachment_files as files
import factories
import httpx
import pytest
from fastapi.testclient import TestClient
from instances import Instance, serve
from sqlmodel import Session
from test_mirror import mirror


@pytest.fixture
def target(tmp_path: Path) -> Iterator[tuple[Instance, httpx.Client]]:
    with serve(tmp_path) as instance, instance.client() as client:
        yield instance, client


def attach(client: TestClient, key: str, response_id: int, name: str, data: bytes) -> Any:
    response = client.post(
        f"/v1/responses/{response_id}/attachments",
        files={"file": (name, data, "application/octet-stream")},
        headers=factories.auth(key),
    )
    assert response.status_code == 201, response.text
    return response.json()


def listed(client: TestClient | httpx.Client) -> list[tuple[Any, ...]]:
    """The attachments the log lists, without the ids and URLs that differ between copies."""
    [entry] = client.get("/v1/disclosure-log").json()["items"]
    return [
        (a["response"], a["filename"], a["media_type"], a["bytes"], a["sha256"])
        for a in entry["attachments"]
    ]


def test_the_mirror_copies_attachments_and_follows_their_removal(
    client: TestClient, session: Session, target: tuple[Instance, httpx.Client]
) -> None:
    instance, copy = target
    key = factories.make_key(session)
    request = factories.create_request(client, key)
    initial = factories.add_response(client, key, request["id"])
    pdf = attach(client, key, initial["id"], "annex-a.pdf", files.pdf("Fleet annex"))
    attach(client, key, initial["id"], "photo.png", files.png())
    entry = factories.publish(client, key, request["id"])

    cursor = mirror.sync(client, copy, instance.key, None)
    assert listed(copy) == listed(client)
    [copied] = copy.get("/v1/disclosure-log").json()["items"]
    served = copy.get(f"/v1/attachments/{copied['attachments'][0]['id']}")
    assert served.content == files.pdf("Fleet annex")
    assert copy.get("/v1/disclosure-log", params={"q": "fleet"}).json()["items"]

    # The source drops the PDF and adds a review with a spreadsheet: the target follows.
    dropped = client.delete(f"/v1/attachments/{pdf['id']}", headers=factories.auth(key))
    assert dropped.status_code == 204
    review = factories.hertfordshire_response_body(
        kind="internal_review", responded_on="2018-07-20", outcome="partially_disclosed"
    )
    reviewed = factories.add_response(client, key, request["id"], **review)
    attach(client, key, reviewed["id"], "fleet.xlsx", files.xlsx())
    cursor = mirror.sync(client, copy, instance.key, cursor)
    assert listed(copy) == listed(client)
    assert [attachment[0] for attachment in listed(copy)] == [0, 1]

    # An update that leaves the attachments alone copies none again: the target keeps its
    # attachments across the import, and they match by SHA-256.
    retitled = client.patch(
        f"/v1/disclosure-log/{entry['id']}",
        json={"title": "Facial recognition, retitled"},
        headers=factories.auth(key),
    )
    assert retitled.status_code == 200
    items = client.get("/v1/changes", params={"since": cursor}).json()["items"]
    applied = mirror.apply(copy, instance.key, items, client)
    assert (applied.upserted, applied.attachments_copied, applied.attachments_removed) == (1, 0, 0)
    assert listed(copy) == listed(client)
    assert copy.get("/v1/disclosure-log").json()["items"][0]["title"] == (
        "Facial recognition, retitled"
    )
