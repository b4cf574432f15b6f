"""Responses and their citations: the consistency rules of SPEC §1."""

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlmodel import Session

from app import privacy
from app.audit import service as audit
from app.db import utcnow
from app.entries import service as entries
from app.entries.schemas import Citation, ResponseBody
from app.errors import ErrorLoc, NotFound, RuleViolation
from app.exemptions import service as exemptions
from app.exemptions.service import Catalogue
from app.foi_requests import service as requests
from app.foi_requests.schemas import ResponseInternal
from app.foi_responses.schemas import ResponseUpdate
from app.keys.schemas import Actor
from app.models import (
    ExemptionKind,
    FoiAnswer,
    FoiCitation,
    FoiRequest,
    FoiResponse,
    Law,
    Outcome,
    RequestStatus,
    ResponseKind,
)
from app.preconditions import check_if_match, version_etag

BODY: ErrorLoc = ("body",)
NEEDS_CITATION = (Outcome.REFUSED, Outcome.PARTIALLY_DISCLOSED)
# A response moves a request still being worked on to `responded`; a closed one stays closed.
ANSWERABLE = (
    RequestStatus.RECEIVED,
    RequestStatus.AWAITING_CLARIFICATION,
    RequestStatus.IN_PROGRESS,
    RequestStatus.UNDER_REVIEW,
)


def etag(response: FoiResponse) -> str:
    return version_etag("response", response.id, response.version)


def citable_laws(law: str) -> set[str]:
    # Scotland's own environmental regulations are out of scope: Police Scotland cites FOISA only.
    return {Law.FOIA, Law.EIR} if law == Law.FOIA else {law}


def check_outcome(body: ResponseBody, *, loc: ErrorLoc) -> None:
    where = (*loc, "citations")
    outcome = body.outcome
    if outcome == Outcome.NEITHER_CONFIRM_NOR_DENY and not any(c.ncnd for c in body.citations):
        raise RuleViolation(
            "outcome-citations",
            "neither_confirm_nor_deny needs at least one citation with ncnd: true",
            loc=where,
        )
    if outcome in NEEDS_CITATION and not body.citations:
        raise RuleViolation(
            "outcome-citations", f"{outcome.value} needs at least one citation", loc=where
        )
    if outcome == Outcome.DISCLOSED_IN_FULL and body.citations:
        raise RuleViolation("outcome-citations", "disclosed_in_full cites no exemption", loc=where)


def check(
    body: ResponseBody,
    *,
    received_on: date,
    law: str,
    questions: set[str],
    catalogue: Catalogue,
    loc: ErrorLoc = BODY,
) -> None:
    """Every rule a response must keep against its request and the exemption catalogue."""
    if body.responded_on < received_on:
        raise RuleViolation(
            "response-date",
            f"a response ({body.responded_on}) cannot precede the request ({received_on})",
            loc=(*loc, "responded_on"),
        )
    if body.responded_on > requests.today():
        raise RuleViolation(
            "response-date",
            f"a response cannot be dated in the future ({body.responded_on})",
            loc=(*loc, "responded_on"),
        )
    for i, answer in enumerate(body.answers):
        requests.check_question_refs(
            answer.questions, questions, loc=(*loc, "answers", i, "questions")
        )
    laws = citable_laws(law)
    for i, citation in enumerate(body.citations):
        where = (*loc, "citations", i)
        exemption = catalogue.get(citation.exemption)
        if exemption is None:
            raise RuleViolation(
                "exemption-unknown",
                f"no exemption {citation.exemption!r}; GET /v1/exemptions lists them",
                loc=(*where, "exemption"),
            )
        if exemption.law not in laws:
            raise RuleViolation(
                "exemption-law",
                f"{exemption.id} is a provision of {exemption.law}; a {law} force cites "
                f"{' or '.join(sorted(laws))}",
                loc=(*where, "exemption"),
            )
        if not catalogue.cites(exemption.id, citation.provision):
            noun = "regulation" if exemption.law == Law.EIR else "section"
            raise RuleViolation(
                "citation-provision",
                f"{citation.provision!r} is not a provision of {exemption.id}: cite {noun} "
                f"{' or '.join(catalogue.heads(exemption.id))} of the {exemption.law}, or a "
                "subdivision of it, as the letter prints it",
                loc=(*where, "provision"),
            )
        if citation.ncnd and exemption.ncnd_subsection is None:
            raise RuleViolation(
                "ncnd-not-available",
                f"{exemption.id} has no neither-confirm-nor-deny provision",
                loc=(*where, "ncnd"),
            )
        if citation.ncnd and not catalogue.cites_ncnd(exemption.id, citation.provision):
            # Only that subsection excludes the duty to confirm or deny (s31(3), not s31(1)):
            # a response relying on it cites it, alone or beside the part it would withhold under.
            raise RuleViolation(
                "ncnd-provision",
                f"{citation.provision!r} is not the neither-confirm-nor-deny provision of "
                f"{exemption.id}, {exemption.ncnd_subsection}: with ncnd: true, cite it (alone "
                "or beside the part relied on), or set ncnd: false",
                loc=(*where, "provision"),
            )
        # Only a section the catalogue marks absolute as a whole: a mixed one (FOIA ss36, 37,
        # 40, EIR 13, FOISA ss36, 38) is absolute or qualified by the part or the condition
        # relied on (s40(2): the first condition or the second), which a citation need not say.
        if citation.public_interest is not None and exemption.kind == ExemptionKind.ABSOLUTE:
            raise RuleViolation(
                "public-interest-absolute",
                f"{exemption.id} is an absolute exemption: no public interest test applies",
                loc=(*where, "public_interest"),
            )
        requests.check_question_refs(citation.questions, questions, loc=(*where, "questions"))
    check_ncnd_partners(body, catalogue=catalogue, loc=loc)
    check_outcome(body, loc=loc)


