"""Webhooks end to end in this process: a real HTTP receiver on a local port, the dispatcher's
passes run by the test with the clock it injects (the background runner is tested in
test_worker.py)."""

import base64
import itertools
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import factories
import pytest
from factories import auth
from fastapi.testclient import TestClient
from log_factories import Spec, publish
from receiver import Gate, Received, Receiver, Reply, receiving, trickling
from sqlmodel import Session
from webhook_helpers import (
    EVENTS,
    Clock,
    Configure,
    deliveries,
    drain,
    subscribe,
    webhook,
)

from app.keys.schemas import Actor
from app.models import Role
from app.publishing import service as publishing
from app.publishing.schemas import EntryUpdate
from app.webhooks import dispatcher

ADMIN = Actor.system("test")
# A public address given as such: the tests need no DNS, and nothing is sent to it.
PUBLIC_URL = "https://93.184.215.14/hook"


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_changes_arrive_in_order_signed_and_as_the_feed_serves_them(
    client: TestClient, session: Session, configure: Configure
) -> None:
    key = factories.make_key(session)
    # Texts of their own: one text sent to two forces would be a round-robin, whose linking
    # updates the other entries too.
    publish(session, title="Before the subscription", text="How many staff left in 2025?")
    with receiving() as receiver:
        hook = subscribe(client, key, receiver.url(), description="the CMS")
        first = publish(session, title="Fleet", force="hertfordshire", text="Fleet size?")
        second = publish(session, title="Drones", text="How many drones?")
        third = publish(session, title="Horses", text="How many horses?")
        publishing.update(
            session, second.id or 0, EntryUpdate(title="Drones, revised"), actor=ADMIN
        )
        publishing.withdraw(session, first.id or 0, reason="published in error", actor=ADMIN)
        drain()
        got = receiver.wait_for(5)
        time.sleep(0.2)
        assert len(receiver.received) == 5

    payloads = [message.verified(hook["secret"]) for message in got]
    assert [(p["type"], p["data"]["id"]) for p in payloads] == [
        ("entry.published", first.id),
        ("entry.published", second.id),
        ("entry.published", third.id),
        ("entry.updated", second.id),
        ("entry.withdrawn", first.id),
    ]
    feed = client.get("/v1/changes", params={"limit": 100}).json()["items"]
    assert [p["data"] for p in payloads] == feed[1:]
    assert payloads[3]["data"]["entry"]["title"] == "Drones, revised"
    assert payloads[4]["data"]["entry"]["reason"] == "published in error"
    assert [m.id for m in got] == [f"msg_{hook['id']}_{p['data']['seq']}" for p in payloads]
    assert all(p["timestamp"] == p["data"]["at"] for p in payloads)
    assert all(m.headers["content-type"] == "application/json" for m in got)

    log = deliveries(client, key, hook["id"])
    assert [d["change"]["seq"] for d in log] == [p["data"]["seq"] for p in reversed(payloads)]
    assert all(d["delivered"] and d["status_code"] == 204 for d in log)
    assert all(d["error"] is None and d["next_retry_at"] is None for d in log)
    assert log[0]["change"] == {"type": "entry.withdrawn", "seq": feed[-1]["seq"], "id": first.id}


def test_a_signature_under_another_secret_or_of_another_body_fails(
    client: TestClient, session: Session, configure: Configure
) -> None:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    key = factories.make_key(session)
    with receiving() as receiver:
        hook = subscribe(client, key, receiver.url())
        other = subscribe(client, key, receiver.url("/other"))
        publish(session)
        drain()
        mine, theirs = sorted(receiver.wait_for(2), key=lambda m: m.path)
    assert mine.path == "/hook"
    mine.verified(hook["secret"])
    assert mine.id != theirs.id
    with pytest.raises(WebhookVerificationError):
        mine.verified(other["secret"])
    with pytest.raises(WebhookVerificationError):
        Webhook(hook["secret"]).verify(mine.body.replace(b"published", b"withdrawn"), mine.headers)


