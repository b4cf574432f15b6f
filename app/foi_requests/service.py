"""Requests as a force's FOI team keeps them: the rules of SPEC §1 and §2, scoped to the key."""

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import date, datetime
from typing import Any, NamedTuple, Protocol, cast
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, exists, func, insert, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlmodel import Session, col, select

from app import deadlines, privacy
from app.audit import service as audit
from app.db import utcnow
from app.entries import service as entries
from app.entries.schemas import Question
from app.errors import BadRequest, Conflict, ErrorLoc, Forbidden, NotFound, RuleViolation
from app.foi_requests.schemas import (
    RequestCreate,
    Requester,
    RequestInternal,
    RequestSummary,
    RequestUpdate,
    ResponseInternal,
)
from app.forces import service as forces
from app.keys.schemas import Actor
from app.models import (
    DisclosureEntry,
    FoiQuestion,
    FoiRequest,
    FoiResponse,
    Force,
    RequestReference,
    RequestStatus,
    ResponseKind,
    Topic,
    table_of,
)
from app.pagination import Page, decode_cursor, encode_cursor
from app.preconditions import check_if_match, version_etag
from app.topics import service as topics_service

UK = ZoneInfo("Europe/London")
BODY: ErrorLoc = ("body",)
# The request fields an entry document shows (the due date derives from the last two).
PUBLISHED_FIELDS = {
    "title",
    "text",
    "aliases",
    "topics",
    "questions",
    "clarification_received_on",
    "extended_due_on",
}
# The statutory clock does not run against these.
PAUSED = (RequestStatus.AWAITING_CLARIFICATION, RequestStatus.WITHDRAWN, RequestStatus.CLOSED)
# Statuses that say the force has answered.
ANSWERED = (RequestStatus.RESPONDED, RequestStatus.UNDER_REVIEW)


def today() -> date:
    """Deadlines are in UK dates."""
    return datetime.now(UK).date()


def etag(request: FoiRequest) -> str:
    return version_etag("request", request.id, request.version)


def touch(request: FoiRequest) -> None:
    request.version += 1
    request.updated_at = utcnow()


def law_of(session: Session, force_id: str, *, loc: ErrorLoc = (*BODY, "force")) -> str:
    force = session.get(Force, force_id)
    if force is None:
        raise RuleViolation(
            "force-unknown", f"no force with id {force_id!r}; GET /v1/forces lists them", loc=loc
        )
    return force.law


def check_scope(actor: Actor, force_id: str) -> None:
    if not actor.may_access(force_id):
        raise Forbidden(f"the key {actor.name!r} has no access to the force {force_id!r}")


def check_scope_of(actor: Actor, force_id: str, what: str) -> None:
    """Something found by its id that belongs to a force outside the key's scope: 403 (SPEC
    §3), naming the thing asked for and not its force."""
    if not actor.may_access(force_id):
        raise Forbidden(f"{what} belongs to a force the key {actor.name!r} has no access to")


def check_questions(numbers: Sequence[str], *, loc: ErrorLoc = BODY) -> None:
    seen: set[str] = set()
    for i, number in enumerate(numbers):
        if number in seen:
            raise RuleViolation(
                "question-number-unique",
                f"question number {number!r} is used twice",
                loc=(*loc, "questions", i, "number"),
            )
        seen.add(number)


ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def _roman(numeral: str) -> int:
    values = [ROMAN[c] for c in numeral]
    return sum(-v if v < w else v for v, w in zip(values, [*values[1:], 0], strict=True))


def question_order(number: str) -> list[tuple[int, int | str]]:
    """How people order question numbers: 1, 2, 3, 4a, 4b, 5d(i), 5d(ii), 5d(iv), 10."""
    key: list[tuple[int, int | str]] = []
    for part in re.findall(r"\d+|\([ivxlc]+\)|[a-z]+|[^\da-z]+", number.lower()):
        if part.isdigit():
            key.append((0, int(part)))
        elif part.startswith("("):
            key.append((1, _roman(part[1:-1])))
        else:
            key.append((2, part))
    return key


