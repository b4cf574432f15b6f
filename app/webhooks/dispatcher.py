"""Delivering the change feed to the subscriptions, and test messages.

A pass reads the subscriptions that are due and a batch of changes, lets the connection go, and
hands each subscription with changes waiting to a thread of its own, which sends and records
each attempt in a short transaction of its own: no connection is held while a receiver takes
its time. Only the elected runner of app/worker.py runs a `Dispatcher`."""

import logging
import math
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlmodel import Session
from standardwebhooks.webhooks import Webhook as Signer

from app.changes import service as changes
from app.config import get_settings
from app.db import new_session, utcnow
from app.entries.schemas import dump
from app.entries.service import timestamp, tombstone
from app.models import ChangeKind
from app.webhooks import sender, service
from app.webhooks.schemas import DeliveryPublic
from app.webhooks.service import Attempt, State, Subscription

Clock = Callable[[], datetime]
log = logging.getLogger("foilog.webhooks")

BATCH = 100
# Subscriptions served at once, so one slow receiver does not hold up the others.
PARALLEL = 8
MAX_BACKOFF = timedelta(hours=1)
WITHDRAWN = service.event_of(ChangeKind.WITHDRAWN)


@dataclass(frozen=True)
class Change:
    seq: int
    event: str
    entry_id: int
    force: str
    # The entry's topics now, and for an update those it had just before: an update that
    # takes the entry off a subscription's topics goes to it too.
    topics: frozenset[str]
    topics_before: frozenset[str]
    body: bytes


def _changes(session: Session, rows: list[changes.ChangeRow]) -> dict[int, Change]:
    """The messages for these changes, by number."""
    updates = {row.seq for row in rows if row.kind == ChangeKind.UPDATED}
    before = changes.topics_before(session, updates)
    return {row.seq: _change(row, before.get(row.seq, frozenset())) for row in rows}


def _change(row: changes.ChangeRow, topics_before: frozenset[str]) -> Change:
    """The message for one change: its body is the same for every subscription."""
    event = service.event_of(row.kind)
    entry: Any = orjson.Fragment(row.document) if row.withdrawn_at is None else dump(tombstone(row))
    item = {
        "change": row.kind,
        "at": timestamp(row.at),
        "id": row.id,
        "seq": row.seq,
        "entry": entry,
    }
    body = orjson.dumps({"type": event, "timestamp": timestamp(row.at), "data": item})
    # Filters read the entry document, which a withdrawn entry keeps (its tombstone has no
    # topics): a change made before the withdrawal is sent as a tombstone where it was wanted.
    document = orjson.loads(row.document)
    return Change(
        seq=row.seq,
        event=event,
        entry_id=row.id,
        force=row.force_id,
        topics=frozenset(document.get("topics") or []),
        topics_before=topics_before,
        body=body,
    )


def wanted(sub: Subscription, change: Change) -> bool:
    """A change goes to a subscription filtered by topic when the entry has one of its topics,
    and an update also when the entry had one just before it: the update that takes an entry
    off the subscriber's topics is how a mirror of them learns to drop it (its document shows
    the topics the entry has now). A withdrawal goes to every subscription of its force that
    asks for withdrawals, whatever its topics: the entry may have been sent while it had
    topics it has since lost, and a tombstone carries no content to leak."""
    topics = change.topics | change.topics_before
    return (
        change.event in sub.events
        and (not sub.forces or change.force in sub.forces)
        and (not sub.topics or change.event == WITHDRAWN or bool(sub.topics & topics))
    )


def message_id(webhook_id: int, seq: int) -> str:
    """The same for every attempt at one change, so a receiver can drop repeats."""
    return f"msg_{webhook_id}_{seq}"