def test_retries_after_500s_keep_the_id_and_back_off_exponentially(
    client: TestClient, session: Session, configure: Configure
) -> None:
    clock = Clock()
    key = factories.make_key(session)
    replies = [Reply(500), Reply(503), Reply(204)]
    with receiving(lambda n: replies[n] if n < len(replies) else Reply()) as receiver:
        hook = subscribe(client, key, receiver.url())
        one = publish(session, title="One")
        two = publish(session, title="Two")
        drain(clock)
        assert len(receiver.received) == 1
        drain(clock)  # not due yet: no attempt before the retry time
        assert len(receiver.received) == 1
        state = webhook(client, key, hook["id"])
        wait = _at(state["next_attempt_at"]) - clock.now
        assert timedelta(seconds=15) <= wait <= timedelta(seconds=30)
        clock.to(_at(state["next_attempt_at"]))
        drain(clock)
        assert len(receiver.received) == 2
        state = webhook(client, key, hook["id"])
        wait = _at(state["next_attempt_at"]) - clock.now
        assert timedelta(seconds=30) <= wait <= timedelta(seconds=60)
        assert _at(state["failing_since"]) < clock.now
        clock.to(_at(state["next_attempt_at"]))
        drain(clock)
        got = receiver.wait_for(4)

    assert [m.json()["data"]["id"] for m in got] == [one.id, one.id, one.id, two.id]
    assert got[0].id == got[1].id == got[2].id != got[3].id
    assert len({m.headers["webhook-signature"] for m in got[:3]}) == 3  # each attempt's time
    for message in got:
        message.verified(hook["secret"])
    log = deliveries(client, key, hook["id"])
    assert [(d["status_code"], d["delivered"]) for d in log] == [
        (204, True),
        (204, True),
        (503, False),
        (500, False),
    ]
    assert log[3]["error"] == "HTTP 500"
    assert log[3]["next_retry_at"] is not None
    state = webhook(client, key, hook["id"])
    assert state["failing_since"] is None
    assert state["next_attempt_at"] is None


def test_a_receiver_that_was_down_gets_every_change_once_back(
    client: TestClient, session: Session, configure: Configure
) -> None:
    clock = Clock()
    key = factories.make_key(session)
    with receiving() as receiver:
        hook = subscribe(client, key, receiver.url())
        receiver.stop()
        entries = [publish(session, title=f"Entry {n}") for n in range(3)]
        drain(clock)
        log = deliveries(client, key, hook["id"])
        assert len(log) == 1
        assert log[0]["status_code"] is None
        assert "ConnectError" in log[0]["error"]
        receiver.start()
        clock.to(_at(log[0]["next_retry_at"]))
        drain(clock)
        got = receiver.wait_for(3)
    assert [m.verified(hook["secret"])["data"]["id"] for m in got] == [e.id for e in entries]


def test_filters_by_force_topic_and_event(
    client: TestClient, session: Session, configure: Configure
) -> None:
    key = factories.make_key(session)
    publish(session, topics=["biometrics"], title="Makes the topic exist")
    with receiving() as receiver:
        herts = subscribe(client, key, receiver.url("/herts"), forces=["hertfordshire"])
        bio = subscribe(client, key, receiver.url("/bio"), topics=["Biometrics"])
        gone = subscribe(client, key, receiver.url("/gone"), events=["entry.withdrawn"])
        plain = publish(session, title="Fleet")
        herts_bio = publish(session, force="hertfordshire", topics=["biometrics"], title="Faces")
        met_bio = publish(session, topics=["biometrics", "drones"], title="Drones")
        publishing.withdraw(session, met_bio.id or 0, reason="error", actor=ADMIN)
        drain()
        receiver.wait_for(5)
        time.sleep(0.2)
        got = list(receiver.received)

    def seen(path: str) -> list[tuple[str, int]]:
        return [(m.json()["type"], m.json()["data"]["id"]) for m in got if m.path == path]

    assert seen("/herts") == [("entry.published", herts_bio.id)]
    assert seen("/bio") == [
        ("entry.published", herts_bio.id),
        ("entry.published", met_bio.id),
        ("entry.withdrawn", met_bio.id),
    ]
    assert seen("/gone") == [("entry.withdrawn", met_bio.id)]
    assert bio["topics"] == ["biometrics"]
    assert plain.id not in {m.json()["data"]["id"] for m in got}
    # Skipped changes move the cursor too: nothing is reconsidered on the next pass.
    cursors = [webhook(client, key, h["id"]) for h in (herts, bio, gone)]
    assert all(c["status"] == "active" for c in cursors)
    drain()
    assert len(got) == 5


