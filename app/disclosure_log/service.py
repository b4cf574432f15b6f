"""The public log: filters, keyset pages in every sort order, full text, single entries.

Pages carry the stored entry documents as they are (JSON text): at a million entries, parsing and
re-encoding each document would cost more than the query."""

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlmodel import Session, col

from app.config import get_settings
from app.db import utcnow
from app.disclosure_log.schemas import LogFilters, LogPage, Sort
from app.entries.schemas import dump
from app.entries.service import reference_key, tombstone
from app.errors import BadRequest, Gone, NotFound
from app.exemptions import service as exemptions
from app.forces import service as forces
from app.models import (
    DisclosureEntry,
    EntryExemption,
    EntryReference,
    EntryTopic,
    Law,
    Outcome,
    Topic,
)
from app.pagination import decode_cursor, encode_cursor
from app.search import SearchEngine, SearchQuery, engine_for, parse
from app.topics.service import normalise as normalise_topic
from app.visibility import public_entries

# disclosure_entry.id is an INTEGER: PostgreSQL refuses to compare it with anything larger.
MAX_ID = 2**31 - 1
Entry = DisclosureEntry


def _unknown(name: str, values: list[str], hint: str) -> BadRequest:
    listed = ", ".join(repr(v) for v in values)
    return BadRequest(
        f"unknown {name} {listed}; {hint}",
        errors=[{"loc": ["query", name], "msg": f"unknown {name} {v!r}"} for v in values],
    )


def _check(name: str, given: tuple[str, ...], known: set[str], hint: str) -> None:
    unknown = [value for value in given if value not in known]
    if unknown:
        raise _unknown(name, unknown, hint)


def _visible_topics(session: Session, slugs: list[str], now: datetime) -> set[str]:
    # A topic only unpublished requests use stays private: it is as unknown as a made-up one.
    used = (
        select(col(EntryTopic.entry_id))
        .join(Entry, col(Entry.id) == col(EntryTopic.entry_id))
        .where(col(EntryTopic.topic_slug) == col(Topic.slug), public_entries(now))
    )
    query = select(col(Topic.slug)).where(col(Topic.slug).in_(slugs), exists(used))
    return set(session.scalars(query))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def conditions(session: Session, filters: LogFilters, now: datetime) -> list[ColumnElement[bool]]:
    """What the filters (all but `q`) ask of an entry, with every value checked to exist."""
    where: list[ColumnElement[bool]] = [public_entries(now)]
    if filters.forces:
        _check("force", filters.forces, forces.known_ids(session), "GET /v1/forces lists them")
        where.append(col(Entry.force_id).in_(filters.forces))
    if filters.topics:
        slugs = [normalise_topic(t) for t in filters.topics]
        visible = _visible_topics(session, slugs, now)
        unknown = [t for t, slug in zip(filters.topics, slugs, strict=True) if slug not in visible]
        if unknown:
            raise _unknown("topic", unknown, "GET /v1/topics lists them")
        linked = select(col(EntryTopic.entry_id)).where(col(EntryTopic.topic_slug).in_(slugs))
        where.append(col(Entry.id).in_(linked))
    if filters.outcomes:
        _check("outcome", filters.outcomes, set(Outcome), f"one of {', '.join(Outcome)}")
        where.append(col(Entry.outcome).in_(filters.outcomes))
    if filters.exemptions:
        known = set(exemptions.catalogue(session))
        _check("exemption", filters.exemptions, known, "GET /v1/exemptions lists them")
        cited = select(col(EntryExemption.entry_id)).where(
            col(EntryExemption.exemption_id).in_(filters.exemptions)
        )
        where.append(col(Entry.id).in_(cited))
    if filters.law is not None:
        law = filters.law.upper()
        _check("law", (law,), set(Law), f"one of {', '.join(Law)}")
        where.append(col(Entry.law) == law)
    if filters.references:
        keys = {reference_key(r) for r in filters.references}
        known_as = select(col(EntryReference.entry_id)).where(
            col(EntryReference.reference_key).in_(keys)
        )
        where.append(col(Entry.id).in_(known_as))
    if filters.received_from is not None:
        where.append(col(Entry.received_on) >= filters.received_from)
    if filters.received_to is not None:
        where.append(col(Entry.received_on) <= filters.received_to)
    if filters.published_from is not None:
        where.append(col(Entry.published_at) >= _start_of(filters.published_from))
    if filters.published_to is not None and filters.published_to < date.max:
        where.append(col(Entry.published_at) < _start_of(filters.published_to + timedelta(1)))
    return where


def search_query(q: str | None) -> SearchQuery | None:
    if q is None or not q.strip():
        return None
    longest = get_settings().max_query_length
    if len(q) > longest:
        raise BadRequest(f"the query `q` has {len(q)} characters; at most {longest} are accepted")
    return parse(q)


def _bad_cursor(token: str) -> BadRequest:
    return BadRequest(f"cursor {token[:40]!r} is not a cursor this API issued")