def listed_numbers(numbers: Iterable[str]) -> str:
    return ", ".join(sorted(numbers, key=question_order)) or "none"


def check_question_refs(numbers: Sequence[str], known: set[str], *, loc: ErrorLoc) -> None:
    for i, number in enumerate(numbers):
        if number not in known:
            listed = listed_numbers(known)
            raise RuleViolation(
                "question-unknown",
                f"question {number!r} is not a question of the request (its questions: {listed})",
                loc=(*loc, i),
            )


def set_questions(session: Session, request: FoiRequest, questions: Sequence[Question]) -> None:
    if request.questions:
        # Old rows go first: the new ones may reuse their (request, number) pairs.
        request.questions.clear()
        session.flush()
    request.questions = [
        FoiQuestion(position=i, number=q.number, text=q.text)  # type: ignore[call-arg]
        for i, q in enumerate(questions)
    ]


def load_topics(session: Session, slugs: Sequence[str], *, loc: ErrorLoc) -> list[Topic]:
    # `ensure` types its loc as strings; a line number (an int) passes through unchanged.
    normalised = topics_service.ensure(session, list(slugs), loc=cast(tuple[str, ...], loc))
    query = select(Topic).where(col(Topic.slug).in_(normalised)).order_by(col(Topic.slug))
    return list(session.exec(query))


class Scheduled(Protocol):
    """What the statutory deadline is computed from, and the date it sets."""

    received_on: date
    clarification_received_on: date | None
    extended_due_on: date | None
    due_on: date


def check_received(received_on: date, *, loc: ErrorLoc = BODY) -> None:
    """A request is received by the day it is recorded: a later date would give a deadline
    that has not started, and order the log by a day still to come."""
    if received_on > today():
        raise RuleViolation(
            "received-date",
            f"a request cannot be received in the future ({received_on})",
            loc=(*loc, "received_on"),
        )


def schedule(request: Scheduled, law: str, *, loc: ErrorLoc = BODY) -> None:
    """Compute `due_on` and check `extended_due_on` against it (SPEC §2)."""
    check_received(request.received_on, loc=loc)
    try:
        request.due_on = deadlines.due_on(
            request.received_on, law, clarification_received_on=request.clarification_received_on
        )
    except ValueError as exc:
        raise RuleViolation(
            "clarification-date", str(exc), loc=(*loc, "clarification_received_on")
        ) from None
    clarified = request.clarification_received_on
    if clarified is not None and clarified > today():
        raise RuleViolation(
            "clarification-date",
            f"clarification cannot be received in the future ({clarified})",
            loc=(*loc, "clarification_received_on"),
        )
    extended = request.extended_due_on
    if extended is None:
        return
    latest = deadlines.latest_extension(request.due_on, law)
    where = (*loc, "extended_due_on")
    if latest is None:
        raise RuleViolation(
            "extension-not-available", f"{law} has no public interest extension", loc=where
        )
    if not deadlines.is_working_day(extended, law):
        raise RuleViolation(
            "extension-working-day",
            f"an extended due date is a working day; {extended} is a weekend day, Christmas "
            f"Day, Good Friday or a bank holiday in the {deadlines.HOLIDAY_CALENDARS[law]} "
            "calendar",
            loc=where,
        )
    if not request.due_on < extended <= latest:
        raise RuleViolation(
            "extension-limit",
            f"an extension runs at most {deadlines.MAX_EXTENSION_WORKING_DAYS} working days past "
            f"the due date {request.due_on}: after it and no later than {latest}",
            loc=where,
        )


def check_not_withdrawn(request: FoiRequest, *, loc: ErrorLoc) -> None:
    """A request its requester withdrew is not answered, so there is nothing to publish: it
    takes no response and no entry (every door: a response added or corrected, a publication,
    an import line for its reference). A force taking a published entry out of the log is
    another thing, the entry's withdrawal (a tombstone), which leaves the request as it is."""
    if request.status == RequestStatus.WITHDRAWN:
        raise RuleViolation(
            "request-withdrawn",
            f"request {request.reference} was withdrawn by its requester: it takes no response "
            "and has no answer to publish (if it was marked withdrawn in error, PATCH its "
            "status first)",
            loc=loc,
        )