def test_a_withdrawal_reaches_a_topic_subscriber_after_the_topic_was_changed(
    client: TestClient, session: Session, configure: Configure
) -> None:
    """The update that took the entry off the topic reaches the subscriber, and so does the
    withdrawal after it (as tombstones, the entry withdrawn by the time they are sent): a
    tombstone carries no content, so every subscription of the force asking for withdrawals
    gets it."""
    key = factories.make_key(session)
    publish(session, topics=["biometrics"], title="Makes the topic exist")
    with receiving() as receiver:
        subscribe(client, key, receiver.url("/bio"), topics=["biometrics"])
        subscribe(client, key, receiver.url("/herts"), forces=["hertfordshire"])
        entry = publish(session, topics=["biometrics"], title="Faces")
        drain()
        receiver.wait_for(1)
        publishing.update(session, entry.id or 0, EntryUpdate(topics=["drones"]), actor=ADMIN)
        publishing.withdraw(session, entry.id or 0, reason="published in error", actor=ADMIN)
        drain()
        receiver.wait_for(2)
        time.sleep(0.2)
        got = list(receiver.received)
    assert [(m.path, m.json()["type"], m.json()["data"]["id"]) for m in got] == [
        ("/bio", "entry.published", entry.id),
        ("/bio", "entry.updated", entry.id),
        ("/bio", "entry.withdrawn", entry.id),
    ]


def _seen(got: list[Received], path: str) -> list[tuple[str, int, list[str], str]]:
    """What one receiver was sent: event, entry, and the entry's topics and title as sent."""
    return [
        (p["type"], p["data"]["id"], p["data"]["entry"]["topics"], p["data"]["entry"]["title"])
        for p in (m.json() for m in got if m.path == path)
    ]


def test_an_update_that_takes_an_entry_off_a_topic_reaches_its_subscribers(
    client: TestClient, session: Session, configure: Configure
) -> None:
    """A mirror of one topic is sent the update that takes an entry off it, whose document
    shows the topics the entry has now, so it can drop the entry; nothing after that. The
    subscribers of the topic it moved onto get the update too, though not the publication."""
    key = factories.make_key(session)
    publish(session, topics=["biometrics", "drones", "horses"], title="Makes the topics exist")
    with receiving() as receiver:
        subscribe(client, key, receiver.url("/bio"), topics=["biometrics"])
        subscribe(client, key, receiver.url("/drones"), topics=["drones"])
        subscribe(client, key, receiver.url("/horses"), topics=["horses"])
        subscribe(client, key, receiver.url("/all"))
        entry = publish(session, topics=["biometrics"], title="Faces")
        drain()
        receiver.wait_for(2)
        entry_id = entry.id or 0
        publishing.update(session, entry_id, EntryUpdate(topics=["drones"]), actor=ADMIN)
        drain()
        receiver.wait_for(5)
        publishing.update(session, entry_id, EntryUpdate(title="Faces, revised"), actor=ADMIN)
        drain()
        receiver.wait_for(7)
        time.sleep(0.2)
        got = list(receiver.received)

    published = ("entry.published", entry_id, ["biometrics"], "Faces")
    moved = ("entry.updated", entry_id, ["drones"], "Faces")
    revised = ("entry.updated", entry_id, ["drones"], "Faces, revised")
    assert _seen(got, "/bio") == [published, moved]
    assert _seen(got, "/drones") == [moved, revised]
    assert _seen(got, "/horses") == []
    assert _seen(got, "/all") == [published, moved, revised]