def _decode(token: str, sort: Sort) -> tuple[Any, int]:
    key, last_id = decode_cursor(token, sort.value, 2)
    if type(last_id) is not int or not 0 <= last_id <= MAX_ID:
        raise _bad_cursor(token)
    try:
        if sort is Sort.RELEVANCE:
            if type(key) not in (int, float) or not math.isfinite(key):
                raise ValueError(key)
            return float(key), last_id
        if sort in (Sort.NEWEST, Sort.OLDEST):
            moment = datetime.fromisoformat(key)
            if moment.tzinfo is None:
                raise ValueError(key)
            return moment.astimezone(UTC), last_id
        return date.fromisoformat(key), last_id
    except (TypeError, ValueError, OverflowError):
        raise _bad_cursor(token) from None


def _encode(sort: Sort, key: Any, last_id: int) -> str:
    value = key if isinstance(key, float) else key.isoformat()
    return encode_cursor(sort.value, [value, last_id])


def _with_highlights(
    search: SearchEngine, session: Session, query: SearchQuery, rows: list[Any]
) -> list[str]:
    excerpts = search.highlights(session, query, [row[0] for row in rows])
    # Documents are JSON objects: splice the highlight in before the closing brace.
    return [
        f'{document[:-1]},"highlight":{orjson.dumps(excerpts.get(entry_id)).decode()}}}'
        for entry_id, document, _ in rows
    ]


def list_entries(
    session: Session,
    filters: LogFilters,
    *,
    sort: Sort | None = None,
    limit: int = 20,
    cursor: str | None = None,
    count: bool = False,
) -> LogPage:
    """One page of the public log. Keyset pagination on (sort key, id) in every order, so a page
    costs the same at any depth; `total` is counted only when asked."""
    query = search_query(filters.q)
    sort = sort or (Sort.RELEVANCE if query else Sort.NEWEST)
    if sort is Sort.RELEVANCE and query is None:
        raise BadRequest("sort=relevance ranks the matches of a query: give `q` too")
    where = conditions(session, filters, utcnow())
    search = engine_for(session.get_bind())
    entry_id = col(Entry.id)
    if sort is Sort.RELEVANCE and query is not None:
        hits = search.scored(query)
        key: Any = hits.c.score
        # Best first, then newest: ranking has no index, so relevance pages rank every match.
        statement = select(entry_id, col(Entry.document), key).join(
            hits, hits.c.entry_id == entry_id
        )
        order = [key.asc(), entry_id.desc()]
        if cursor:
            score, last = _decode(cursor, sort)
            statement = statement.where(or_(key > score, and_(key == score, entry_id < last)))
    else:
        if query is not None:
            # Only a filter: newest-first with `q` walks the date index, ranking nothing.
            where.append(search.matches(query))
        key = col(Entry.published_at) if "published_at" in sort else col(Entry.received_on)
        descending = sort.startswith("-")
        statement = select(entry_id, col(Entry.document), key)
        order = [key.desc(), entry_id.desc()] if descending else [key.asc(), entry_id.asc()]
        if cursor:
            value, last = _decode(cursor, sort)
            # The redundant first bound lets both databases seek the (key, id) index.
            if descending:
                after = and_(key <= value, or_(key < value, entry_id < last))
            else:
                after = and_(key >= value, or_(key > value, entry_id > last))
            statement = statement.where(after)
    rows = list(session.execute(statement.where(*where).order_by(*order).limit(limit + 1)))
    page = LogPage()
    if len(rows) > limit:
        rows = rows[:limit]
        page.next_cursor = _encode(sort, rows[-1][2], rows[-1][0])
    if query is not None:
        page.items = _with_highlights(search, session, query, rows)
    else:
        page.items = [document for _, document, _ in rows]
    if count:
        if query is not None and sort is Sort.RELEVANCE:
            where.append(search.matches(query))
        page.total = session.scalar(select(func.count()).select_from(Entry).where(*where))
    return page


def _public_document(entry: DisclosureEntry | None, missing: str) -> str:
    if entry is None or entry.published_at > utcnow():
        raise NotFound(missing)
    if entry.withdrawn_at is not None:
        stone = dump(tombstone(entry))
        del stone["status"]  # the problem's own `status` is 410
        raise Gone(f"entry {entry.id} was withdrawn; `reason` says why", extra=stone)
    return entry.document


def get_document(session: Session, entry_id: int) -> str:
    """The document of a published entry; a withdrawn one is Gone with its tombstone."""
    entry = session.get(DisclosureEntry, entry_id)
    return _public_document(entry, f"no published entry with id {entry_id}")


def get_document_by_reference(session: Session, force_id: str, reference: str) -> str:
    """The entry a force published under a reference or alias (case and spaces ignored)."""
    forces.get(session, force_id)
    key = reference_key(reference)
    candidates = list(
        session.scalars(
            select(Entry)
            .join(EntryReference, col(EntryReference.entry_id) == col(Entry.id))
            .where(
                col(EntryReference.force_id) == force_id,
                col(EntryReference.reference_key) == key,
                col(Entry.published_at) <= utcnow(),
            )
        )
    )
    # A live entry before a withdrawn one; its own reference before another entry's alias.
    candidates.sort(
        key=lambda e: (e.withdrawn_at is not None, reference_key(e.reference) != key, -(e.id or 0))
    )
    missing = f"{force_id} has published no entry with reference {reference[:100]!r}"
    return _public_document(candidates[0] if candidates else None, missing)
