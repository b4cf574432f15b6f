"""Webhooks over time: secrets encrypted at rest, a disabled subscription enabled again, the
deliveries log pruned, and the README's receiver run against a real delivery."""

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import factories
import pytest
from cryptography.fernet import Fernet
from factories import auth
from fastapi.testclient import TestClient
from log_factories import publish
from pydantic import ValidationError
from receiver import Reply, receiving
from sqlmodel import Session
from webhook_helpers import Clock, Configure, deliveries, drain, subscribe, webhook

from app import worker
from app.config import Settings, get_settings
from app.db import new_session, utcnow
from app.models import Role, Webhook
from app.webhooks import dispatcher, sender, service

README = Path(__file__).resolve().parent.parent / "README.md"


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _stored_secret(webhook_id: int) -> str:
    with new_session() as session:
        hook = session.get(Webhook, webhook_id)
        assert hook is not None
        return hook.secret


def _without_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOILOG_SECRET_KEY", raising=False)
    get_settings.cache_clear()


def test_with_a_key_the_secret_is_stored_encrypted_and_still_signs(
    client: TestClient, session: Session, configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = Fernet.generate_key().decode()
    configure(secret_key=key)
    clock = Clock()
    admin = factories.make_key(session)
    with receiving() as receiver:
        hook = subscribe(client, admin, receiver.url())
        stored = _stored_secret(hook["id"])
        assert stored.startswith("fernet:")
        assert hook["secret"] not in stored
        assert hook["secret"].removeprefix("whsec_") not in stored
        assert Fernet(key).decrypt(stored.removeprefix("fernet:")).decode() == hook["secret"]

        first = publish(session, title="Signed under the stored secret")
        drain(clock)
        (message,) = receiver.wait_for(1)
        assert message.verified(hook["secret"])["data"]["id"] == first.id

        # The key gone (a dump restored elsewhere): nothing can be signed, nothing is sent,
        # and the attempt says why; the key back, delivery resumes at that change.
        _without_key(monkeypatch)
        second = publish(session, title="Sent once the key is back")
        drain(clock)
        assert len(receiver.received) == 1
        failed = deliveries(client, admin, hook["id"])[0]
        assert failed["delivered"] is False
        assert "FOILOG_SECRET_KEY is not set" in failed["error"]
        configure(secret_key=Fernet.generate_key().decode())
        clock.to(_at(failed["next_retry_at"]))
        drain(clock)
        assert len(receiver.received) == 1
        assert (
            "no key of FOILOG_SECRET_KEY opens" in deliveries(client, admin, hook["id"])[0]["error"]
        )
        configure(secret_key=key)
        clock.to(_at(webhook(client, admin, hook["id"])["next_attempt_at"]))
        drain(clock)
        _, again = receiver.wait_for(2)
    assert again.verified(hook["secret"])["data"]["id"] == second.id


def test_secrets_stored_before_the_key_are_encrypted_and_a_new_key_takes_over(
    client: TestClient, session: Session, configure: Configure
) -> None:
    admin = factories.make_key(session)
    with receiving() as receiver:
        hook = subscribe(client, admin, receiver.url())
        assert _stored_secret(hook["id"]) == hook["secret"]

        old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
        configure(secret_key=old)
        worker.Every(timedelta(hours=1), dispatcher.housekeeping)()
        sealed = _stored_secret(hook["id"])
        assert sealed.startswith("fernet:")
        assert Fernet(old).decrypt(sealed.removeprefix("fernet:")).decode() == hook["secret"]

        configure(secret_key=f"{new},{old}")
        dispatcher.housekeeping()
        resealed = _stored_secret(hook["id"])
        assert Fernet(new).decrypt(resealed.removeprefix("fernet:")).decode() == hook["secret"]
        dispatcher.housekeeping()
        assert _stored_secret(hook["id"]) == resealed  # already under the first key

        configure(secret_key=new)
        entry = publish(session, title="Signed after the key changed")
        drain()
        (message,) = receiver.wait_for(1)
    assert message.verified(hook["secret"])["data"]["id"] == entry.id


@pytest.mark.parametrize("value", ["not-a-key", f"{Fernet.generate_key().decode()},short"])
def test_a_secret_key_that_is_not_a_fernet_key_stops_foilog_at_start(value: str) -> None:
    with pytest.raises(ValidationError, match="is not a Fernet key"):
        Settings(secret_key=value)


def _until_disabled(client: TestClient, admin: str, webhook_id: int, clock: Clock) -> None:
    for _ in range(10):
        drain(clock)
        state = webhook(client, admin, webhook_id)
        if state["status"] == "disabled":
            return
        clock.to(_at(state["next_attempt_at"]))
    raise AssertionError("the subscription was not disabled")


def test_a_disabled_subscription_enabled_again_resumes_at_the_change_that_failed(
    client: TestClient, session: Session, configure: Configure
) -> None:
    configure(webhook_retry_hours=0.01)  # 36 s of failures disable it
    clock = Clock()
    admin = factories.make_key(session)
    editor = factories.make_key(session, Role.EDITOR, ["hertfordshire"])
    down = True
    with receiving(lambda n: Reply(500) if down else Reply()) as receiver:
        hook = subscribe(client, admin, receiver.url())
        missed = [publish(session, title=f"While failing {n}") for n in range(2)]
        _until_disabled(client, admin, hook["id"], clock)
        later = publish(session, title="While disabled")
        drain(clock)
        failed_attempts = len(receiver.received)
        assert {m.json()["data"]["id"] for m in receiver.received} == {missed[0].id}

        url = f"/v1/webhooks/{hook['id']}/enable"
        assert client.post(url, headers=auth(editor)).status_code == 403
        assert client.post("/v1/webhooks/999/enable", headers=auth(admin)).status_code == 404
        bad = client.post(url, json={"skip_to_now": "later"}, headers=auth(admin))
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        down = False
        enabled = client.post(url, headers=auth(admin))
        assert enabled.status_code == 200, enabled.text
        assert enabled.json()["status"] == "active"
        assert enabled.json()["disabled_reason"] is None
        again = client.post(url, headers=auth(admin))
        assert again.status_code == 409
        assert "only a disabled one" in again.json()["detail"]
        drain(clock)
        got = receiver.wait_for(failed_attempts + 3)[failed_attempts:]

    assert [m.verified(hook["secret"])["data"]["id"] for m in got] == [
        missed[0].id,
        missed[1].id,
        later.id,
    ]
    audit = client.get("/v1/audit", params={"entity_type": "webhook"}, headers=auth(admin))
    enabling = audit.json()["items"][0]
    assert enabling["action"] == "webhook.enable"
    assert enabling["before"]["status"] == "disabled"
    assert enabling["after"]["status"] == "active"


def test_enabling_with_skip_to_now_sends_nothing_of_what_happened_meanwhile(
    client: TestClient, session: Session, configure: Configure
) -> None:
    configure(webhook_retry_hours=0.01)
    clock = Clock()
    admin = factories.make_key(session)
    down = True
    with receiving(lambda n: Reply(500) if down else Reply()) as receiver:
        hook = subscribe(client, admin, receiver.url())
        publish(session, title="Skipped")
        _until_disabled(client, admin, hook["id"], clock)
        publish(session, title="Skipped too")
        down = False
        enabled = client.post(
            f"/v1/webhooks/{hook['id']}/enable", json={"skip_to_now": True}, headers=auth(admin)
        )
        assert enabled.status_code == 200, enabled.text
        drain(clock)
        before = len(receiver.received)
        after = publish(session, title="After enabling")
        drain(clock)
        got = receiver.wait_for(before + 1)
    assert len(got) == before + 1
    assert got[-1].verified(hook["secret"])["data"]["id"] == after.id


def test_attempts_older_than_the_retention_are_pruned_by_the_runner(
    client: TestClient, session: Session, configure: Configure
) -> None:
    configure(webhook_delivery_retention_days=30)
    clock = Clock()
    admin = factories.make_key(session)
    with receiving() as receiver:
        hook = subscribe(client, admin, receiver.url())
        clock.now = utcnow() - timedelta(days=31)
        publish(session, title="Long ago")
        drain(clock)
        clock.now = utcnow() - timedelta(days=29)
        publish(session, title="Within the retention")
        drain(clock)
        receiver.wait_for(2)
    assert len(deliveries(client, admin, hook["id"])) == 2

    housekeeping = [job for job in worker.jobs() if "prune" in job.name]
    assert len(housekeeping) == 1
    assert housekeeping[0].run() is False
    (kept,) = deliveries(client, admin, hook["id"])
    assert _at(kept["attempted_at"]) > utcnow() - timedelta(days=30)


def test_many_old_attempts_are_pruned_a_batch_at_a_time(
    session: Session, configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "PRUNE_BATCH", 3)
    hook = Webhook(url="https://93.184.215.14/hook", events=["entry.published"], secret="x")
    session.add(hook)
    session.commit()
    assert hook.id is not None
    now = utcnow()
    for n in range(7):
        attempt = service.Attempt(
            hook.id, f"msg_{n}", "webhook.test", None, None, now - timedelta(days=40 - n),
            sender.Outcome(204, None),
        )  # fmt: skip
        with new_session(write=True) as writing:
            service.record(writing, attempt, None)
    with new_session(write=True) as writing:
        deleted = service.prune(writing, now - timedelta(days=30))
    assert deleted == 7
    with new_session() as reading:
        assert service.deliveries(reading, hook.id, limit=10, cursor=None).items == []


def test_the_runner_does_its_housekeeping_once_an_interval() -> None:
    calls: list[int] = []
    every = worker.Every(timedelta(hours=1), lambda: calls.append(1))
    assert every() is False
    every()
    assert calls == [1]
    every.last = (every.last or 0) - 3601
    every()
    assert calls == [1, 1]


def _readme_receiver(secret: str) -> Any:
    """The README's receiver, as printed there, with the subscription's secret put in."""
    block = README.read_text("utf-8").split("A receiver checks them", 1)[1]
    match = re.search(r"```python\n(.*?)```", block, re.DOTALL)
    assert match is not None
    code = match.group(1)
    assert '"whsec_…"' in code
    namespace: dict[str, Any] = {}
    exec(code.replace('"whsec_…"', repr(secret)), namespace)
    return namespace["receive"]


def test_the_readme_receiver_verifies_a_real_delivery(
    client: TestClient, session: Session, configure: Configure
) -> None:
    admin = factories.make_key(session)
    with receiving() as receiver:
        hook = subscribe(client, admin, receiver.url())
        entry = publish(session, title="Checked by the README's receiver")
        drain()
        (message,) = receiver.wait_for(1)
    receive = _readme_receiver(hook["secret"])
    payload = receive(message.body, message.headers)
    assert payload["type"] == "entry.published"
    assert payload["data"]["id"] == entry.id
    assert receive(message.body.replace(b"Checked", b"Forged!"), message.headers) is None
    other = subscribe(client, admin, "http://127.0.0.1:9/elsewhere")
    assert _readme_receiver(other["secret"])(message.body, message.headers) is None