def test_a_subscriber_behind_the_feed_is_sent_the_update_that_took_the_entry_off(
    client: TestClient, session: Session, configure: Configure
) -> None:
    """The dispatcher reads the topics each change recorded, not only the entry's document as
    it is when the subscriber's turn comes: a receiver that was down while the entry moved from
    topic to topic still learns it left its own. Every message carries the document as it is
    now; a subscriber may so be sent an update of an entry that is not on its topics."""
    clock = Clock()
    key = factories.make_key(session)
    publish(session, topics=["biometrics", "drones", "horses"], title="Makes the topics exist")
    with receiving() as receiver:
        hooks = [
            subscribe(client, key, receiver.url("/bio"), topics=["biometrics"]),
            subscribe(client, key, receiver.url("/horses"), topics=["horses"]),
        ]
        entry = publish(session, topics=["biometrics"], title="Faces")
        drain(clock)
        receiver.wait_for(1)
        receiver.stop()
        entry_id = entry.id or 0
        for topic in ("drones", "horses", "drones"):
            publishing.update(session, entry_id, EntryUpdate(topics=[topic]), actor=ADMIN)
        publishing.update(session, entry_id, EntryUpdate(title="Faces, revised"), actor=ADMIN)
        drain(clock)
        receiver.start()
        for hook in hooks:
            clock.to(_at(webhook(client, key, hook["id"])["next_attempt_at"]))
        drain(clock)
        receiver.wait_for(3)
        time.sleep(0.2)
        got = list(receiver.received)

    now = ("entry.updated", entry_id, ["drones"], "Faces, revised")
    assert _seen(got, "/bio") == [("entry.published", entry_id, ["biometrics"], "Faces"), now]
    # On and off again while it was down: the update that took it off, the document as it is.
    assert _seen(got, "/horses") == [now]


def test_private_targets_are_refused_when_not_allowed(
    client: TestClient, session: Session, configure: Configure
) -> None:
    key = factories.make_key(session)
    with receiving() as receiver:
        hook = subscribe(client, key, receiver.url())
        configure(webhook_allow_private="false")
        for url, why in [
            (receiver.url(), "loopback address 127.0.0.1"),
            ("http://localhost:9/x", "loopback"),
            ("http://10.1.2.3/x", "private address 10.1.2.3"),
            ("https://169.254.169.254/latest", "link-local"),
            ("http://[::1]:8080/", "loopback address ::1"),
            ("http://[::ffff:192.168.0.1]/", "private"),
            ("http://224.0.0.1/", "multicast"),
            ("http://0.0.0.0/", "unspecified"),
            ("http://240.0.0.1/", "reserved"),
        ]:
            response = client.post(
                "/v1/webhooks", json={"url": url, "events": EVENTS}, headers=auth(key)
            )
            assert response.status_code == 422, (url, response.text)
            assert why in response.json()["detail"], (url, response.json()["detail"])
            assert response.json()["errors"][0]["loc"] == ["url"]
        # Checked again when sending: a subscription made while allowed sends nothing now.
        publish(session)
        drain()
        time.sleep(0.2)
        assert receiver.received == []
    log = deliveries(client, key, hook["id"])
    assert "loopback address 127.0.0.1" in log[0]["error"]
    assert log[0]["status_code"] is None