def first_response_on(request: FoiRequest) -> date | None:
    return entries.first_initial_response_on(request)  # type: ignore[no-any-return]


def is_overdue(request: FoiRequest, on: date) -> bool:
    if request.status in PAUSED:
        return False
    answered = first_response_on(request) is not None
    return deadlines.is_overdue(answered, request.due_on, request.extended_due_on, on)


def response_internal(response: FoiResponse) -> ResponseInternal:
    return ResponseInternal.model_validate(
        {
            **entries._response(response),
            "id": response.id,
            "request_id": response.request_id,
            "created_at": response.created_at,
            "updated_at": response.updated_at,
            "version": response.version,
        }
    )


def _requester(request: FoiRequest) -> Requester | None:
    fields = {
        "name": request.requester_name,
        "email": request.requester_email,
        "address": request.requester_address,
        "category": request.requester_category,
    }
    return Requester(**fields) if any(fields.values()) else None


def _summary_fields(request: FoiRequest, entry_id: int | None, on: date) -> dict[str, Any]:
    responded_on = first_response_on(request)
    return {
        "id": request.id,
        "force": request.force_id,
        "reference": request.reference,
        "aliases": request.aliases,
        "received_on": request.received_on,
        "title": request.title,
        "text": request.text,
        "topics": sorted(t.slug for t in request.topics),
        "questions": [{"number": q.number, "text": q.text} for q in request.questions],
        "requester": _requester(request),
        "status": request.status,
        "clarification_received_on": request.clarification_received_on,
        "due_on": request.due_on,
        "extended_due_on": request.extended_due_on,
        "overdue": is_overdue(request, on),
        "responded_on": responded_on,
        "responded_within_deadline": deadlines.responded_within_deadline(
            responded_on, request.due_on, request.extended_due_on
        ),
        "entry_id": entry_id,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
        "version": request.version,
    }


def entry_of(session: Session, request_id: int | None) -> DisclosureEntry | None:
    return session.exec(
        select(DisclosureEntry).where(DisclosureEntry.request_id == request_id)
    ).first()


def internal(session: Session, request: FoiRequest) -> RequestInternal:
    entry = entry_of(session, request.id)
    fields = _summary_fields(request, entry.id if entry else None, today())
    fields["responses"] = [response_internal(r) for r in request.responses]
    return RequestInternal.model_validate(fields)


def conflict_at(url: str, detail: str) -> Conflict:
    """A 409 that points at what already exists, in the body and in the headers."""
    return Conflict(
        detail,
        extra={"existing": url},
        headers={"Link": f'<{url}>; rel="existing"', "Location": url},
    )


def _conflict(existing: FoiRequest, sent: str) -> Conflict:
    """The reference as stored, which may differ from the one sent in case and spacing."""
    url = f"/v1/requests/{existing.id}"
    detail = (
        f"the force {existing.force_id!r} already has the request {existing.reference!r} ({url})"
    )
    if sent != existing.reference:
        detail += f", which {sent!r} matches ignoring case and spaces"
    conflict = conflict_at(url, detail)
    conflict.extra["reference"] = existing.reference
    return conflict


def find(session: Session, force_id: str, reference: str) -> FoiRequest | None:
    return session.exec(
        select(FoiRequest).where(
            FoiRequest.force_id == force_id,
            FoiRequest.reference_key == entries.reference_key(reference),
        )
    ).first()


# A request's names: its reference and aliases as lookups normalise them (SPEC §4). Within a
# force each names one request, so a lookup by one has one answer (README, "References").
_names = table_of(RequestReference)
_name = _names.c
_request = table_of(FoiRequest).c
_HOLDERS = (
    select(_name.reference_key, _name.request_id, _request.reference, _request.reference_key)
    .join_from(_names, table_of(FoiRequest), _request.id == _name.request_id)
    .where(
        _name.force_id == bindparam("force"),
        _name.reference_key.in_(bindparam("keys", expanding=True)),
    )
    .order_by(_name.request_id)
)
_HELD = select(_name.request_id, _name.reference_key).where(
    _name.request_id.in_(bindparam("ids", expanding=True))
)