def headers(secret: str, msg_id: str, at: datetime, body: bytes) -> dict[str, str]:
    signature = Signer(secret).sign(msg_id, at, body.decode())
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def backoff(failures: int) -> timedelta:
    """Exponential from FOILOG_WEBHOOK_RETRY_SECONDS, up to an hour, with jitter (half to all
    of it) so receivers that come back are not met by every retry at the same instant."""
    first = get_settings().webhook_retry_seconds
    delay = min(timedelta(seconds=first * 2 ** min(failures - 1, 20)), MAX_BACKOFF)
    return delay * random.uniform(0.5, 1.0)  # noqa: S311  (jitter, not a secret)


def _post(sub: Subscription, msg_id: str, at: datetime, body: bytes) -> sender.Outcome:
    settings = get_settings()
    try:
        secret = service.unseal(sub.secret)
    except service.SecretUnavailable as exc:
        # Retried like a receiver that is down: setting the key again resumes delivery.
        return sender.Outcome(None, str(exc))
    return sender.post(
        sub.url,
        body,
        headers(secret, msg_id, at, body),
        timeout=settings.webhook_timeout_seconds,
        allow_private=settings.webhook_allow_private,
    )


def _after_failure(
    position: int, failures: int, since: datetime, at: datetime, error: str
) -> State:
    window = timedelta(hours=get_settings().webhook_retry_hours)
    if at - since >= window:
        reason = (
            f"deliveries failed from {timestamp(since)} to {timestamp(at)} ({failures} attempts), "
            f"past the retry window of {window.total_seconds() / 3600:g} hours; the last: {error}"
        )
        return State(position, failures, since, None, disabled_reason=reason)
    return State(position, failures, since, at + backoff(failures))


def _send_batch(
    sub: Subscription, batch: list[Change], clock: Clock, halting: threading.Event
) -> int | None:
    """Send this subscription the changes after its cursor in order, stopping at the first
    failure, or before the next send once `halting` is set. The cursor reached when every change
    of the batch was sent or passed over; None when it stopped short."""
    position = recorded = sub.cursor
    failures, failing_since = sub.failures, sub.failing_since
    for change in batch:
        if not wanted(sub, change):
            position = change.seq
            continue
        if halting.is_set():
            return None
        msg_id = message_id(sub.id, change.seq)
        at = clock()
        outcome = _post(sub, msg_id, at, change.body)
        if outcome.delivered:
            state = State(change.seq)
        else:
            failures += 1
            failing_since = failing_since or at
            state = _after_failure(position, failures, failing_since, at, outcome.error or "")
        attempt = Attempt(
            sub.id, msg_id, change.event, change.seq, change.entry_id, at, outcome,
            next_retry_at=state.next_attempt_at,
        )  # fmt: skip
        with new_session(write=True) as session:
            alive = service.record(session, attempt, state) is not None
        if not alive or not outcome.delivered:
            return None
        position = recorded = change.seq
        failures, failing_since = 0, None
    if position > recorded:
        with new_session(write=True) as session:
            service.skip(session, sub.id, position)
    return position