@pytest.mark.parametrize(
    ("body", "field", "named"),
    [
        ({"events": ["entry.published", "entry.deleted"]}, "events", "'entry.deleted'"),
        ({"forces": ["atlantis"]}, "forces", "'atlantis'"),
        ({"topics": ["no-such-topic"]}, "topics", "'no-such-topic'"),
        ({"url": "ftp://example.org/hook"}, "url", "not an http or https URL"),
        ({"url": "https://user:pw@example.org/hook"}, "url", "user name or password"),
        ({"url": "not a url"}, "url", "not an http or https URL"),
        ({"url": "http://no-such-host.invalid/"}, "url", "cannot be resolved"),
        # urlsplit would drop these, and the deliveries go to a URL other than the one shown.
        ({"url": "https://93.184.215.14/in\r\nX-Injected: 1"}, "url", "control character"),
        ({"url": "https://93.184.215.14/in\t/end"}, "url", "control character '\\t'"),
    ],
)
def test_bad_subscriptions_are_422_naming_the_value(
    client: TestClient, session: Session, body: dict[str, Any], field: str, named: str
) -> None:
    key = factories.make_key(session)
    response = client.post(
        "/v1/webhooks",
        json={"url": PUBLIC_URL, "events": EVENTS, **body},
        headers=auth(key),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert named in response.json()["detail"]
    assert response.json()["errors"][0]["loc"] == [field]


def test_redirects_are_not_followed(
    client: TestClient, session: Session, configure: Configure
) -> None:
    key = factories.make_key(session)
    moved = Reply(302, headers=(("Location", "/elsewhere"),))
    with receiving(lambda n: moved) as receiver:
        hook = subscribe(client, key, receiver.url())
        publish(session)
        drain()
        time.sleep(0.2)
        assert [m.path for m in receiver.received] == ["/hook"]
    (attempt,) = deliveries(client, key, hook["id"])
    assert attempt["status_code"] == 302
    assert not attempt["delivered"]
    assert "redirect to '/elsewhere' not followed" in attempt["error"]


def test_a_slow_receiver_times_out(
    client: TestClient, session: Session, configure: Configure
) -> None:
    configure(webhook_timeout_seconds="0.3")
    key = factories.make_key(session)
    with receiving(lambda n: Reply(delay=3.0)) as receiver:
        hook = subscribe(client, key, receiver.url())
        publish(session)
        started = time.monotonic()
        drain()
        took = time.monotonic() - started
        receiver.wait_for(1)
    assert took < 2.5  # the receiver answers after 3 s
    (attempt,) = deliveries(client, key, hook["id"])
    assert attempt["error"] == "timed out after 0.3 s"
    assert attempt["status_code"] is None


def test_the_subscription_is_disabled_after_the_retry_window(
    client: TestClient, session: Session, configure: Configure
) -> None:
    clock = Clock()
    started = clock.now
    key = factories.make_key(session)
    with receiving(lambda n: Reply(500)) as receiver:
        hook = subscribe(client, key, receiver.url())
        publish(session)
        waits: list[float] = []
        while True:
            drain(clock)
            state = webhook(client, key, hook["id"])
            if state["status"] == "disabled":
                break
            waits.append((_at(state["next_attempt_at"]) - clock.now).total_seconds())
            clock.to(_at(state["next_attempt_at"]))
        attempts = len(receiver.received)
        clock.advance(days=2)
        drain(clock)
        assert len(receiver.received) == attempts

    print(f"{attempts} attempts over {sum(waits) / 3600:.1f} h; first waits (s):", waits[:8])
    assert clock.now - started >= timedelta(hours=24 + 48)
    assert len({m.id for m in receiver.received}) == 1
    assert 15 <= waits[0] <= 30
    assert all(later >= earlier / 2 for earlier, later in itertools.pairwise(waits))
    assert max(waits) <= 3600
    assert sum(waits) >= 24 * 3600
    assert "past the retry window of 24 hours" in state["disabled_reason"]
    assert "HTTP 500" in state["disabled_reason"]
    assert state["disabled_at"] is not None
    log = deliveries(client, key, hook["id"])
    assert len(log) == attempts
    assert log[0]["next_retry_at"] is None
    assert all(d["next_retry_at"] is not None for d in log[1:])


def test_the_test_endpoint_sends_a_signed_message_and_logs_it(
    client: TestClient, session: Session, configure: Configure
) -> None:
    key = factories.make_key(session)
    with receiving() as receiver:
        hook = subscribe(client, key, receiver.url())
        response = client.post(f"/v1/webhooks/{hook['id']}/test", headers=auth(key))
        assert response.status_code == 200, response.text
        (message,) = receiver.wait_for(1)
    sent = message.verified(hook["secret"])
    assert sent["type"] == "webhook.test"
    assert sent["data"]["webhook_id"] == hook["id"]
    attempt = response.json()
    assert attempt["delivered"] is True
    assert attempt["message_id"] == message.id
    assert attempt["change"] == {"type": "webhook.test", "seq": None, "id": None}
    assert deliveries(client, key, hook["id"]) == [attempt]
    missing = client.post("/v1/webhooks/999/test", headers=auth(key))
    assert missing.status_code == 404


def test_subscriptions_are_admin_only_and_the_secret_is_shown_once(
    client: TestClient, session: Session
) -> None:
    admin = factories.make_key(session)
    editor = factories.make_key(session, Role.EDITOR, ["hertfordshire"])
    assert client.get("/v1/webhooks").status_code == 401
    refused = client.post(
        "/v1/webhooks",
        json={"url": PUBLIC_URL, "events": EVENTS},
        headers=auth(editor),
    )
    assert refused.status_code == 403

    created = subscribe(client, admin, PUBLIC_URL, description="aggregator")
    secret = created["secret"]
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert created["status"] == "active"
    assert created["events"] == sorted(EVENTS)
    shown = client.get(f"/v1/webhooks/{created['id']}", headers=auth(admin))
    listed = client.get("/v1/webhooks", headers=auth(admin))
    audit = client.get("/v1/audit", params={"entity_type": "webhook"}, headers=auth(admin))
    for response in (shown, listed, audit):
        assert response.status_code == 200
        assert secret not in response.text
        assert "secret" not in response.text
    assert listed.json()["items"] == [shown.json()]
    assert audit.json()["items"][0]["action"] == "webhook.create"

    deleted = client.delete(f"/v1/webhooks/{created['id']}", headers=auth(admin))
    assert deleted.status_code == 204
    assert client.get(f"/v1/webhooks/{created['id']}", headers=auth(admin)).status_code == 404
    gone = client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=auth(admin))
    assert gone.status_code == 404
    assert client.delete(f"/v1/webhooks/{created['id']}", headers=auth(admin)).status_code == 404


