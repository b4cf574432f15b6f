"""Keeps a published entry's filter columns, links, document and search text in step with its
request. Every write that touches a published request ends in `refresh`, so no path can leave
the public copy stale."""

from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, insert
from sqlmodel import Session, col

from app import deadlines
from app.changes import service as changes
from app.db import utcnow
from app.entries.schemas import Tombstone
from app.models import (
    ChangeKind,
    DisclosureEntry,
    EntryExemption,
    EntryReference,
    EntryTopic,
    FoiRequest,
    FoiResponse,
    Force,
    ResponseKind,
    Topic,
)


def reference_key(reference: str) -> str:
    """References match ignoring case and white space: `foi 2018/02892` is `FOI2018/02892`."""
    return "".join(reference.split()).lower()


def _response(response: FoiResponse) -> dict[str, Any]:
    signatory = None
    if response.signatory_name or response.signatory_role:
        signatory = {"name": response.signatory_name, "role": response.signatory_role}
    return {
        "kind": response.kind,
        "responded_on": response.responded_on.isoformat(),
        "outcome": response.outcome,
        "text": response.text,
        "answers": [{"questions": a.questions, "text": a.text} for a in response.answers],
        "citations": [
            {
                "exemption": c.exemption_id,
                "provision": c.provision,
                "ncnd": c.ncnd,
                "questions": c.questions,
                "public_interest": c.public_interest,
                "harm": c.harm,
            }
            for c in response.citations
        ],
        "signatory": signatory,
    }


def first_initial_response_on(request: FoiRequest) -> Any:
    initial = [r.responded_on for r in request.responses if r.kind == ResponseKind.INITIAL]
    return min(initial) if initial else None


def cited_exemptions(request: FoiRequest) -> list[str]:
    return sorted({c.exemption_id for r in request.responses for c in r.citations})


def _timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def document(entry: DisclosureEntry, request: FoiRequest, topics: list[Topic]) -> dict[str, Any]:
    """The entry document (SPEC §7). Built from an allow-list: the requester is never read."""
    now = utcnow()
    return {
        "id": entry.id,
        "force": entry.force_id,
        "law": entry.law,
        "reference": request.reference,
        "aliases": list(request.aliases),
        "title": entry.title,
        "topics": [t.slug for t in topics],
        "received_on": request.received_on.isoformat(),
        "due_on": entry.due_on.isoformat(),
        "responded_on": entry.responded_on.isoformat() if entry.responded_on else None,
        "responded_within_deadline": entry.responded_within_deadline,
        "outcome": entry.outcome,
        "exemptions": cited_exemptions(request),
        "published_at": _timestamp(entry.published_at),
        "updated_at": _timestamp(entry.updated_at),
        "status": "published" if entry.published_at <= now else "scheduled",
        "request": {
            "text": request.text,
            "questions": [{"number": q.number, "text": q.text} for q in request.questions],
        },
        "responses": [_response(r) for r in request.responses],
    }


def search_text(entry: DisclosureEntry, request: FoiRequest, topics: list[Topic]) -> str:
    """What full-text search indexes: public text only, never the requester."""
    parts = [entry.title, request.reference, *request.aliases, request.text]
    parts += [q.text for q in request.questions]
    for response in request.responses:
        parts.append(response.text)
        parts += [a.text for a in response.answers]
    parts += [t.label for t in topics]
    return "\n".join(p for p in parts if p)


def fill(entry: DisclosureEntry, request: FoiRequest, topics: list[Topic], law: str) -> None:
    """Derive every column of the entry from its request (no queries)."""
    latest = request.responses[-1] if request.responses else None
    entry.force_id = request.force_id
    entry.law = law
    entry.reference = request.reference
    entry.received_on = request.received_on
    entry.due_on = request.due_on
    entry.responded_on = first_initial_response_on(request)
    entry.responded_within_deadline = deadlines.responded_within_deadline(
        entry.responded_on, request.due_on, request.extended_due_on
    )
    entry.outcome = latest.outcome if latest else None
    entry.search_text = search_text(entry, request, topics)
    entry.document = orjson.dumps(document(entry, request, topics)).decode()


def link_rows(
    entry: DisclosureEntry, request: FoiRequest, topics: list[Topic]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of the lookup tables that let the public log filter without opening documents."""
    keys = {reference_key(r) for r in [request.reference, *request.aliases]}
    return (
        [{"entry_id": entry.id, "topic_slug": t.slug} for t in topics],
        [{"entry_id": entry.id, "exemption_id": e} for e in cited_exemptions(request)],
        [{"entry_id": entry.id, "reference_key": k, "force_id": entry.force_id} for k in keys],
    )


def write_links(
    session: Session, entries: list[tuple[DisclosureEntry, FoiRequest, list[Topic]]]
) -> None:
    topic_rows: list[dict[str, Any]] = []
    exemption_rows: list[dict[str, Any]] = []
    reference_rows: list[dict[str, Any]] = []
    for entry, request, topics in entries:
        t, e, r = link_rows(entry, request, topics)
        topic_rows += t
        exemption_rows += e
        reference_rows += r
    for model, rows in (
        (EntryTopic, topic_rows),
        (EntryExemption, exemption_rows),
        (EntryReference, reference_rows),
    ):
        if rows:
            session.execute(insert(model), rows)


def refresh(session: Session, entry: DisclosureEntry) -> None:
    """Rebuild a published entry after its request, responses, title or topics changed, and
    announce the update on the change feed once the public has seen the entry."""
    request = entry.request
    law = session.get_one(Force, request.force_id).law
    entry.updated_at = utcnow()
    entry.version += 1
    session.flush()
    for model in (EntryTopic, EntryExemption, EntryReference):
        session.execute(delete(model).where(col(model.entry_id) == entry.id))
    session.expire(entry, ["topics"])
    topics = list(entry.topics)
    fill(entry, request, topics, law)
    write_links(session, [(entry, request, topics)])
    session.add(entry)
    session.flush()
    if entry.announced_at is not None:
        changes.record(session, [entry.id], ChangeKind.UPDATED)  # type: ignore[list-item]


def tombstone(entry: DisclosureEntry) -> Tombstone:
    assert entry.withdrawn_at is not None
    return Tombstone(
        id=entry.id,
        force=entry.force_id,
        reference=entry.reference,
        withdrawn_at=entry.withdrawn_at,
        reason=entry.withdrawal_reason or "",
    )
