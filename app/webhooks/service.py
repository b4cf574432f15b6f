"""Webhook subscriptions, their deliveries log, and the dispatcher's reads and writes."""

import base64
import secrets
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import delete as sql_delete
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from app.audit import service as audit
from app.changes import service as changes
from app.config import get_settings
from app.errors import BadRequest, Conflict, NotFound, RuleViolation
from app.forces import service as forces_service
from app.keys.schemas import Actor
from app.models import MAX_ID, ChangeKind, Topic, Webhook, WebhookDelivery
from app.pagination import Page, decode_cursor, encode_cursor
from app.topics import service as topics_service
from app.webhooks import sender
from app.webhooks.schemas import (
    DeliveredChange,
    DeliveryPublic,
    WebhookCreate,
    WebhookEnable,
    WebhookPublic,
)


def event_of(change_kind: str) -> str:
    """`published` -> `entry.published`. A kind the feed gains later gets an event name no
    subscription has asked for, so it is passed over instead of stopping delivery."""
    return f"entry.{change_kind}"


EVENTS = tuple(event_of(kind) for kind in ChangeKind)
TEST_EVENT = "webhook.test"
SECRET_PREFIX = "whsec_"  # noqa: S105  (the Standard Webhooks form, not a secret)
SEALED_PREFIX = "fernet:"
PRUNE_BATCH = 5000


def _secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class SecretUnavailable(Exception):
    """A sealed secret that the configured keys cannot open: nothing can be signed with it."""


def _keys() -> list[Fernet]:
    """FOILOG_SECRET_KEY's keys: the first seals, all open (so a new key can go first while
    secrets sealed under the old one are still read)."""
    configured = get_settings().secret_key
    if configured is None:
        return []
    return [Fernet(key.strip()) for key in configured.get_secret_value().split(",")]


def seal(secret: str) -> str:
    """What is stored for `secret`: sealed under the first key, or as it is with no key."""
    keys = _keys()
    if not keys:
        return secret
    return SEALED_PREFIX + keys[0].encrypt(secret.encode()).decode("ascii")


def unseal(stored: str) -> str:
    if not stored.startswith(SEALED_PREFIX):
        return stored
    keys = _keys()
    if not keys:
        raise SecretUnavailable(
            "the signing secret is sealed and FOILOG_SECRET_KEY is not set; nothing was sent"
        )
    try:
        return MultiFernet(keys).decrypt(stored.removeprefix(SEALED_PREFIX).encode()).decode()
    except InvalidToken:
        raise SecretUnavailable(
            "no key of FOILOG_SECRET_KEY opens the sealed signing secret (was the key it was "
            "sealed with removed?); nothing was sent"
        ) from None


def seal_stored(session: Session) -> int:
    """Seal the secrets stored in the clear, and reseal those sealed under a key that is no
    longer the first; the number changed. Nothing without FOILOG_SECRET_KEY."""
    keys = _keys()
    if not keys:
        return 0
    changed = 0
    for hook in session.exec(select(Webhook).order_by(col(Webhook.id))):
        if hook.secret.startswith(SEALED_PREFIX):
            token = hook.secret.removeprefix(SEALED_PREFIX).encode()
            try:
                keys[0].decrypt(token)
                continue
            except InvalidToken:
                pass
            try:
                hook.secret = SEALED_PREFIX + MultiFernet(keys).rotate(token).decode("ascii")
            except InvalidToken:
                continue  # no key opens it: each attempt to deliver logs that
        else:
            hook.secret = seal(hook.secret)
        session.add(hook)
        changed += 1
    session.commit()
    return changed


def public(hook: Webhook) -> WebhookPublic:
    return WebhookPublic.model_validate(
        {**hook.model_dump(), "status": "disabled" if hook.disabled_at else "active"}
    )


def _known(given: list[str], known: set[str] | frozenset[str], what: str, hint: str) -> list[str]:
    unknown = [value for value in given if value not in known]
    if unknown:
        names = ", ".join(repr(value) for value in unknown[:10])
        raise RuleViolation(f"webhook-{what}", f"unknown {what}: {names}; {hint}", loc=(what,))
    return sorted(set(given))


def _topics(session: Session, given: list[str]) -> list[str]:
    slugs = {raw: topics_service.normalise(raw) for raw in given}
    found = set(session.scalars(select(Topic.slug).where(col(Topic.slug).in_(slugs.values()))))
    unknown = [raw for raw, slug in slugs.items() if slug not in found]
    _known(unknown, set(), "topics", "GET /v1/topics lists the topics in use")
    return sorted(set(slugs.values()))


def check_target(url: str, *, allow_private: bool) -> None:
    try:
        sender.resolve(sender.parse_url(url), allow_private=allow_private)
    except sender.RefusedTarget as exc:
        raise RuleViolation("webhook-url", exc.detail, loc=("url",)) from None


