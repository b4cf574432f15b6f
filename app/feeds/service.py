"""The Atom 1.0 feed (RFC 4287) of the newest matching entries.

Built with the standard library's ElementTree rather than feedgen: feedgen 1.0 drops the `rel`
and `type` of entry links (a shadowed variable in FeedEntry.atom_entry), and an entry's link to
its JSON document is what a reader follows. Fifty entries of a fixed shape need no more."""

from datetime import UTC, datetime
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

import orjson
from sqlmodel import Session, col, select

from app.disclosure_log.schemas import LogFilters
from app.disclosure_log.service import selection
from app.exemptions import service as exemptions
from app.forces import service as forces
from app.models import DisclosureEntry
from app.topics import service as topics

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
TITLE = "UK police FOI disclosure log"
# An empty feed still needs `updated`; a fixed instant keeps its ETag stable.
EMPTY_FEED_UPDATED = datetime(1970, 1, 1, tzinfo=UTC)


def newest(session: Session, filters: LogFilters, now: datetime) -> list[dict[str, Any]]:
    """The documents of the newest FEED_SIZE matching entries, by published_at (even with `q`)."""
    where = selection(session, filters, now)
    published, entry_id = col(DisclosureEntry.published_at), col(DisclosureEntry.id)
    documents = session.scalars(
        select(col(DisclosureEntry.document))
        .where(*where)
        .order_by(published.desc(), entry_id.desc())
        .limit(FEED_SIZE)
    )
    return [orjson.loads(document) for document in documents]


def _moment(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _text(parent: Element, tag: str, text: str, **attributes: str) -> Element:
    element = SubElement(parent, tag, attributes)
    element.text = text
    return element


def summary(document: dict[str, Any], force_name: str, headings: dict[str, str]) -> str:
    """One line a reader can act on: who, which reference, what came of it and why."""
    parts = [f"{force_name}, reference {document['reference']}"]
    answered = document["responded_on"]
    timely = {True: " (on time)", False: " (late)"}.get(document["responded_within_deadline"], "")
    received = f"received {document['received_on']}"
    parts.append(f"{received}, answered {answered}{timely}" if answered else received)
    if document["outcome"]:
        parts.append("outcome: " + document["outcome"].replace("_", " "))
    cited = [f"{e} ({headings[e]})" if e in headings else e for e in document["exemptions"]]
    if cited:
        parts.append("exemptions: " + ", ".join(cited))
    return "; ".join(parts) + "."


def describe(session: Session, filters: LogFilters) -> list[str]:
    """What the filters select, in words a reader knows (force names, topic labels, the query),
    one phrase a filter. Call it after the filters were checked."""
    said: list[str] = []
    if filters.forces:
        said.append(" or ".join(forces.get(session, f).name for f in filters.forces))
    if filters.topics:
        slugs = [topics.normalise(t) for t in filters.topics]
        labels = topics.labels(session, slugs)
        named = (labels.get(slug, t) for slug, t in zip(slugs, filters.topics, strict=True))
        said.append("topic " + " or ".join(named))
    if filters.q and filters.q.strip():
        said.append(f"matching \u201c{filters.q.strip()}\u201d")
    if filters.outcomes:
        said.append("outcome " + " or ".join(o.replace("_", " ") for o in filters.outcomes))
    if filters.exemptions:
        headings = {e.id: e.heading for e in exemptions.catalogue(session).values()}
        cited = (f"{e} ({headings[e]})" if e in headings else e for e in filters.exemptions)
        said.append("citing " + " or ".join(cited))
    if filters.law:
        said.append(f"law {filters.law.upper()}")
    if filters.references:
        said.append("reference " + " or ".join(filters.references))
    for label, start, end in (
        ("received", filters.received_from, filters.received_to),
        ("published", filters.published_from, filters.published_to),
    ):
        if start or end:
            said.append(f"{label} {start or '…'} to {end or '…'}")
    return said


def title(session: Session, filters: LogFilters) -> str:
    """The feed's title: the log's, and what it is filtered by when it is."""
    said = describe(session, filters)
    return f"{TITLE}: {'; '.join(said)}" if said else TITLE


def atom(
    session: Session, filters: LogFilters, *, now: datetime, feed_url: str, base_url: str
) -> bytes:
    """The feed as XML at `now`; `feed_url` is its own address (its id), `base_url` the API's.
    Each entry links to its JSON document (its id) and to its HTML page."""
    documents = newest(session, filters, now)
    names = {f: forces.get(session, f).name for f in {d["force"] for d in documents}}
    headings = {e.id: e.heading for e in exemptions.catalogue(session).values()}
    feed = Element("feed", {"xmlns": ATOM})
    _text(feed, "id", feed_url)
    _text(feed, "title", title(session, filters))
    _text(feed, "subtitle", "Freedom of Information responses published by UK police forces")
    updated = max((_moment(d["updated_at"]) for d in documents), default=EMPTY_FEED_UPDATED)
    _text(feed, "updated", _rfc3339(updated))
    SubElement(feed, "link", {"rel": "self", "type": "application/atom+xml", "href": feed_url})
    _text(SubElement(feed, "author"), "name", "foilog")
    _text(feed, "generator", "foilog")
    for document in documents:
        url = f"{base_url}/v1/disclosure-log/{document['id']}"
        entry = SubElement(feed, "entry")
        _text(entry, "id", url)
        _text(entry, "title", document["title"])
        _text(entry, "published", _rfc3339(_moment(document["published_at"])))
        _text(entry, "updated", _rfc3339(_moment(document["updated_at"])))
        _text(SubElement(entry, "author"), "name", names[document["force"]])
        SubElement(entry, "link", {"rel": "alternate", "type": "application/json", "href": url})
        page = f"{base_url}/disclosure-log/{document['id']}"
        SubElement(entry, "link", {"rel": "alternate", "type": "text/html", "href": page})
        for topic in document["topics"]:
            SubElement(entry, "category", {"term": topic})
        _text(entry, "summary", summary(document, names[document["force"]], headings))
    xml: bytes = tostring(feed, encoding="utf-8", xml_declaration=True)
    return xml
