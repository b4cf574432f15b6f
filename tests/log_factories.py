"""Plain functions that build published entries through the same path publishing takes."""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count

from sqlmodel import Session

from app import deadlines
from app.db import utcnow
from app.entries import service as entries
from app.forces import service as forces
from app.models import (
    DisclosureEntry,
    FoiAnswer,
    FoiCitation,
    FoiQuestion,
    FoiRequest,
    FoiResponse,
    Topic,
)
from app.tally import service as tally
from app.topics import service as topics_service

REQUESTER_NAME = "Jane Marlow"
REQUESTER_EMAIL = "jane.marlow@example.org"
_numbers = count(1)


@dataclass
class Cite:
    exemption: str
    provision: str
    ncnd: bool = False


@dataclass
class Spec:
    """What one entry says; defaults make a plain FOIA disclosure."""

    force: str = "metropolitan"
    reference: str | None = None
    aliases: list[str] = field(default_factory=list)
    title: str = "Police vehicle fleet"
    text: str = "Please tell me how many vehicles the force owns."
    questions: list[str] = field(default_factory=lambda: ["How many vehicles?"])
    received_on: date = date(2022, 1, 10)
    outcome: str = "disclosed_in_full"
    response_text: str = "The information is attached."
    answers: list[str] = field(default_factory=list)
    citations: list[Cite] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    published_at: datetime | None = None


def publish(session: Session, spec: Spec | None = None, **changes: object) -> DisclosureEntry:
    """Create a request with one initial response and publish it; commits."""
    spec = spec or Spec()
    for name, value in changes.items():
        setattr(spec, name, value)
    law = forces.get(session, spec.force).law
    number = next(_numbers)
    request = FoiRequest(
        force_id=spec.force,
        reference=spec.reference or f"FOI/{number:05d}",
        reference_key=entries.reference_key(spec.reference or f"FOI/{number:05d}"),
        aliases=spec.aliases,
        received_on=spec.received_on,
        title=spec.title,
        text=spec.text,
        status="responded",
        due_on=deadlines.due_on(spec.received_on, law),
        requester_name=REQUESTER_NAME,
        requester_email=REQUESTER_EMAIL,
        requester_address="1 High Street, Hertford",
        requester_category="journalist",
    )
    request.questions = [
        FoiQuestion(position=i, number=str(i + 1), text=q)  # type: ignore[call-arg]
        for i, q in enumerate(spec.questions)
    ]
    response = FoiResponse(  # type: ignore[call-arg]
        kind="initial",
        responded_on=spec.received_on + timedelta(days=20),
        outcome=spec.outcome,
        text=spec.response_text,
        signatory_name="Information Rights",
    )
    response.answers = [
        FoiAnswer(position=i, questions=[str(i + 1)], text=a)  # type: ignore[call-arg]
        for i, a in enumerate(spec.answers)
    ]
    response.citations = [
        FoiCitation(  # type: ignore[call-arg]
            position=i, exemption_id=c.exemption, provision=c.provision, ncnd=c.ncnd
        )
        for i, c in enumerate(spec.citations)
    ]
    request.responses = [response]
    slugs = topics_service.ensure(session, spec.topics)
    session.add(request)
    session.flush()
    topic_rows = [session.get_one(Topic, slug) for slug in slugs]
    entry = entries.create(
        session,
        request,
        law=law,
        title=spec.title,
        topics=topic_rows,
        published_at=spec.published_at or utcnow() - timedelta(days=1),
    )
    session.commit()
    return entry


def withdraw(session: Session, entry: DisclosureEntry, reason: str = "published in error") -> None:
    entry.withdrawn_at = utcnow()
    entry.withdrawal_reason = reason
    session.add(entry)
    session.flush()
    tally.recount(session, [entry.id])  # type: ignore[list-item]
    session.commit()


def hertfordshire(session: Session) -> DisclosureEntry:
    """The real Hertfordshire response of SPEC §1 (shortened)."""
    return publish(
        session,
        Spec(
            force="hertfordshire",
            reference="FOI2018/02892",
            title="Facial image database and facial recognition",
            text="Request about facial images and the use of facial recognition technology.",
            questions=[
                "Does the Force have a stored database of facial images?",
                "Does the force now, has it ever, or is it planning to use technology to match "
                "facial images?",
            ],
            received_on=date(2018, 5, 29),
            outcome="neither_confirm_nor_deny",
            response_text="Hertfordshire Constabulary is not currently using facial recognition "
            "technology. Hertfordshire Constabulary neither confirms nor denies that it holds "
            "information concerning the covert use of facial recognition.",
            citations=[Cite("foia-s24", "24(2)", True), Cite("foia-s31", "31(3)", True)],
            topics=["facial-recognition", "biometrics"],
            published_at=datetime(2018, 6, 27, 9, 0, tzinfo=UTC),
        ),
    )