def test_lists_page_with_cursors(
    client: TestClient, session: Session, configure: Configure
) -> None:
    key = factories.make_key(session)
    with receiving() as receiver:
        hooks = [subscribe(client, key, receiver.url(f"/{n}")) for n in range(3)]
        for _ in range(5):
            client.post(f"/v1/webhooks/{hooks[0]['id']}/test", headers=auth(key))
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2, "count": "true"}
        if cursor:
            params["cursor"] = cursor
        page = client.get(
            f"/v1/webhooks/{hooks[0]['id']}/deliveries", params=params, headers=auth(key)
        )
        assert page.status_code == 200
        body = page.json()
        assert body["total"] == 5
        seen += [d["message_id"] for d in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
        assert cursor in page.headers["link"]
    assert len(set(seen)) == 5
    log = deliveries(client, key, hooks[0]["id"])
    assert seen == [d["message_id"] for d in log]
    assert [d["attempted_at"] for d in log] == sorted(
        (d["attempted_at"] for d in log), reverse=True
    )

    first = client.get("/v1/webhooks", params={"limit": 2}, headers=auth(key)).json()
    rest = client.get(
        "/v1/webhooks", params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth(key)
    ).json()
    assert [h["id"] for h in first["items"] + rest["items"]] == [h["id"] for h in hooks]
    assert rest["next_cursor"] is None
    bad = client.get("/v1/webhooks", params={"cursor": "nonsense"}, headers=auth(key))
    assert bad.status_code == 400
    foreign = client.get(
        "/v1/webhooks", params={"cursor": first["next_cursor"][::-1]}, headers=auth(key)
    )
    assert foreign.status_code == 400


def test_a_deleted_subscription_stops_receiving(
    client: TestClient, session: Session, configure: Configure
) -> None:
    key = factories.make_key(session)
    with receiving() as receiver:
        hook = subscribe(client, key, receiver.url())
        assert client.delete(f"/v1/webhooks/{hook['id']}", headers=auth(key)).status_code == 204
        publish(session)
        assert dispatcher.Dispatcher().hand_out() == 0
        time.sleep(0.2)
        assert receiver.received == []


def test_a_new_subscription_starts_at_the_end_of_the_feed(
    client: TestClient, session: Session, configure: Configure
) -> None:
    key = factories.make_key(session)
    for n in range(3):
        publish(session, Spec(title=f"Old {n}"))
    with receiving() as receiver:
        subscribe(client, key, receiver.url())
        drain()
        time.sleep(0.2)
        assert receiver.received == []


def test_a_subscription_far_behind_does_not_hold_back_one_up_to_date(
    client: TestClient, session: Session, configure: Configure, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher, "BATCH", 2)
    key = factories.make_key(session)
    with receiving() as receiver:
        behind = subscribe(client, key, receiver.url("/behind"))
        backlog = [publish(session, title=f"Backlog {n}") for n in range(4)]
        current = subscribe(client, key, receiver.url("/current"))
        latest = publish(session, title="Latest")
        drain()
        got = receiver.wait_for(6)
    assert [m.json()["data"]["id"] for m in got if m.path == "/current"] == [latest.id]
    # A full batch sent, its thread goes on with the next: all five in order, each once.
    assert [m.json()["data"]["id"] for m in got if m.path == "/behind"] == [
        e.id for e in [*backlog, latest]
    ]
    assert webhook(client, key, behind["id"])["status"] == "active"
    assert webhook(client, key, current["id"])["status"] == "active"


def _arrived(receiver: Receiver) -> list[int]:
    with receiver.lock:
        return [m.json()["data"]["id"] for m in receiver.received]


def _until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_a_slow_receiver_does_not_hold_up_the_others(
    client: TestClient, session: Session, configure: Configure
) -> None:
    """A pass hands each subscription to a thread of its own and returns: while one receiver
    holds its first delivery, another gets every change."""
    key = factories.make_key(session)
    gate = Gate()
    with receiving(gate) as slow, receiving() as fast:
        subscribe(client, key, slow.url())
        subscribe(client, key, fast.url())
        backlog = [publish(session, title=f"Backlog {n}").id for n in range(3)]
        dispatching = dispatcher.Dispatcher()
        assert dispatching.hand_out() == 2  # returns while the slow one holds its first
        _until(lambda: _arrived(fast) == backlog)
        assert _arrived(fast) == backlog
        latest = publish(session, title="Latest").id
        # The fast one's thread may still be recording its batch: once it has, the fast one is
        # handed out again, and the slow one, still being served, is not.
        handed: list[int] = []

        def handed_out() -> bool:
            handed.append(dispatching.hand_out())
            return handed[-1] > 0

        _until(handed_out)
        assert handed[-1] == 1
        _until(lambda: _arrived(fast) == [*backlog, latest])
        assert _arrived(fast) == [*backlog, latest]
        assert _arrived(slow) == backlog[:1]
        gate.opened.set()
        dispatching.settle()
        assert dispatching.hand_out() == 1
        dispatching.settle()
        assert _arrived(slow) == [*backlog, latest]
    assert len({m.id for m in slow.received}) == 4


def test_a_halted_dispatcher_stops_after_the_attempt_in_flight(
    client: TestClient, session: Session, configure: Configure
) -> None:
    key = factories.make_key(session)
    gate = Gate()
    with receiving(gate) as receiver:
        hook = subscribe(client, key, receiver.url())
        entries = [publish(session, title=f"Entry {n}").id for n in range(3)]
        dispatching = dispatcher.Dispatcher()
        dispatching.hand_out()
        receiver.wait_for(1)
        halting = threading.Thread(target=dispatching.halt)
        halting.start()
        _until(dispatching.halting.is_set)
        gate.opened.set()
        halting.join(timeout=10)
        assert not halting.is_alive()
        assert _arrived(receiver) == entries[:1]
        # Recorded before the halt returned: a process elected next resumes at the second.
        assert [d["change"]["id"] for d in deliveries(client, key, hook["id"])] == entries[:1]
        drain()
    assert _arrived(receiver) == entries


def test_the_test_endpoint_answers_within_the_timeout_whatever_the_receiver_does(
    client: TestClient, session: Session, configure: Configure
) -> None:
    configure(webhook_timeout_seconds="0.5")
    key = factories.make_key(session)
    with trickling(b"HTTP/1.1 200 OK\r\n") as port:
        hook = subscribe(client, key, f"http://127.0.0.1:{port}/hook")
        started = time.monotonic()
        response = client.post(f"/v1/webhooks/{hook['id']}/test", headers=auth(key))
        took = time.monotonic() - started
    assert took < 1.5
    assert response.status_code == 200, response.text
    assert response.json()["delivered"] is False
    assert response.json()["error"] == "timed out after 0.5 s"
