"""Publishing a request as a disclosure-log entry, changing the entry and withdrawing it."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app import privacy
from app.audit import service as audit
from app.changes import service as changes
from app.db import utcnow
from app.entries import service as entries
from app.errors import Gone, NotFound, RuleViolation
from app.foi_requests import service as requests
from app.keys.schemas import Actor
from app.models import ChangeKind, DisclosureEntry
from app.preconditions import check_if_match, etag_for
from app.publishing.schemas import EntryUpdate, Publish
from app.round_robins import service as round_robins
from app.tally import service as tally

BODY = ("body",)
# How far ahead of UTC the UK's clocks run at most (BST): a UK day starts this long before
# midnight UTC.
UK_AHEAD = timedelta(hours=1)


def _day_starts(day: date) -> datetime:
    """The earliest moment that is `day` somewhere in the UK, whatever its clocks say."""
    return datetime.combine(day, time.min, UTC) - UK_AHEAD


def etag(entry: DisclosureEntry) -> str:
    """The tag the public GET sends for the same document, so a client can read the entry
    there and write it here with that tag in If-Match."""
    return etag_for(entry.document.encode())


def snapshot(entry: DisclosureEntry) -> dict[str, Any]:
    """The entry as the audit log keeps it: the public document plus its withdrawal."""
    state: dict[str, Any] = orjson.loads(entry.document)
    state["withdrawn_at"] = entry.withdrawn_at.isoformat() if entry.withdrawn_at else None
    state["withdrawal_reason"] = entry.withdrawal_reason
    return state


def publish(session: Session, body: Publish, *, actor: Actor) -> DisclosureEntry:
    request = requests.get_request(session, body.request_id, actor=actor, hold=True)
    published = requests.entry_of(session, request.id)
    if published is not None:
        raise requests.conflict_at(
            f"/v1/disclosure-log/{published.id}",
            f"request {request.id} is published already as entry {published.id}",
        )
    requests.check_not_withdrawn(request, loc=(*BODY, "request_id"))
    if not request.responses:
        raise RuleViolation(
            "publish-unanswered",
            "a request is published with its response: add one first",
            loc=(*BODY, "request_id"),
        )
    answered_on = min(response.responded_on for response in request.responses)
    if body.publish_at is not None and body.publish_at < _day_starts(answered_on):
        # An entry is the published answer (SPEC §1): dated before it, it would sit in the
        # log's order and feeds among entries years older.
        raise RuleViolation(
            "publish-before-response",
            f"publish_at {body.publish_at.isoformat()} is before the response of "
            f"{answered_on.isoformat()}: an entry is published once the force has answered",
            loc=(*BODY, "publish_at"),
        )
    title = body.title or request.title
    topics = sorted(request.topics, key=lambda topic: topic.slug)
    if body.topics is not None:
        topics = requests.load_topics(session, body.topics, loc=(*BODY, "topics"))
    acknowledged = privacy.guard(
        request,
        title,
        topics=topics,
        acknowledged=body.acknowledge_privacy_warning,
        extra=entries.attachment_texts(entries.attached(session, request)),
    )
    law = requests.law_of(session, request.force_id)
    try:
        entry = entries.create(
            session,
            request,
            law=law,
            title=title,
            topics=topics,
            published_at=body.publish_at or utcnow(),
        )
    except IntegrityError:
        # Another writer published the request between our check and our insert.
        session.rollback()
        published = requests.entry_of(session, body.request_id)
        if published is None:
            raise
        raise requests.conflict_at(
            f"/v1/disclosure-log/{published.id}",
            f"request {body.request_id} is published already as entry {published.id}",
        ) from None
    # The entry's id exists only once `create` has run, so this row follows the change record.
    audit.record(
        session,
        actor,
        "entry.publish",
        "entry",
        entry.id,
        None,
        snapshot(entry),
        acknowledged=acknowledged,
    )
    session.commit()
    return entry


def get_entry(session: Session, entry_id: int, *, actor: Actor) -> DisclosureEntry:
    entry = session.get(DisclosureEntry, entry_id)
    if entry is None:
        raise NotFound(f"no entry with id {entry_id}")
    requests.check_scope_of(actor, entry.force_id, f"entry {entry_id}")
    return entry


def _live(
    session: Session, entry_id: int, *, actor: Actor, if_match: str | None
) -> DisclosureEntry:
    entry = get_entry(session, entry_id, actor=actor)
    requests.get_request(session, entry.request_id, actor=actor, hold=True)
    session.refresh(entry)
    if entry.withdrawn_at is not None:
        raise Gone(
            f"entry {entry_id} was withdrawn",
            extra={"tombstone": entries.tombstone(entry).model_dump(mode="json")},
        )
    check_if_match(if_match, etag(entry))
    return entry


def _labels(entry: DisclosureEntry) -> dict[str, Any]:
    return {"title": entry.title, "topics": [t.slug for t in entry.topics]}


def update(
    session: Session,
    entry_id: int,
    changes_: EntryUpdate,
    *,
    actor: Actor,
    if_match: str | None = None,
) -> DisclosureEntry:
    """Change an entry's title or topics; the request keeps its own."""
    entry = _live(session, entry_id, actor=actor, if_match=if_match)
    if not changes_.model_fields_set - {"acknowledge_privacy_warning"}:
        # An empty patch changes nothing: no new version, nothing audited or announced.
        return entry
    before = _labels(entry)
    acknowledged: list[list[str | int]] = []
    if changes_.title is not None:
        entry.title = changes_.title
    if changes_.topics is not None:
        entry.topics = requests.load_topics(session, changes_.topics, loc=(*BODY, "topics"))
    if changes_.title is not None or changes_.topics is not None:
        acknowledged = privacy.guard(
            entry.request,
            entry.title,
            topics=entry.topics,
            acknowledged=changes_.acknowledge_privacy_warning,
        )
    # Audited before `refresh`, which records the change last.
    audit.record(
        session,
        actor,
        "entry.update",
        "entry",
        entry.id,
        before,
        _labels(entry),
        acknowledged=acknowledged,
    )
    entries.refresh(session, entry)
    session.commit()
    return entry


def withdraw(
    session: Session,
    entry_id: int,
    *,
    reason: str,
    actor: Actor,
    if_match: str | None = None,
    acknowledge_privacy_warning: bool = False,
) -> DisclosureEntry:
    """Take an entry out of the public log; it answers 410 with a tombstone from now on. The
    tombstone publishes the reason, so it is checked like the rest of an entry's text: an entry
    is often withdrawn because it named its requester, and the reason may say so by name."""
    entry = _live(session, entry_id, actor=actor, if_match=if_match)
    acknowledged = privacy.guard_texts(
        entry.request,
        [(("reason",), reason)],
        acknowledged=acknowledge_privacy_warning,
        loc=BODY,
    )
    # First, before the entry's row is written: linking locks before rows (round_robins.lock).
    regrouped = round_robins.leave(session, entry_id)
    before = snapshot(entry)
    now = utcnow()
    entry.withdrawn_at = now
    entry.withdrawal_reason = reason
    entry.updated_at = now
    entry.version += 1
    session.add(entry)
    session.flush()
    tally.recount(session, [entry_id])
    audit.record(
        session,
        actor,
        "entry.withdraw",
        "entry",
        entry.id,
        before,
        snapshot(entry),
        acknowledged=acknowledged,
    )
    if entry.announced_at is not None:
        changes.record(session, [entry.id], ChangeKind.WITHDRAWN)  # type: ignore[list-item]
    changes.record(session, regrouped, ChangeKind.UPDATED)
    session.commit()
    return entry