class Holder(NamedTuple):
    """A request that has a name: its id, and its reference as stored and normalised."""

    request_id: int
    reference: str
    reference_key: str


FieldPath = tuple[str | int, ...]


def names(reference: str, aliases: Sequence[str]) -> dict[str, tuple[FieldPath, str]]:
    """The names a request answers to, each with the field that first gives it and its value
    as given there."""
    given: dict[str, tuple[FieldPath, str]] = {
        entries.reference_key(reference): (("reference",), reference)
    }
    for i, alias in enumerate(aliases):
        given.setdefault(entries.reference_key(alias), (("aliases", i), alias))
    given.pop("", None)
    return given


def holders(session: Session, force_id: str, keys: Collection[str]) -> dict[str, list[Holder]]:
    """The requests of the force that have these names (shared names have several)."""
    found: dict[str, list[Holder]] = defaultdict(list)
    if keys:
        rows = session.execute(_HOLDERS, {"force": force_id, "keys": sorted(keys)})
        for key, *holder in rows:
            found[key].append(Holder(*holder))
    return found


def names_held(session: Session, request_ids: Collection[int]) -> dict[int, set[str]]:
    """The names each of these requests has now."""
    held: dict[int, set[str]] = defaultdict(set)
    if request_ids:
        for request_id, key in session.execute(_HELD, {"ids": sorted(request_ids)}):
            held[request_id].add(key)
    return held


def name_taken(
    sent: str,
    holder: str,
    *,
    own: bool,
    url: str | None,
    loc: ErrorLoc,
    where: str = "",
) -> RuleViolation:
    """A 422 for a name `holder` has (a request, said so), at the field `loc`; with the holder's
    link when it is stored. `where` leads the detail (an import's line)."""
    whose = "the reference" if own else "an alias"
    holder += f" ({url})" if url else ""
    error = RuleViolation(
        "reference-taken",
        f"{where}{sent!r} is already {whose} of {holder}: within a force a reference or alias "
        "names one request, so that a lookup by it finds one; take it off one of them",
        loc=loc,
    )
    if url is not None:
        error.extra["existing"] = url
        error.headers["Link"] = f'<{url}>; rel="existing"'
    return error


def check_names(session: Session, request: FoiRequest, *, loc: ErrorLoc = BODY) -> None:
    """Refuse a reference or alias of the request that another request of its force has. The
    names it has already stay its own, one it shares since before migration 0027 too."""
    given = names(request.reference, request.aliases)
    held = holders(session, request.force_id, given.keys())
    for key, (field, sent) in given.items():
        having = held.get(key, [])
        if having and all(h.request_id != request.id for h in having):
            other = having[0]
            raise name_taken(
                sent,
                f"request {other.reference!r}",
                own=other.reference_key == key,
                url=f"/v1/requests/{other.request_id}",
                loc=(*loc, *field),
            )


def claim_names(
    session: Session, request: FoiRequest, *, loc: ErrorLoc = BODY, share: bool = False
) -> None:
    """Give a stored request its reference and aliases as names, and take away those it no
    longer gives; 422 (rule reference-taken) if another request of its force has one. A writer
    that takes one between the check and the insert is stopped by the unique index, and the
    check, run again, names it. With `share` (an import), such a name is shared instead."""
    if not share:
        check_names(session, request, loc=loc)
    request_id = cast(int, request.id)
    wanted = names(request.reference, request.aliases).keys()
    held = names_held(session, [request_id])[request_id]
    if dropped := held - wanted:
        session.execute(
            delete(_names).where(_name.request_id == request_id, _name.reference_key.in_(dropped))
        )
    rows = name_rows(request.force_id, request_id, wanted - held)
    if not rows:
        return
    if share:
        share_clashing(session, rows)
    try:
        with session.begin_nested():
            session.execute(insert(_names), rows)
    except IntegrityError:
        check_names(session, request, loc=loc)
        raise


