import re
import unicodedata
from datetime import datetime

from anyascii import anyascii
from sqlmodel import Session, col, select

from app.db import insert_missing
from app.errors import ErrorLoc, RuleViolation
from app.models import Topic, table_of
from app.tally import service as tally
from app.topics.schemas import TopicPublic

MAX_SLUG = 80
MAX_LABEL = 120
# What a slug given as a slug looks like: lower-case letters and digits, joined by - or _.
SLUG_FORM = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
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
    """The label of a topic first given as a slug: `facial-recognition` is `Facial recognition`."""
    return slug.replace("-", " ").capitalize()


def label_of(raw: str) -> str | None:
    """The label a topic takes from the form it is first given in: words keep their own letters
    and case (`ANPR`, `IT contracts`, `Café culture`; all in lower case, the first is made a
    capital), with white space made single spaces and invisible format characters dropped. None
    for a slug (`drone-use`, `cctv`): `label_for` labels it, as every topic was before."""
    visible = (c for c in unicodedata.normalize("NFC", raw) if unicodedata.category(c) != "Cf")
    words = " ".join("".join(visible).split())
    if SLUG_FORM.fullmatch(words) or len(words) > MAX_LABEL:
        return None
    if not any(c.isupper() for c in words):
        return words[:1].upper() + words[1:]
    return words


def given(raw_slugs: list[str], *, loc: ErrorLoc = ("topics",)) -> dict[str, str]:
    """The slugs of raw slugs, deduplicated in the order given, each with its label: from its
    first form in words (`label_of`), else from the slug. A raw slug that makes none is
    refused."""
    labels: dict[str, str | None] = {}
    for raw, slug in zip(raw_slugs, _slugs(raw_slugs, loc=loc), strict=True):
        if labels.get(slug) is None:
            labels[slug] = label_of(raw)
    return {slug: label or label_for(slug) for slug, label in labels.items()}


def _slugs(raw_slugs: list[str], *, loc: ErrorLoc) -> list[str]:
    """Each raw slug's slug, in the order given; a raw slug that makes none is refused."""
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
        normalised.append(slug)
    return normalised


def ensure(session: Session, raw_slugs: list[str], *, loc: ErrorLoc = ("topics",)) -> list[str]:
    """Normalise slugs and create the topics not seen before, labelled as first given
    (`given`); returns them deduplicated. A topic keeps the label it was created with."""
    labels = given(raw_slugs, loc=loc)
    normalised = list(labels)
    known = set(session.scalars(select(Topic.slug).where(Topic.slug.in_(normalised))))  # type: ignore[attr-defined]
    new = [{"slug": slug, "label": labels[slug]} for slug in normalised if slug not in known]
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