def create(
    session: Session, data: WebhookCreate, *, actor: Actor, allow_private: bool
) -> tuple[Webhook, str]:
    """Subscribe `url` to the changes from now on; the second value is the signing secret."""
    events = _known(data.events, set(EVENTS), "events", f"the events are {', '.join(EVENTS)}")
    force_ids = _known(
        data.forces or [], forces_service.known_ids(session), "forces", "GET /v1/forces lists them"
    )
    topics = _topics(session, data.topics or [])
    check_target(data.url, allow_private=allow_private)
    secret = _secret()
    hook = Webhook(
        url=data.url,
        events=events,
        forces=force_ids,
        topics=topics,
        description=data.description,
        secret=seal(secret),
        cursor=changes.latest(session),
    )
    session.add(hook)
    session.flush()
    audit.record(session, actor, "webhook.create", "webhook", hook.id, None, public(hook))
    session.commit()
    return hook, secret


def _after(cursor: str | None, kind: str) -> int | None:
    if cursor is None:
        return None
    (last_id,) = decode_cursor(cursor, kind, 1)
    if type(last_id) is not int or not 0 <= last_id <= MAX_ID:
        raise BadRequest(f"cursor {cursor[:40]!r} is not a cursor this list issued")
    return last_id


def list_webhooks(
    session: Session, *, limit: int, cursor: str | None, count: bool = False
) -> Page[WebhookPublic]:
    """Oldest first."""
    query = select(Webhook)
    total = session.exec(select(func.count()).select_from(Webhook)).one() if count else None
    after = _after(cursor, "webhooks")
    if after is not None:
        query = query.where(col(Webhook.id) > after)
    rows = list(session.exec(query.order_by(col(Webhook.id)).limit(limit + 1)))
    next_cursor = encode_cursor("webhooks", [rows[limit - 1].id]) if len(rows) > limit else None
    items = [public(row) for row in rows[:limit]]
    # `total` only when counted; the route leaves out what is not set, as every list does.
    return Page(items=items, next_cursor=next_cursor, **({"total": total} if count else {}))


def get(session: Session, webhook_id: int, *, lock: bool = False) -> Webhook:
    hook = session.get(Webhook, webhook_id, with_for_update=lock)
    if hook is None:
        raise NotFound(f"no webhook with id {webhook_id}; GET /v1/webhooks lists them")
    return hook


def delete(session: Session, webhook_id: int, *, actor: Actor) -> None:
    """Unsubscribe; the deliveries log goes with it."""
    hook = get(session, webhook_id)
    before = public(hook)
    session.execute(sql_delete(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == hook.id))
    session.delete(hook)
    audit.record(session, actor, "webhook.delete", "webhook", webhook_id, before, None)
    session.commit()


def enable(session: Session, webhook_id: int, data: WebhookEnable, *, actor: Actor) -> Webhook:
    """Resume a disabled subscription at the change that failed (nothing skipped), or, when
    asked, at the newest settled change (what happened meanwhile is not sent)."""
    hook = get(session, webhook_id, lock=True)
    if hook.disabled_at is None:
        raise Conflict(f"webhook {webhook_id} is active; only a disabled one can be enabled")
    before = public(hook)
    if data.skip_to_now:
        hook.cursor = max(hook.cursor, changes.latest(session))
    hook.disabled_at = hook.disabled_reason = None
    hook.failures, hook.failing_since, hook.next_attempt_at = 0, None, None
    session.add(hook)
    session.flush()
    audit.record(session, actor, "webhook.enable", "webhook", webhook_id, before, public(hook))
    session.commit()
    return hook


def prune(session: Session, before: datetime) -> int:
    """Delete the delivery attempts made before `before`, a batch per transaction so no write
    lock is held long; the number deleted."""
    deleted = 0
    while True:
        batch = (
            select(WebhookDelivery.id)
            .where(col(WebhookDelivery.attempted_at) < before)
            .order_by(col(WebhookDelivery.attempted_at), col(WebhookDelivery.id))
            .limit(PRUNE_BATCH)
        )
        ids = list(session.exec(batch))
        if ids:
            session.execute(sql_delete(WebhookDelivery).where(col(WebhookDelivery.id).in_(ids)))
        session.commit()
        deleted += len(ids)
        if len(ids) < PRUNE_BATCH:
            return deleted


def delivery(row: WebhookDelivery) -> DeliveryPublic:
    return DeliveryPublic(
        webhook_id=row.webhook_id,
        message_id=row.message_id,
        change=DeliveredChange(type=row.event, seq=row.seq, id=row.entry_id),
        attempted_at=row.attempted_at,
        status_code=row.status_code,
        error=row.error,
        next_retry_at=row.next_retry_at,
        delivered=row.delivered,
    )


