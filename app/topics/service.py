import re
from datetime import datetime

from anyascii import anyascii
from sqlmodel import Session, col, select

from app.db import insert_missing
from app.errors import ErrorLoc, RuleViolation
from app.models import Topic, table_of
from app.tally import service as tally
from app.topics.schemas import TopicPublic

MAX_SLUG = 80
# A topic is a few words. Markup or an address in one would leave the slug with parts of a
# name or an email the privacy check cannot put together again (`<b>Jane</b> Doe` makes
# `b-jane-b-doe`).
NOT_IN_TOPICS = "<>@"


def normalise(slug: str) -> str:
    """`Facial Recognition` and `facial_recognition` are the topic `facial-recognition`. Letters
    of other scripts are written in ASCII (`Café` is `cafe`, a Cyrillic `\u0435` an `e`), not
    left out."""
    return re.sub(r"[^a-z0-9]+", "-", anyascii(slug).lower()).strip("-")


def label_for(slug: str) -> str:
    return slug.replace("-", " ").capitalize()


def slugs(raw_slugs: list[str], *, loc: ErrorLoc = ("topics",)) -> list[str]:
    """Normalised and deduplicated, in the order given; a raw slug that makes none is refused."""
    normalised: list[str] = []
    for index, raw in enumerate(raw_slugs):
        if found := sorted(set(NOT_IN_TOPICS) & set(raw)):
            raise RuleViolation(
                "topic-slug",
                f"topic {raw[:100]!r} holds {' '.join(found)}: a topic is a few words, with no "
                "markup or email address",
                loc=(*loc, index),
            )
        slug = normalise(raw)
        if not slug or len(slug) > MAX_SLUG:
            raise RuleViolation(
                "topic-slug",
                f"topic {raw[:100]!r} does not make a slug of 1-{MAX_SLUG} letters and digits",
                loc=(*loc, index),
            )
        if slug not in normalised:
            normalised.append(slug)
    return normalised


def ensure(session: Session, raw_slugs: list[str], *, loc: ErrorLoc = ("topics",)) -> list[str]:
    """Normalise slugs and create the topics not seen before; returns them deduplicated."""
    normalised = slugs(raw_slugs, loc=loc)
    known = set(session.scalars(select(Topic.slug).where(Topic.slug.in_(normalised))))  # type: ignore[attr-defined]
    new = [{"slug": slug, "label": label_for(slug)} for slug in normalised if slug not in known]
    # Another writer may create the same topic meanwhile: then theirs is the one kept.
    insert_missing(session, table_of(Topic), new)
    return normalised


def list_topics(session: Session, now: datetime) -> list[TopicPublic]:
    """Topics of public entries, with how many each has (from the tally): a topic used only by
    unpublished requests stays private."""
    counts = tally.public_by_facet(session, now, "t")
    named = labels(session, list(counts))
    return [
        TopicPublic(slug=slug, label=label, entry_count=counts[slug])
        for slug, label in sorted(named.items())
    ]


def labels(session: Session, slugs: list[str]) -> dict[str, str]:
    """The labels of these topics (those that exist), by slug."""
    rows = session.execute(select(Topic.slug, Topic.label).where(col(Topic.slug).in_(slugs)))
    return {slug: label for slug, label in rows}
