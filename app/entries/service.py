"""Keeps a published entry's filter columns, links, document and search text in step with its
request. Every write that touches a published request ends in `refresh`, so no path can leave
the public copy stale."""

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol

import orjson
from sqlalchemy import delete, insert, select
from sqlmodel import Session, col

from app import deadlines
from app.changes import service as changes
from app.db import utcnow
from app.entries.schemas import Tombstone
from app.models import (
    Attachment,
    ChangeKind,
    DisclosureEntry,
    EntryExemption,
    EntryReference,
    FoiRequest,
    ResponseKind,
    Topic,
    table_of,
)
from app.round_robins import service as round_robins
from app.round_robins.service import Text
from app.round_robins.similarity import request_text
from app.tally import service as tally

# Of the text inside an entry's attachments, this much is indexed for search (PostgreSQL indexes
# the first 250,000 characters of the whole search text); all of it is privacy-checked.
ATTACHMENT_SEARCH_CHARS = 100_000


# What the document builders read. The ORM rows fit these, and so do the plain objects a bulk
# import builds, so one piece of code makes every stored document.
class AnswerParts(Protocol):
    @property
    def questions(self) -> list[str]: ...
    @property
    def text(self) -> str: ...


class CitationParts(Protocol):
    @property
    def exemption_id(self) -> str: ...
    @property
    def provision(self) -> str: ...
    @property
    def ncnd(self) -> bool: ...
    @property
    def questions(self) -> list[str]: ...
    @property
    def public_interest(self) -> dict[str, Any] | None: ...
    @property
    def harm(self) -> str | None: ...