def deliveries(
    session: Session, webhook_id: int, *, limit: int, cursor: str | None, count: bool = False
) -> Page[DeliveryPublic]:
    """Every attempt, newest first."""
    get(session, webhook_id)
    query = select(WebhookDelivery).where(col(WebhookDelivery.webhook_id) == webhook_id)
    total = None
    if count:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
    before = _after(cursor, "webhook-deliveries")
    if before is not None:
        query = query.where(col(WebhookDelivery.id) < before)
    rows = list(session.exec(query.order_by(col(WebhookDelivery.id).desc()).limit(limit + 1)))
    next_cursor = (
        encode_cursor("webhook-deliveries", [rows[limit - 1].id]) if len(rows) > limit else None
    )
    items = [delivery(r) for r in rows[:limit]]
    return Page(items=items, next_cursor=next_cursor, **({"total": total} if count else {}))


@dataclass(frozen=True)
class Subscription:
    """What the dispatcher needs of a subscription, read before it lets its connection go."""

    id: int
    url: str
    secret: str  # as stored: sealed when FOILOG_SECRET_KEY is set (`unseal` opens it)
    events: frozenset[str]
    forces: frozenset[str]
    topics: frozenset[str]
    cursor: int
    failures: int
    failing_since: datetime | None


def subscription(hook: Webhook) -> Subscription:
    assert hook.id is not None
    return Subscription(
        id=hook.id,
        url=hook.url,
        secret=hook.secret,
        events=frozenset(hook.events),
        forces=frozenset(hook.forces),
        topics=frozenset(hook.topics),
        cursor=hook.cursor,
        failures=hook.failures,
        failing_since=hook.failing_since,
    )


def due(session: Session, now: datetime) -> list[Subscription]:
    """Active subscriptions that are not waiting for a retry."""
    waiting = col(Webhook.next_attempt_at)
    hooks = session.exec(
        select(Webhook)
        .where(col(Webhook.disabled_at).is_(None))
        .where(waiting.is_(None) | (waiting <= now))
        .order_by(col(Webhook.id))
    )
    return [subscription(hook) for hook in hooks]


@dataclass(frozen=True)
class Attempt:
    webhook_id: int
    message_id: str
    event: str
    seq: int | None
    entry_id: int | None
    attempted_at: datetime
    outcome: sender.Outcome
    next_retry_at: datetime | None = None


@dataclass(frozen=True)
class State:
    """Where a subscription stands after an attempt."""

    cursor: int
    failures: int = 0
    failing_since: datetime | None = None
    next_attempt_at: datetime | None = None
    disabled_reason: str | None = None


def _set_state(session: Session, webhook_id: int, state: State, now: datetime) -> bool:
    disabled = state.disabled_reason is not None
    changed = session.execute(
        update(Webhook)
        .where(col(Webhook.id) == webhook_id, col(Webhook.disabled_at).is_(None))
        # Never backwards, should two senders ever overlap.
        .where(col(Webhook.cursor) <= state.cursor)
        .values(
            cursor=state.cursor,
            failures=state.failures,
            failing_since=state.failing_since,
            next_attempt_at=state.next_attempt_at,
            disabled_at=now if disabled else None,
            disabled_reason=state.disabled_reason,
        )
    )
    return bool(changed.rowcount)  # type: ignore[attr-defined]


def record(session: Session, attempt: Attempt, state: State | None) -> DeliveryPublic | None:
    """Log an attempt and, for a change of the feed, move the subscription on, in one short
    transaction. None (and nothing written) when the subscription was deleted or disabled
    meanwhile, so the dispatcher stops sending to it."""
    alive = (
        # Locked, so a DELETE at the same moment waits for this row rather than breaking it.
        session.get(Webhook, attempt.webhook_id, with_for_update=True) is not None
        if state is None
        else _set_state(session, attempt.webhook_id, state, attempt.attempted_at)
    )
    if not alive:
        session.rollback()
        return None
    row = WebhookDelivery(
        webhook_id=attempt.webhook_id,
        message_id=attempt.message_id,
        event=attempt.event,
        seq=attempt.seq,
        entry_id=attempt.entry_id,
        attempted_at=attempt.attempted_at,
        status_code=attempt.outcome.status_code,
        error=attempt.outcome.error,
        next_retry_at=attempt.next_retry_at,
        delivered=attempt.outcome.delivered,
    )
    session.add(row)
    session.commit()
    return delivery(row)


def skip(session: Session, webhook_id: int, cursor: int) -> None:
    """Move past changes the subscription does not want (never backwards). A change that was
    failing and no longer matches (its entry's force or topics changed) is passed too."""
    session.execute(
        update(Webhook)
        .where(col(Webhook.id) == webhook_id, col(Webhook.cursor) < cursor)
        .values(cursor=cursor, failures=0, failing_since=None, next_attempt_at=None)
    )
    session.commit()