def share_clashing(session: Session, rows: list[dict[str, Any]]) -> None:
    """Mark `shared` the names of these new rows that another request has, stored or among the
    rows, and the stored rows they meet: an import reproduces what its source holds (SPEC §7:
    an export imports into another instance unchanged; a mirror applies an alias moved from one
    request to another in whatever order its changes come), where the write API refuses. A
    lookup by a shared name lists its entries (300); it never picks one silently."""
    by_force: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        by_force[row["force_id"]][row["reference_key"]] += 1
    for force_id, counted in by_force.items():
        stored = holders(session, force_id, counted.keys())
        clashing = {key for key, n in counted.items() if n > 1 or stored.get(key)}
        for row in rows:
            if row["force_id"] == force_id and row["reference_key"] in clashing:
                row["shared"] = True
        if met := sorted(key for key in clashing if stored.get(key)):
            session.execute(
                update(_names)
                .where(_name.force_id == force_id, _name.reference_key.in_(met))
                .values(shared=True)
            )


def name_rows(force_id: str, request_id: int, keys: Iterable[str]) -> list[dict[str, Any]]:
    return [
        {"force_id": force_id, "reference_key": key, "request_id": request_id, "shared": False}
        for key in sorted(keys)
    ]


def new_request(
    *, force_id: str, reference: str, received_on: date, law: str, **fields: Any
) -> FoiRequest:
    """A request with its lookup key and statutory due date set."""
    return FoiRequest(
        force_id=force_id,
        reference=reference,
        reference_key=entries.reference_key(reference),
        received_on=received_on,
        due_on=deadlines.due_on(received_on, law),
        **fields,
    )


def create_request(session: Session, body: RequestCreate, *, actor: Actor) -> FoiRequest:
    law = law_of(session, body.force)
    check_scope(actor, body.force)
    check_received(body.received_on)
    check_questions([q.number for q in body.questions])
    existing = find(session, body.force, body.reference)
    if existing is not None:
        raise _conflict(existing, body.reference)
    requester = body.requester or Requester()
    request = new_request(
        force_id=body.force,
        reference=body.reference,
        received_on=body.received_on,
        law=law,
        title=body.title,
        aliases=body.aliases,
        text=body.text,
        requester_name=requester.name,
        requester_email=requester.email,
        requester_address=requester.address,
        requester_category=requester.category,
    )
    set_questions(session, request, body.questions)
    request.topics = load_topics(session, body.topics, loc=(*BODY, "topics"))
    session.add(request)
    try:
        session.flush()
    except IntegrityError:
        # Another writer took the reference between our check and our insert.
        session.rollback()
        existing = find(session, body.force, body.reference)
        if existing is None:
            raise
        raise _conflict(existing, body.reference) from None
    claim_names(session, request)
    audit.record(
        session, actor, "request.create", "request", request.id, None, internal(session, request)
    )
    session.commit()
    return request


# FOR NO KEY UPDATE, as an UPDATE of the row takes: rows that refer to the request (a new
# response, an entry) take FOR KEY SHARE of it, which this lets through.
_HOLD = {"key_share": True}


def get_request(
    session: Session, request_id: int, *, actor: Actor, hold: bool = False
) -> FoiRequest:
    """A request the key may act on: 404 if there is none, 403 if its force is outside the
    key's scope.

    With `hold`, the request's row is held until the transaction ends and read afresh. Every
    write to a request, its responses, its entry or their attachments holds it before it reads
    what it checks: on PostgreSQL two writes to one request then run one after the other, and
    the second reads what the first committed (the version `If-Match` names, a withdrawal, the
    text the privacy check must see). SQLite's write transaction holds the database already."""
    request = session.get(
        FoiRequest, request_id, with_for_update=_HOLD if hold else None, populate_existing=hold
    )
    if request is None:
        raise NotFound(f"no request with id {request_id}")
    check_scope_of(actor, request.force_id, f"request {request_id}")
    return request


def hold(session: Session, request: FoiRequest) -> None:
    """Hold a request already read, and read it afresh (`get_request` with `hold`)."""
    session.refresh(request, with_for_update=_HOLD)