def check_ncnd_partners(body: ResponseBody, *, catalogue: Catalogue, loc: ErrorLoc) -> None:
    """FOISA s18(1) lets a force refuse to say whether it holds what an exemption would cover:
    it is cited beside such an exemption, with `ncnd: true`, never alone; and that exemption
    has no such provision of its own, so with `ncnd: true` it is cited beside s18(1)."""
    ncnd = {c.exemption for c in body.citations if c.ncnd}
    for i, citation in enumerate(body.citations):
        partners = catalogue.ncnd_partners(citation.exemption)
        if partners and not ncnd.intersection(partners):
            raise RuleViolation(
                "ncnd-provision-alone",
                f"{citation.exemption} is used together with an exemption it applies to, "
                f"cited with ncnd: true: one of {', '.join(partners)}",
                loc=(*loc, "citations", i, "exemption"),
            )
        held_by = catalogue.ncnd_held_by(citation.exemption)
        if citation.ncnd and held_by and not ncnd.intersection(held_by):
            holder = catalogue[held_by[0]]
            raise RuleViolation(
                "ncnd-provision",
                f"{citation.exemption} neither confirms nor denies only under section "
                f"{holder.ncnd_subsection} ({holder.id}): cite {holder.id} beside it, with "
                "ncnd: true, or set ncnd: false",
                loc=(*loc, "citations", i, "ncnd"),
            )


def check_initial_unique(
    dated: Sequence[tuple[str, date]], *, loc: Callable[[int], ErrorLoc]
) -> None:
    """A request's responses as (kind, date) hold one initial response: the force answers a
    request once, and every later answer is an internal review of that one. `loc` places the
    response at `i`."""
    first: date | None = None
    for i, (kind, on) in enumerate(dated):
        if kind != ResponseKind.INITIAL:
            continue
        if first is not None:
            raise RuleViolation(
                "initial-unique",
                f"a request has one initial response, and this request's is dated {first}: "
                "a later answer is an internal review (kind: internal_review)",
                loc=(*loc(i), "kind"),
            )
        first = on


def check_reviews(dated: Sequence[tuple[str, date]], *, loc: Callable[[int], ErrorLoc]) -> None:
    """A request's responses as (kind, date): each internal review reviews an initial
    response, so one must be dated on or before it. `loc` places the response at `i`."""
    first = min((on for kind, on in dated if kind == ResponseKind.INITIAL), default=None)
    for i, (kind, on) in enumerate(dated):
        if kind != ResponseKind.INTERNAL_REVIEW:
            continue
        if first is None:
            raise RuleViolation(
                "review-initial",
                "an internal review reviews the initial response, and the request has none",
                loc=(*loc(i), "kind"),
            )
        if on < first:
            raise RuleViolation(
                "review-initial",
                f"an internal review ({on}) cannot precede the initial response it reviews "
                f"({first})",
                loc=(*loc(i), "responded_on"),
            )


def check_all(
    bodies: Sequence[ResponseBody],
    *,
    received_on: date,
    law: str,
    questions: set[str],
    catalogue: Catalogue,
    loc: ErrorLoc,
) -> None:
    """Every rule a request's whole list of responses keeps (an import line's), each response
    alone and together; `loc` is the list's."""
    for i, body in enumerate(bodies):
        check(
            body,
            received_on=received_on,
            law=law,
            questions=questions,
            catalogue=catalogue,
            loc=(*loc, i),
        )
    dated = [(b.kind, b.responded_on) for b in bodies]
    check_initial_unique(dated, loc=lambda i: (*loc, i))
    check_reviews(dated, loc=lambda i: (*loc, i))


def columns(body: ResponseBody) -> dict[str, Any]:
    """A response's own columns, as the body gives them."""
    return {
        "kind": body.kind,
        "responded_on": body.responded_on,
        "outcome": body.outcome,
        "text": body.text,
        "signatory_name": body.signatory.name if body.signatory else None,
        "signatory_role": body.signatory.role if body.signatory else None,
    }


def citation_columns(citation: Citation) -> dict[str, Any]:
    columns = citation.model_dump(by_alias=True, exclude={"exemption"})
    return {**columns, "exemption_id": citation.exemption}