class Dispatcher:
    """Serves each subscription that has changes waiting on a thread of its own, up to PARALLEL
    at once, so one slow receiver holds up no other, and a pass only hands out the free places
    and returns: the runner's other jobs (announcing scheduled entries) never wait for a
    receiver.

    One thread at a time serves a subscription, so it is sent its changes in order, and a pass
    does not read it again until its thread has recorded where it stopped: `serving` is looked
    at before the subscriptions are read, and a thread leaves it after its last write."""

    def __init__(self, clock: Clock = utcnow) -> None:
        self.clock = clock
        self.changed = threading.Condition()
        self.serving: set[int] = set()
        # When each subscription was last handed a place: with more waiting than places, those
        # that waited longest go first.
        self.served_at: dict[int, float] = {}
        # A subscription with changes found no free place at the last pass.
        self.crowded = False
        self.halting = threading.Event()

    def __call__(self) -> bool:
        """The runner's pass. Never more to do at once: the threads go on by themselves."""
        self.hand_out()
        return False

    def hand_out(self) -> int:
        """Read the due subscriptions that no thread serves and a batch of changes for each
        (one read a cursor, so one far behind does not hold back one up to date), and start
        serving those with changes, as many as there are free places; how many started."""
        with self.changed:
            busy = set(self.serving)
        with new_session() as session:
            subs = [sub for sub in service.due(session, self.clock()) if sub.id not in busy]
            rows = {
                cursor: changes.since(session, cursor, BATCH) for cursor in {s.cursor for s in subs}
            }
            # Built once for all the subscriptions reading them.
            built = _changes(session, list({r.seq: r for b in rows.values() for r in b}.values()))
        batches = {cursor: [built[row.seq] for row in batch] for cursor, batch in rows.items()}
        with self.changed:
            ready = sorted(
                (sub for sub in subs if batches[sub.cursor]),
                key=lambda sub: self.served_at.get(sub.id, -math.inf),
            )
            places = max(PARALLEL - len(self.serving), 0)
            self.crowded = len(ready) > places
            started = ready[:places]
            for sub in started:
                self.serving.add(sub.id)
                self.served_at[sub.id] = time.monotonic()
        for sub in started:
            threading.Thread(
                target=self._serve,
                args=(sub, batches[sub.cursor]),
                name=f"foilog-webhook-{sub.id}",
                daemon=True,
            ).start()
        return len(started)

    def _serve(self, sub: Subscription, batch: list[Change]) -> None:
        """Serve one subscription's batch; after a full one all sent, go on with the next
        unless another subscription is waiting for a place."""
        try:
            while (
                (cursor := _send_batch(sub, batch, self.clock, self.halting)) is not None
                and len(batch) == BATCH
                and not self.crowded
            ):
                sub = replace(sub, cursor=cursor, failures=0, failing_since=None)
                with new_session() as session:
                    batch = list(_changes(session, changes.since(session, cursor, BATCH)).values())
        except Exception:
            log.exception("delivering to webhook %d failed; the next pass tries again", sub.id)
        finally:
            with self.changed:
                self.serving.discard(sub.id)
                self.changed.notify_all()

    def settle(self) -> None:
        """Wait until no subscription is being served."""
        with self.changed:
            self.changed.wait_for(lambda: not self.serving)

    def halt(self) -> None:
        """Stop serving once the attempts in flight have ended (each within the webhook
        timeout) and been recorded: the runner halts before it gives up the lead, so two
        processes never send at once. A pass after it starts serving again."""
        self.halting.set()
        try:
            self.settle()
        finally:
            self.halting.clear()


def housekeeping(clock: Clock = utcnow) -> None:
    """Seal the secrets stored in the clear (FOILOG_SECRET_KEY set since), and drop the
    delivery attempts older than FOILOG_WEBHOOK_DELIVERY_RETENTION_DAYS."""
    retention = timedelta(days=get_settings().webhook_delivery_retention_days)
    with new_session(write=True) as session:
        service.seal_stored(session)
    with new_session(write=True) as session:
        service.prune(session, clock() - retention)


def send_test(webhook_id: int, clock: Clock = utcnow) -> DeliveryPublic:
    """Send a `webhook.test` message now and log the attempt; the feed's order is not touched."""
    with new_session() as session:
        sub = service.subscription(service.get(session, webhook_id))
    at = clock()
    msg_id = f"msg_{sub.id}_test_{secrets.token_hex(8)}"
    data = {"webhook_id": sub.id, "message": "a test delivery from foilog"}
    body = orjson.dumps({"type": service.TEST_EVENT, "timestamp": timestamp(at), "data": data})
    outcome = _post(sub, msg_id, at, body)
    attempt = Attempt(sub.id, msg_id, service.TEST_EVENT, None, None, at, outcome)
    with new_session(write=True) as session:
        logged = service.record(session, attempt, None)
        if logged is None:
            service.get(session, webhook_id)
    assert logged is not None
    return logged
