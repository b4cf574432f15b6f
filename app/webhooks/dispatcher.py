"""Delivering the change feed to the subscriptions, and test messages.

A pass reads the subscriptions that are due and a batch of changes, lets the connection go,
sends, and records each attempt in a short transaction of its own: no connection is held while
a receiver takes its time. Only the elected runner of app/worker.py calls `dispatch`."""

import random
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from standardwebhooks.webhooks import Webhook as Signer

from app.changes import service as changes
from app.config import get_settings
from app.db import new_session, utcnow
from app.entries.schemas import dump
from app.entries.service import timestamp, tombstone
from app.webhooks import sender, service
from app.webhooks.schemas import DeliveryPublic
from app.webhooks.service import Attempt, State, Subscription

Clock = Callable[[], datetime]

BATCH = 100
# Subscriptions served at once, so one slow receiver does not hold up the others.
PARALLEL = 8
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class Change:
    seq: int
    event: str
    entry_id: int
    force: str
    topics: frozenset[str]
    body: bytes


def _change(row: changes.ChangeRow) -> Change:
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
    # Filters read the entry document, which a withdrawn entry keeps (its tombstone has no topics).
    document = orjson.loads(row.document)
    return Change(
        seq=row.seq,
        event=event,
        entry_id=row.id,
        force=row.force_id,
        topics=frozenset(document.get("topics") or []),
        body=body,
    )


def wanted(sub: Subscription, change: Change) -> bool:
    return (
        change.event in sub.events
        and (not sub.forces or change.force in sub.forces)
        and (not sub.topics or bool(sub.topics & change.topics))
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


def _serve(sub: Subscription, batch: list[Change], clock: Clock) -> None:
    """Send this subscription the changes after its cursor in order, stopping at the first
    failure."""
    position = recorded = sub.cursor
    failures, failing_since = sub.failures, sub.failing_since
    for change in batch:
        if not wanted(sub, change):
            position = change.seq
            continue
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
            return
        position = recorded = change.seq
        failures, failing_since = 0, None
    if position > recorded:
        with new_session(write=True) as session:
            service.skip(session, sub.id, position)


def dispatch(clock: Clock = utcnow) -> bool:
    """One pass; True when there may be more to send at once (a full batch was read).

    Each subscription is read its changes from its own cursor, so one that is far behind (a slow
    receiver catching up) does not hold back one that is up to date."""
    with new_session() as session:
        subs = service.due(session, clock())
        rows = {
            cursor: changes.since(session, cursor, BATCH) for cursor in {s.cursor for s in subs}
        }
    built: dict[int, Change] = {}
    batches = {
        cursor: [built.get(row.seq) or built.setdefault(row.seq, _change(row)) for row in batch]
        for cursor, batch in rows.items()
    }
    busy = [sub for sub in subs if batches[sub.cursor]]
    if busy:
        with ThreadPoolExecutor(max_workers=min(PARALLEL, len(busy))) as pool:
            list(pool.map(lambda sub: _serve(sub, batches[sub.cursor], clock), busy))
    return any(len(batch) == BATCH for batch in rows.values())


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