class ResponseParts(Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def responded_on(self) -> date: ...
    @property
    def outcome(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def signatory_name(self) -> str | None: ...
    @property
    def signatory_role(self) -> str | None: ...
    @property
    def answers(self) -> Sequence[AnswerParts]: ...
    @property
    def citations(self) -> Sequence[CitationParts]: ...


class QuestionParts(Protocol):
    @property
    def number(self) -> str: ...
    @property
    def text(self) -> str: ...


class RequestParts(Protocol):
    @property
    def force_id(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def aliases(self) -> list[str]: ...
    @property
    def received_on(self) -> date: ...
    @property
    def due_on(self) -> date: ...
    @property
    def clarification_received_on(self) -> date | None: ...
    @property
    def extended_due_on(self) -> date | None: ...
    @property
    def text(self) -> str: ...
    @property
    def questions(self) -> Sequence[QuestionParts]: ...
    @property
    def responses(self) -> Sequence[ResponseParts]: ...


class TopicParts(Protocol):
    @property
    def slug(self) -> str: ...
    @property
    def label(self) -> str: ...


class EntryParts(Protocol):
    """The entry columns `fill` derives, and those the document shows."""

    id: int | None
    title: str
    published_at: datetime
    updated_at: datetime
    force_id: str
    law: str
    reference: str
    received_on: date
    due_on: date
    responded_on: date | None
    responded_within_deadline: bool | None
    working_days_to_respond: int | None
    outcome: str | None
    search_text: str
    document: str


class Attached(NamedTuple):
    """An attachment as the entry document lists it; `response` is its response's position."""

    response: int
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str
    text: str


def attachment_url(attachment_id: int) -> str:
    """An attachment's address in the stored entry document: a path, since the document is
    written once and served from whatever address the API is reached at (the CSV export makes
    it absolute)."""
    return f"/v1/attachments/{attachment_id}"


def attached(session: Session, request: FoiRequest) -> list[Attached]:
    """The attachments of a request's responses, in the order of its responses."""
    positions = {response.id: i for i, response in enumerate(request.responses)}
    if not positions:
        return []
    a = table_of(Attachment).c
    rows = session.execute(
        select(a.response_id, a.id, a.filename, a.media_type, a.size, a.sha256, a.text)
        .where(a.response_id.in_(positions))
        .order_by(a.id)
    ).all()
    found = [Attached(positions[row[0]], *row[1:]) for row in rows]
    return sorted(found, key=lambda attachment: attachment.response)


def attachment_texts(attached: Sequence[Attached]) -> list[tuple[tuple[str, int], str]]:
    """What attachments publish, each file's name and the text inside, at its place in the entry
    document: the privacy check reads them with the rest of the entry."""
    return [(("attachments", i), f"{a.filename}\n{a.text}") for i, a in enumerate(attached)]


def reference_key(reference: str) -> str:
    """References match ignoring case and white space: `foi 2018/02892` is `FOI2018/02892`."""
    return "".join(reference.split()).lower()


def _response(response: ResponseParts) -> dict[str, Any]:
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


def first_initial_response_on(request: RequestParts) -> Any:
    initial = [r.responded_on for r in request.responses if r.kind == ResponseKind.INITIAL]
    return min(initial) if initial else None


def cited_exemptions(request: RequestParts) -> list[str]:
    return sorted({c.exemption_id for r in request.responses for c in r.citations})


def timestamp(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def document(
    entry: EntryParts,
    request: RequestParts,
    topics: Sequence[TopicParts],
    attachments: Sequence[Attached] = (),
    round_robin: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The entry document (SPEC §7). Built from an allow-list: the requester is never read."""
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
        "published_at": timestamp(entry.published_at),
        "updated_at": timestamp(entry.updated_at),
        # The stored document is what the public sees, and the public sees it only once due;
        # keyed callers are told a scheduled entry's status when it is sent (`keyed_document`).
        "status": "published",
        "round_robin": round_robin,
        "request": {
            "text": request.text,
            "questions": [{"number": q.number, "text": q.text} for q in request.questions],
        },
        "responses": [_response(r) for r in request.responses],
        "attachments": [
            {
                "id": a.id,
                "response": a.response,
                "filename": a.filename,
                "media_type": a.media_type,
                "bytes": a.size,
                "sha256": a.sha256,
                "url": attachment_url(a.id),
            }
            for a in attachments
        ],
        # What moved `due_on` (SPEC §2), so a mirror derives the same date and verdict. Last,
        # as migration 0024 appended them to the documents stored before.
        "clarification_received_on": _day(request.clarification_received_on),
        "extended_due_on": _day(request.extended_due_on),
    }


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def keyed_document(entry: DisclosureEntry) -> str:
    """The entry as a key holder sees it: the public document, marked scheduled until due."""
    if entry.published_at <= utcnow():
        return entry.document
    return orjson.dumps({**orjson.loads(entry.document), "status": "scheduled"}).decode()


def search_text(
    entry: EntryParts,
    request: RequestParts,
    topics: Sequence[TopicParts],
    attachments: Sequence[Attached] = (),
) -> str:
    """What full-text search indexes: public text only, never the requester."""
    parts = [entry.title, request.reference, *request.aliases, request.text]
    parts += [q.text for q in request.questions]
    for response in request.responses:
        parts.append(response.text)
        parts += [a.text for a in response.answers]
    parts += [t.label for t in topics]
    budget = ATTACHMENT_SEARCH_CHARS
    for attachment in attachments:
        if budget <= 0:
            break
        text = f"{attachment.filename}\n{attachment.text}"[:budget]
        parts.append(text)
        budget -= len(text)
    parts += reasoning_text(request.responses)
    return "\n".join(p for p in parts if p)


def reasoning_text(responses: Sequence[ResponseParts]) -> list[str]:
    """The reasoning of the responses, searchable after the rest: each citation's public
    interest factors (for, against, balance) and harm, and who signed (the role)."""
    parts: list[str] = []
    for response in responses:
        for citation in response.citations:
            reasons = citation.public_interest or {}
            parts += [*reasons.get("for", []), *reasons.get("against", [])]
            parts += [reasons.get("balance") or "", citation.harm or ""]
        parts.append(response.signatory_role or "")
    return [part for part in parts if part]


def fill(
    entry: EntryParts,
    request: RequestParts,
    topics: Sequence[TopicParts],
    law: str,
    attachments: Sequence[Attached] = (),
    round_robin: dict[str, Any] | None = None,
) -> None:
    """Derive every column of the entry from its request (no queries); `round_robin` is the
    group the entry is in, if any."""
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
    # Counted as the deadline is: from the clarification, when one restarted the clock.
    started = request.clarification_received_on or request.received_on
    entry.working_days_to_respond = (
        None
        if entry.responded_on is None
        else deadlines.working_days_between(started, entry.responded_on, law)
    )
    entry.outcome = latest.outcome if latest else None
    entry.search_text = search_text(entry, request, topics, attachments)
    entry.document = orjson.dumps(
        document(entry, request, topics, attachments, round_robin)
    ).decode()


def link_rows(
    entry: EntryParts, request: RequestParts
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows of the lookup tables that let the public log filter without opening documents.
    (Topics are linked through the `topics` relationship.)"""
    keys = {reference_key(r) for r in [request.reference, *request.aliases]}
    return (
        [{"entry_id": entry.id, "exemption_id": e} for e in cited_exemptions(request)],
        [{"entry_id": entry.id, "reference_key": k, "force_id": entry.force_id} for k in keys],
    )


def compared_text(entry_id: int, request: RequestParts) -> Text:
    """What round-robin linking compares of an entry: its request text and questions."""
    return Text(
        entry_id, request.force_id, request_text(request.text, [q.text for q in request.questions])
    )


def _write_links(session: Session, entry: DisclosureEntry, request: FoiRequest) -> None:
    exemption_rows, reference_rows = link_rows(entry, request)
    for model, rows in ((EntryExemption, exemption_rows), (EntryReference, reference_rows)):
        if rows:
            session.execute(insert(model), rows)


def create(
    session: Session,
    request: FoiRequest,
    *,
    law: str,
    title: str,
    topics: list[Topic],
    published_at: datetime,
) -> DisclosureEntry:
    """Make the public entry of a request. An entry due now is announced on the change feed at
    once; a scheduled one is announced when it falls due (see `announce_due`)."""
    now = utcnow()
    entry = DisclosureEntry(
        request_id=request.id,  # type: ignore[arg-type]
        title=title,
        published_at=published_at,
        updated_at=now,
        announced_at=now if published_at <= now else None,
        document="",
        search_text="",
        force_id=request.force_id,
        law=law,
        reference=request.reference,
        received_on=request.received_on,
        due_on=request.due_on,
    )
    session.add(entry)
    session.flush()
    fill(entry, request, topics, law, attached(session, request))
    entry.topics = topics
    session.flush()
    _write_links(session, entry, request)
    assert entry.id is not None
    visible = entry.announced_at is not None
    linked = round_robins.store(session, [compared_text(entry.id, request)], group=visible)
    session.refresh(entry, ["document"])  # it holds the entry's group once linked
    tally.recount(session, [entry.id])
    if visible:
        changes.record(session, [entry.id], ChangeKind.PUBLISHED)
        changes.record(session, linked, ChangeKind.UPDATED)
    return entry


def refresh(session: Session, entry: DisclosureEntry) -> None:
    """Rebuild a published entry after its request, responses, title or topics changed (set
    `entry.topics` before calling), and announce the update once the public has seen it."""
    request = entry.request
    assert entry.id is not None
    # Linked again only if the request's text changed (its band keys with it), and first,
    # before anything writes the entry's row: linking takes its locks before rows, as every
    # linking write does. Writing the row first, a writer held it while waiting for its
    # group's locks, and the writer holding those waited to rewrite this entry's document
    # (PostgreSQL ended one of them as a deadlock). The request's rows are held already.
    with session.no_autoflush:
        linked = round_robins.relink(
            session, compared_text(entry.id, request), visible=entry.announced_at is not None
        )
    session.flush()
    session.refresh(request)
    entry.updated_at = utcnow()
    entry.version += 1
    fill(
        entry,
        request,
        list(entry.topics),
        entry.law,
        attached(session, request),
        round_robins.membership(session, entry.id),
    )
    for model in (EntryExemption, EntryReference):
        session.execute(delete(model).where(col(model.entry_id) == entry.id))
    _write_links(session, entry, request)
    session.add(entry)
    session.flush()
    tally.recount(session, [entry.id])
    if entry.announced_at is not None:
        changes.record(session, [entry.id, *linked], ChangeKind.UPDATED)


class Withdrawn(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def force_id(self) -> str: ...
    @property
    def reference(self) -> str: ...
    @property
    def withdrawn_at(self) -> datetime | None: ...
    @property
    def withdrawal_reason(self) -> str | None: ...


def tombstone(entry: Withdrawn) -> Tombstone:
    """All the public may know of a withdrawn entry."""
    assert entry.id is not None
    assert entry.withdrawn_at is not None
    return Tombstone(
        id=entry.id,
        force=entry.force_id,
        reference=entry.reference,
        withdrawn_at=entry.withdrawn_at,
        reason=entry.withdrawal_reason or "",
    )
