"""Tags the log and exports answer 304 by before computing anything: a 304 must never hide a
change, whether a write, a withdrawal, or a scheduled entry falling due with no write at all."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import pytest
from factories import add_response, auth, create_request, make_key, publish
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session

from app.changes import service as changes
from app.db import new_session
from app.models import ChangeKind, DisclosureEntry

LOG = "/v1/disclosure-log"
_references = (f"FOI2026/{n:05d}" for n in count(1))


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


def _publish(client: TestClient, key: str, **changes: Any) -> dict[str, Any]:
    request = create_request(client, key, reference=next(_references), **changes)
    add_response(client, key, request["id"])
    return publish(client, key, request["id"])


def _schedule(client: TestClient, key: str) -> dict[str, Any]:
    request = create_request(client, key, reference=next(_references), title="Scheduled")
    add_response(client, key, request["id"])
    when = datetime.now(UTC) + timedelta(days=3)
    return publish(client, key, request["id"], publish_at=when.isoformat())


def _publish_at(entry: dict[str, Any], when: datetime) -> None:
    with new_session(write=True) as session:
        session.execute(
            update(DisclosureEntry)
            .where(DisclosureEntry.id == entry["id"])
            .values(published_at=when)
        )
        session.commit()


def _time_passes(entry: dict[str, Any]) -> None:
    """The entry's publication time passes: no write reaches the API or the change feed. As
    when time really passes, that time lies after the moment of every answer given before."""
    _publish_at(entry, datetime.now(UTC))


def _changed(client: TestClient, path: str, before: Any) -> Any:
    """Revalidate `before`: the answer must be a full one, different from it."""
    again = client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert again.status_code == 200
    assert again.content != before.content
    assert again.headers["etag"] != before.headers["etag"]
    return again


def _ids(response: Any) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


def test_an_unchanged_log_answers_304_without_the_body(client: TestClient, admin: str) -> None:
    _publish(client, admin)
    first = client.get(LOG)
    again = client.get(LOG, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["cache-control"] == first.headers["cache-control"]
    assert client.get(LOG).content == first.content


def _withdraw(client: TestClient, key: str, entry: dict[str, Any]) -> None:
    url = f"{LOG}/{entry['id']}/withdraw"
    assert client.post(url, json={"reason": "in error"}, headers=auth(key)).status_code == 200


def _retitle(client: TestClient, key: str, entry: dict[str, Any]) -> None:
    url = f"{LOG}/{entry['id']}"
    assert client.patch(url, json={"title": "Renamed"}, headers=auth(key)).status_code == 200


def _another(client: TestClient, key: str, entry: dict[str, Any]) -> None:
    _publish(client, key, title="Another one")


@pytest.mark.parametrize("write", [_withdraw, _retitle, _another])
def test_every_write_changes_the_tag(
    client: TestClient, admin: str, write: Callable[[TestClient, str, dict[str, Any]], None]
) -> None:
    entry = _publish(client, admin)
    before = client.get(LOG)
    write(client, admin, entry)
    _changed(client, LOG, before)


def test_a_scheduled_entry_falling_due_changes_the_tag(client: TestClient, admin: str) -> None:
    _publish(client, admin)
    entry = _schedule(client, admin)
    before = client.get(LOG)
    assert entry["id"] not in _ids(before)
    again = client.get(LOG, headers={"If-None-Match": before.headers["etag"]})
    assert again.status_code == 304
    _time_passes(entry)
    assert entry["id"] in _ids(_changed(client, LOG, before))


def test_an_announced_entry_rescheduled_changes_the_tag_when_it_falls_due_again(
    client: TestClient, admin: str
) -> None:
    # An import may move a published entry's time into the future (a change); when that time
    # passes it comes back into view with no write, and it was announced long ago.
    entry = _publish(client, admin)
    _publish_at(entry, datetime.now(UTC) + timedelta(days=3))
    with new_session(write=True) as session:
        changes.record(session, [entry["id"]], ChangeKind.UPDATED)
        session.commit()
    before = client.get(LOG)
    assert _ids(before) == []
    _time_passes(entry)
    assert _ids(_changed(client, LOG, before)) == [entry["id"]]


def test_an_edit_after_falling_due_changes_the_tag(client: TestClient, admin: str) -> None:
    entry = _schedule(client, admin)
    _time_passes(entry)
    seen = client.get(LOG)
    assert _ids(seen) == [entry["id"]]
    _retitle(client, admin, entry)
    assert _changed(client, LOG, seen).json()["items"][0]["title"] == "Renamed"


def test_an_edit_before_anyone_looked_changes_the_tag(client: TestClient, admin: str) -> None:
    entry = _schedule(client, admin)
    before = client.get(LOG)
    _time_passes(entry)
    _retitle(client, admin, entry)  # due but not yet announced
    seen = _changed(client, LOG, before)
    assert seen.json()["items"][0]["title"] == "Renamed"
    _withdraw(client, admin, entry)
    assert _ids(_changed(client, LOG, seen)) == []


def test_withdrawn_before_anyone_saw_it_never_shows(client: TestClient, admin: str) -> None:
    entry = _schedule(client, admin)
    before = client.get(LOG)
    _time_passes(entry)
    _withdraw(client, admin, entry)
    again = client.get(LOG, headers={"If-None-Match": before.headers["etag"]})
    assert again.status_code in (200, 304)  # its time passing may move the tag; nothing else
    assert client.get(LOG).content == before.content


@pytest.mark.parametrize(
    "paths",
    [
        (f"{LOG}?force=metropolitan", f"{LOG}?force=hertfordshire"),
        (LOG, f"{LOG}?limit=1"),
        (LOG, f"{LOG}?count=true"),
        (f"{LOG}.ndjson", f"{LOG}.csv"),
        (f"{LOG}.ndjson", f"{LOG}.ndjson?force=metropolitan"),
    ],
)
def test_each_url_has_its_own_tag(client: TestClient, admin: str, paths: tuple[str, str]) -> None:
    _publish(client, admin)
    one, other = (client.get(path) for path in paths)
    assert one.headers["etag"] != other.headers["etag"]
    crossed = client.get(paths[1], headers={"If-None-Match": one.headers["etag"]})
    assert crossed.status_code == 200
    assert crossed.content == other.content


def test_an_export_tag_changes_when_an_entry_falls_due(client: TestClient, admin: str) -> None:
    _publish(client, admin)
    entry = _schedule(client, admin)
    before = client.get(f"{LOG}.ndjson")
    _time_passes(entry)
    after = _changed(client, f"{LOG}.ndjson", before)
    assert len(after.content.splitlines()) == 2


def test_unknown_filter_values_are_400_whatever_the_tag(client: TestClient, admin: str) -> None:
    _publish(client, admin)
    tag = client.get(LOG).headers["etag"]
    response = client.get(f"{LOG}?force=atlantis", headers={"If-None-Match": tag})
    assert response.status_code == 400
    assert "atlantis" in response.json()["detail"]