def live_entry(session: Session, request_id: int | None) -> DisclosureEntry | None:
    """The entry a change to the request must update: published (or scheduled), not withdrawn."""
    entry = entry_of(session, request_id)
    return entry if entry is not None and entry.withdrawn_at is None else None


def update_request(
    session: Session,
    request_id: int,
    changes: RequestUpdate,
    *,
    actor: Actor,
    if_match: str | None = None,
    acknowledge_privacy_warning: bool = False,
) -> FoiRequest:
    request = get_request(session, request_id, actor=actor, hold=True)
    check_if_match(if_match, etag(request))
    given = changes.model_fields_set
    if not given:
        return request  # an empty patch changes nothing: no new version, nothing audited
    before = internal(session, request)
    law = law_of(session, request.force_id)
    old_title, old_topics = request.title, sorted(t.slug for t in request.topics)
    if changes.status in ANSWERED and not request.responses:
        # Set by adding the response; said of a request with none, the log would disagree.
        raise RuleViolation(
            "status-unanswered",
            f"a request is {changes.status} once it has a response: add one first",
            loc=(*BODY, "status"),
        )
    withdrawing = changes.status == RequestStatus.WITHDRAWN and request.status != changes.status
    if withdrawing and request.responses:
        # A requester withdraws a request the force has not answered; once answered (and
        # perhaps published) a withdrawn status would say there is no answer while there is.
        detail = "a request the force has answered is not withdrawn: close it (status closed)"
        entry = live_entry(session, request.id)
        if entry is not None:
            detail += (
                f"; to take its entry out of the log, POST /v1/disclosure-log/{entry.id}/withdraw"
            )
        raise RuleViolation("withdrawn-answered", detail, loc=(*BODY, "status"))
    for name in ("status", "title", "text", "aliases"):
        value = getattr(changes, name)
        if name in given and value is not None:
            setattr(request, name, value)
    if changes.aliases is not None:
        claim_names(session, request)
    for name in ("clarification_received_on", "extended_due_on"):
        if name in given:
            setattr(request, name, getattr(changes, name))
    clarified = "status" not in given and changes.clarification_received_on is not None
    if clarified and request.status == RequestStatus.AWAITING_CLARIFICATION:
        # The clarification restarts the clock (SPEC §2): the request waits on no one now, so
        # it is received again and counts as overdue once past its new date.
        request.status = RequestStatus.RECEIVED
    if "requester" in given:
        requester = changes.requester or Requester()
        request.requester_name = requester.name
        request.requester_email = requester.email
        request.requester_address = requester.address
        request.requester_category = requester.category
    schedule(request, law)
    if changes.questions is not None:
        check_questions([q.number for q in changes.questions])
        numbers = {q.number for q in changes.questions}
        for response in request.responses:
            refs = {n for a in response.answers for n in a.questions}
            refs |= {n for c in response.citations for n in c.questions}
            if refs - numbers:
                raise RuleViolation(
                    "question-unknown",
                    f"response {response.id} refers to questions "
                    f"{listed_numbers(refs - numbers)}, which the new questions drop",
                    loc=(*BODY, "questions"),
                )
        set_questions(session, request, changes.questions)
    if changes.topics is not None:
        request.topics = load_topics(session, changes.topics, loc=(*BODY, "topics"))
    touch(request)
    session.add(request)
    # Status and requester are not in the entry document: changing them announces nothing.
    # A new requester is looked for in all the entry publishes, its attachments' text too, or,
    # once it is withdrawn, in the reason its tombstone still publishes.
    published = bool(given & PUBLISHED_FIELDS)
    named = "requester" in given
    entry = entry_of(session, request.id) if published or named else None
    acknowledged: list[list[str | int]] = []
    if entry is not None and entry.withdrawn_at is not None:
        if named:
            acknowledged = privacy.guard_texts(
                request,
                [(("withdrawal_reason",), entry.withdrawal_reason or "")],
                acknowledged=acknowledge_privacy_warning,
                acknowledge=privacy.IN_QUERY,
            )
        entry = None
    if entry is not None:
        # An entry titled or tagged like its request follows the request's changes.
        if entry.title == old_title:
            entry.title = request.title
        if sorted(t.slug for t in entry.topics) == old_topics:
            entry.topics = sorted(request.topics, key=lambda topic: topic.slug)
        attached = entries.attached(session, request) if named else []
        acknowledged = privacy.guard(
            request,
            entry.title,
            topics=entry.topics,
            acknowledged=acknowledge_privacy_warning,
            extra=entries.attachment_texts(attached),
            acknowledge=privacy.IN_QUERY,
        )
    audit.record(
        session,
        actor,
        "request.update",
        "request",
        request.id,
        before,
        internal(session, request),
        acknowledged=acknowledged,
    )
    if entry is not None and published:
        entries.refresh(session, entry)
    session.commit()
    return request