def fill(response: FoiResponse, body: ResponseBody) -> None:
    for name, value in columns(body).items():
        setattr(response, name, value)
    response.answers = [
        FoiAnswer(position=i, questions=a.questions, text=a.text)  # type: ignore[call-arg]
        for i, a in enumerate(body.answers)
    ]
    response.citations = [
        FoiCitation(position=i, **citation_columns(c)) for i, c in enumerate(body.citations)
    ]


def body_of(response: FoiResponse) -> ResponseBody:
    return ResponseBody.model_validate(entries._response(response))


def _check_against(
    session: Session, body: ResponseBody, request: FoiRequest, *, replacing: int | None = None
) -> None:
    """The rules `body` keeps as a response of `request`, in place of the response
    `replacing` when it corrects one; whichever response a review rule finds out of order,
    the error names the body's field, the one this write can change."""
    check(
        body,
        received_on=request.received_on,
        law=requests.law_of(session, request.force_id),
        questions={q.number for q in request.questions},
        catalogue=exemptions.catalogue(session),
    )
    others = [(r.kind, r.responded_on) for r in request.responses if r.id != replacing]
    dated = [*others, (body.kind, body.responded_on)]
    if body.kind == ResponseKind.INITIAL:
        # Only a write that makes the body an initial response is refused for a second one: a
        # request recorded with two before the rule keeps its reviews correctable.
        check_initial_unique(dated, loc=lambda _: BODY)
    check_reviews(dated, loc=lambda _: BODY)


def _save(
    session: Session,
    request: FoiRequest,
    response: FoiResponse,
    *,
    actor: Actor,
    action: str,
    before: ResponseInternal | None,
    acknowledge: bool,
) -> None:
    """Write a new or corrected response, audit it, and bring its published entry up to date."""
    requests.touch(request)
    session.add_all([response, request])
    session.flush()
    entry = requests.live_entry(session, request.id)
    acknowledged = []
    if entry is not None:
        acknowledged = privacy.guard(
            request,
            entry.title,
            topics=entry.topics,
            acknowledged=acknowledge,
            acknowledge=privacy.IN_QUERY,
        )
    after = requests.response_internal(response)
    audit.record(
        session, actor, action, "response", response.id, before, after, acknowledged=acknowledged
    )
    if entry is not None:
        entries.refresh(session, entry)
    session.commit()


def add(
    session: Session,
    request_id: int,
    body: ResponseBody,
    *,
    actor: Actor,
    if_match: str | None = None,
    acknowledge_privacy_warning: bool = False,
) -> FoiResponse:
    """Answer a request (initial response or internal review); its entry, if published,
    shows the new response and takes its outcome."""
    request = requests.get_request(session, request_id, actor=actor, hold=True)
    check_if_match(if_match, requests.etag(request))
    requests.check_not_withdrawn(request, loc=("path", "request_id"))
    _check_against(session, body, request)
    response = FoiResponse(request_id=request_id)  # type: ignore[call-arg]
    fill(response, body)
    request.responses.append(response)
    if request.status in ANSWERABLE:
        request.status = RequestStatus.RESPONDED
    _save(
        session,
        request,
        response,
        actor=actor,
        action="response.create",
        before=None,
        acknowledge=acknowledge_privacy_warning,
    )
    return response


def get_response(session: Session, response_id: int, *, actor: Actor) -> FoiResponse:
    """A response the key may act on: 404 if there is none, 403 if its request's force is
    outside the key's scope."""
    response = session.get(FoiResponse, response_id)
    request = session.get(FoiRequest, response.request_id) if response is not None else None
    if response is None or request is None:
        raise NotFound(f"no response with id {response_id}")
    requests.check_scope_of(actor, request.force_id, f"response {response_id}")
    return response


def correct(
    session: Session,
    response_id: int,
    changes: ResponseUpdate,
    *,
    actor: Actor,
    if_match: str | None = None,
    acknowledge_privacy_warning: bool = False,
) -> FoiResponse:
    """Correct a response: the fields given replace its own, and every rule is checked again."""
    response = get_response(session, response_id, actor=actor)
    request = requests.get_request(session, response.request_id, actor=actor, hold=True)
    session.refresh(response)
    check_if_match(if_match, etag(response))
    if not changes.model_fields_set:
        return response  # an empty patch changes nothing: no new version, nothing audited
    requests.check_not_withdrawn(request, loc=("path", "response_id"))
    before = requests.response_internal(response)
    merged = body_of(response).model_dump(by_alias=True)
    merged.update(changes.model_dump(by_alias=True, exclude_unset=True, exclude_none=True))
    if "signatory" in changes.model_fields_set and changes.signatory is None:
        merged["signatory"] = None
    body = ResponseBody.model_validate(merged)
    _check_against(session, body, request, replacing=response.id)
    fill(response, body)
    response.version += 1
    response.updated_at = utcnow()
    _save(
        session,
        request,
        response,
        actor=actor,
        action="response.update",
        before=before,
        acknowledge=acknowledge_privacy_warning,
    )
    return response
