import hashlib

import pytest
from factories import auth, make_key
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.db import new_session
from app.errors import Conflict, NotFound, RuleViolation, Unauthorized
from app.keys import service as keys
from app.keys.schemas import Actor
from app.models import ApiKey, AuditEvent, Role


def test_a_key_is_random_shown_once_and_stored_as_a_hash(session: Session) -> None:
    key, secret = keys.create(session, name="herts-foi", role="editor", forces=["hertfordshire"])
    other, other_secret = keys.create(
        session, name="met-foi", role=Role.EDITOR, forces=["metropolitan"]
    )
    assert secret.startswith("foilog_")
    assert len(secret) > 40
    assert secret != other_secret
    stored = session.exec(select(ApiKey).where(ApiKey.id == key.id)).one()
    assert stored.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in stored.model_dump_json()
    assert stored.key_prefix == secret[:12]
    assert Actor.of(keys.authenticate(session, secret)) == Actor(
        key_id=key.id, name="herts-foi", role=Role.EDITOR, forces=frozenset({"hertfordshire"})
    )
    assert [k.name for k in keys.list_keys(session)] == ["herts-foi", "met-foi"]
    assert other.forces == ["metropolitan"]


@pytest.mark.parametrize(
    ("role", "forces", "rule"),
    [
        ("editor", [], "key-forces"),
        ("editor", ["atlantis"], "key-forces"),
        ("admin", ["kent"], "key-forces"),
        ("owner", [], "key-role"),
    ],
)
def test_key_rules(session: Session, role: str, forces: list[str], rule: str) -> None:
    with pytest.raises(RuleViolation) as caught:
        keys.create(session, name="k", role=role, forces=forces)
    assert caught.value.rule == rule


def test_key_names_are_unique(session: Session) -> None:
    keys.create(session, name="ops", role="admin")
    with pytest.raises(Conflict):
        keys.create(session, name="ops", role="admin")


def test_revoked_keys_stop_working(client: TestClient, session: Session) -> None:
    first = make_key(session)
    second = make_key(session)
    assert client.get("/v1/requests", headers=auth(first)).status_code == 200
    revoked = keys.revoke(session, "admin-0")
    assert revoked.revoked_at is not None
    assert keys.revoke(session, "admin-0").revoked_at == revoked.revoked_at
    by_id = keys.revoke(session, str(keys.list_keys(session)[1].id))
    assert by_id.name == "admin-1"
    for secret in (first, second):
        response = client.get("/v1/requests", headers=auth(secret))
        assert response.status_code == 401
        assert response.json()["detail"] == "the key has been revoked"
    with pytest.raises(Unauthorized):
        keys.authenticate(session, first)
    with pytest.raises(NotFound):
        keys.revoke(session, "nobody")


def test_key_changes_are_audited_without_the_secret(session: Session) -> None:
    key, secret = keys.create(session, name="ops", role="admin", actor=Actor.system("cli"))
    keys.revoke(session, "ops")
    events = list(session.exec(select(AuditEvent).order_by(AuditEvent.id)))  # type: ignore[arg-type]
    assert [(e.action, e.entity_id, e.key_name) for e in events] == [
        ("key.create", str(key.id), "cli"),
        ("key.revoke", str(key.id), "cli"),
    ]
    before, after = events[1].before or {}, events[1].after or {}
    assert before["revoked_at"] is None
    assert after["revoked_at"] is not None
    for event in events:
        assert secret not in str(event.after)
        assert key.key_hash not in str(event.after)


def test_use_is_recorded_at_most_hourly(client: TestClient, session: Session) -> None:
    secret = make_key(session)

    def last_used() -> object:
        with new_session() as reader:
            return reader.exec(select(ApiKey.last_used_at)).one()

    assert last_used() is None
    client.get("/v1/requests", headers=auth(secret))
    first = last_used()
    assert first is not None
    client.get("/v1/requests", headers=auth(secret))
    assert last_used() == first