def _cursor_key(value: list[Any]) -> tuple[date, int]:
    try:
        return date.fromisoformat(value[0]), int(value[1])
    except (TypeError, ValueError):
        raise BadRequest("the cursor is not one this API issued") from None


def list_requests(
    session: Session,
    *,
    actor: Actor,
    force: Sequence[str] = (),
    status: Sequence[str] = (),
    overdue: bool | None = None,
    due_before: date | None = None,
    limit: int,
    cursor: str | None = None,
    count: bool = False,
) -> Page[RequestSummary]:
    """Requests in the key's scope, the most urgent first (by deadline, then id)."""
    deadline = func.coalesce(col(FoiRequest.extended_due_on), col(FoiRequest.due_on))
    query = select(FoiRequest)
    known = forces.known_ids(session)
    for value in force:
        if value not in known:
            raise BadRequest(f"unknown force {value!r}; GET /v1/forces lists them")
        check_scope(actor, value)
    if force:
        query = query.where(col(FoiRequest.force_id).in_(force))
    elif not actor.is_admin:
        query = query.where(col(FoiRequest.force_id).in_(sorted(actor.forces)))
    for value in status:
        if value not in set(RequestStatus):
            raise BadRequest(f"unknown status {value!r}; one of {', '.join(RequestStatus)}")
    if status:
        query = query.where(col(FoiRequest.status).in_(status))
    on = today()
    if overdue is not None:
        answered = exists().where(
            col(FoiResponse.request_id) == FoiRequest.id,
            col(FoiResponse.kind) == ResponseKind.INITIAL,
        )
        late = and_(~answered, deadline < on, col(FoiRequest.status).not_in(PAUSED))
        query = query.where(late if overdue else ~late)
    if due_before is not None:
        query = query.where(deadline < due_before)
    total = None
    if count:
        total = session.exec(select(func.count()).select_from(query.subquery())).one()
    if cursor is not None:
        last_deadline, last_id = _cursor_key(decode_cursor(cursor, "requests", 2))
        query = query.where(
            or_(
                deadline > last_deadline,
                and_(deadline == last_deadline, col(FoiRequest.id) > last_id),
            )
        )
    query = query.options(
        selectinload(FoiRequest.questions),  # type: ignore[arg-type]
        selectinload(FoiRequest.topics),  # type: ignore[arg-type]
        selectinload(FoiRequest.responses),  # type: ignore[arg-type]
    )
    rows = list(session.exec(query.order_by(deadline, col(FoiRequest.id)).limit(limit + 1)))
    page = rows[:limit]
    entry_ids: dict[int | None, int | None] = dict(
        session.exec(
            select(DisclosureEntry.request_id, DisclosureEntry.id).where(
                col(DisclosureEntry.request_id).in_([r.id for r in page])
            )
        ).all()
    )
    next_cursor = None
    if len(rows) > limit:
        last = page[-1]
        key = last.extended_due_on or last.due_on
        next_cursor = encode_cursor("requests", [key.isoformat(), last.id])
    items = [
        RequestSummary.model_validate(_summary_fields(r, entry_ids.get(r.id), on)) for r in page
    ]
    # `total` only when counted; the route leaves out what is not set.
    counted = {"total": total} if count else {}
    return Page(items=items, next_cursor=next_cursor, **counted)
