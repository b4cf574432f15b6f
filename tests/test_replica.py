"""Public reads from a streaming replica (FOILOG_READ_DATABASE_URL): keyed calls read the
primary, and a lagging replica's answers carry the tag of what it shows, never a newer one.
Runs under `make test-replica`, which starts the replica."""

from conftest import ReplicaCatchUp
from fastapi.testclient import TestClient
from log_factories import publish
from sqlalchemy import text
from sqlmodel import Session

from app.db import get_read_engine

LOG = "/v1/disclosure-log"


def _replay(replica: ReplicaCatchUp, *, paused: bool) -> None:
    with replica.replica.connect() as connection:
        action = "pg_wal_replay_pause" if paused else "pg_wal_replay_resume"
        connection.execute(text(f"SELECT {action}()"))
    replica.paused = paused


def _ids(response: object) -> list[int]:
    return [item["id"] for item in response.json()["items"]]  # type: ignore[attr-defined]


def test_public_reads_go_to_the_replica(client: TestClient, replica: ReplicaCatchUp) -> None:
    with get_read_engine().connect() as connection:
        assert connection.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is True
    assert client.get(LOG).status_code == 200


def test_a_lagging_replica_tags_what_it_shows(
    client: TestClient, session: Session, replica: ReplicaCatchUp
) -> None:
    first = publish(session, title="Custody records")
    seen = client.get(LOG)
    assert _ids(seen) == [first.id]
    _replay(replica, paused=True)
    try:
        second = publish(session, title="Custody deaths")
        # The primary has it (a keyed read would see it); the replica does not yet.
        lagging = client.get(LOG)
        assert _ids(lagging) == [first.id]
        assert lagging.headers["etag"] == seen.headers["etag"]
        assert client.get(f"{LOG}/{second.id}").status_code == 404
    finally:
        _replay(replica, paused=False)
    caught_up = client.get(LOG, headers={"If-None-Match": lagging.headers["etag"]})
    assert caught_up.status_code == 200
    assert _ids(caught_up) == [second.id, first.id]
    assert client.get(f"{LOG}/{second.id}").status_code == 200


def test_pages_read_the_replica_and_tag_what_it_shows(
    client: TestClient, session: Session, replica: ReplicaCatchUp
) -> None:
    first = publish(session, title="Custody records")
    seen = client.get("/disclosure-log")
    assert "Custody records" in seen.text
    _replay(replica, paused=True)
    try:
        second = publish(session, title="Custody deaths")
        lagging = client.get("/disclosure-log", headers={"If-None-Match": seen.headers["etag"]})
        assert lagging.status_code == 304
        assert client.get(f"/disclosure-log/{second.id}").status_code == 404
        assert client.get(f"/disclosure-log/{first.id}").status_code == 200
    finally:
        _replay(replica, paused=False)
    caught_up = client.get("/disclosure-log", headers={"If-None-Match": seen.headers["etag"]})
    assert caught_up.status_code == 200
    assert "Custody deaths" in caught_up.text
    assert client.get(f"/disclosure-log/{second.id}").status_code == 200


def test_keyed_calls_read_the_primary(
    client: TestClient, session: Session, replica: ReplicaCatchUp
) -> None:
    from factories import auth, create_request, make_key

    key = make_key(session)
    _replay(replica, paused=True)
    try:
        created = create_request(client, key)
        answer = client.get(f"/v1/requests/{created['id']}", headers=auth(key))
        assert answer.status_code == 200
    finally:
        _replay(replica, paused=False)
