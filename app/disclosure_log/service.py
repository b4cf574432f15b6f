"""The public log: filters, keyset pages in every sort order, full text, single entries.

Pages carry the stored entry documents as they are (JSON text): at a million entries, parsing and
re-encoding each document would cost more than the query."""

from collections.abc import Set as AbstractSet
from dataclasses import fields
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlmodel import Session

from app.config import get_settings
from app.db import planned_once, planned_size, utf8_bytes
from app.disclosure_log.schemas import LogFilters, LogPage, Sort
from app.entries.schemas import dump
from app.entries.service import reference_key, tombstone
from app.errors import BadRequest, Gone, MultipleChoices, NotFound
from app.exemptions import service as exemptions
from app.forces import service as forces
from app.models import (
    MAX_ID,
    DisclosureEntry,
    EntryExemption,
    EntryReference,
    EntryTopic,
    Law,
    Outcome,
    RoundRobin,
    RoundRobinEntry,
    Topic,
    table_of,
)
from app.pagination import decode_cursor, encode_cursor
from app.search import SearchEngine, SearchQuery, engine_for, parse
from app.search.pages import OLDER, RANKED_WINDOW, RankedPosition, relevance_page
from app.topics.service import normalise as normalise_topic
from app.visibility import public_entries

# Statements of table columns, not of the models' attributes (`table_of`).
_entries = table_of(DisclosureEntry)
_entry = _entries.c
_topic_links = table_of(EntryTopic)
_topic_link = _topic_links.c
_citation = table_of(EntryExemption).c
_references = table_of(EntryReference)
_known_as = _references.c
_group = table_of(RoundRobin).c
_member = table_of(RoundRobinEntry).c
_topic = table_of(Topic).c


def _unknown(name: str, values: list[str], hint: str) -> BadRequest:
    listed = ", ".join(repr(v) for v in values)
    return BadRequest(
        f"unknown {name} {listed}; {hint}",
        errors=[{"loc": ["query", name], "msg": f"unknown {name} {v!r}"} for v in values],
    )


# An entry's law is its force's (SPEC §1); the EIR are regulations FOIA forces also answer
# under, seen in the exemptions a response cites.
ENTRY_LAWS = {Law.FOIA, Law.FOISA}
ENTRY_LAWS_HINT = (
    "an entry's law is its force's, FOIA or FOISA; an answer under the EIR cites their "
    "exemptions: filter by exemption (GET /v1/exemptions?law=EIR lists them)"
)


def _check(name: str, given: tuple[str, ...], known: AbstractSet[str], hint: str) -> None:
    unknown = [value for value in given if value not in known]
    if unknown:
        raise _unknown(name, unknown, hint)


def _visible_topics(session: Session, slugs: list[str], now: datetime) -> set[str]:
    # A topic only unpublished requests use stays private: it is as unknown as a made-up one.
    used = (
        select(_topic_link.entry_id)
        .join(_entries, _entry.id == _topic_link.entry_id)
        .where(_topic_link.topic_slug == _topic.slug, public_entries(now))
    )
    query = select(_topic.slug).where(_topic.slug.in_(slugs), exists(used))
    return set(session.scalars(planned_once(query)))


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def conditions(
    session: Session, filters: LogFilters, now: datetime, *, topic_walked: bool = False
) -> list[ColumnElement[bool]]:
    """What the filters (all but `q`) ask of an entry, with every value checked to exist.
    `topic_walked`: the caller reads the entries through the topic's links, so the topic is
    checked here but asks nothing more of the entry."""
    where: list[ColumnElement[bool]] = [public_entries(now)]
    if filters.forces:
        _check("force", filters.forces, forces.known_ids(session), "GET /v1/forces lists them")
        where.append(_entry.force_id.in_(filters.forces))
    if filters.topics:
        slugs = [normalise_topic(t) for t in filters.topics]
        visible = _visible_topics(session, slugs, now)
        unknown = [t for t, slug in zip(filters.topics, slugs, strict=True) if slug not in visible]
        if unknown:
            raise _unknown("topic", unknown, "GET /v1/topics lists them")
        if not topic_walked:
            where.append(_linked_to(slugs))
    if filters.outcomes:
        _check("outcome", filters.outcomes, set(Outcome), f"one of {', '.join(Outcome)}")
        where.append(_entry.outcome.in_(filters.outcomes))
    if filters.exemptions:
        known = exemptions.known_ids(session)
        _check("exemption", filters.exemptions, known, "GET /v1/exemptions lists them")
        cited = select(_citation.entry_id).where(_citation.exemption_id.in_(filters.exemptions))
        where.append(_entry.id.in_(cited))
    if filters.law is not None:
        law = filters.law.upper()
        _check("law", (law,), ENTRY_LAWS, ENTRY_LAWS_HINT)
        where.append(_entry.law == law)
    if filters.references:
        keys = {reference_key(r) for r in filters.references}
        if "" in keys:
            raise BadRequest(
                "reference is empty; give a reference or alias, or leave the parameter out",
                errors=[{"loc": ["query", "reference"], "msg": "empty reference"}],
            )
        known_as = select(_known_as.entry_id).where(_known_as.reference_key.in_(keys))
        where.append(_entry.id.in_(known_as))
    if filters.received_from is not None:
        where.append(_entry.received_on >= filters.received_from)
    if filters.received_to is not None:
        where.append(_entry.received_on <= filters.received_to)
    if filters.published_from is not None:
        where.append(_entry.published_at >= _start_of(filters.published_from))
    if filters.published_to is not None and filters.published_to < date.max:
        where.append(_entry.published_at < _start_of(filters.published_to + timedelta(1)))
    if filters.round_robins:
        where.append(_in_round_robins(session, filters.round_robins))
    return where


def _linked_to(slugs: list[str]) -> ColumnElement[bool]:
    linked = select(_topic_link.entry_id).where(_topic_link.topic_slug.in_(slugs))
    return _entry.id.in_(linked)


def _in_round_robins(session: Session, given: tuple[str, ...]) -> ColumnElement[bool]:
    ids = {int(v) for v in given if v.isascii() and v.isdigit() and 0 < int(v) <= MAX_ID}
    known = {str(i) for i in session.scalars(select(_group.id).where(_group.id.in_(ids)))}
    _check("round_robin", given, known, "GET /v1/round-robins lists them")
    grouped = select(_member.entry_id).where(_member.round_robin_id.in_([int(v) for v in given]))
    return _entry.id.in_(grouped)


def search_query(q: str | None) -> SearchQuery | None:
    if q is None or not q.strip():
        return None
    longest = get_settings().max_query_length
    if len(q) > longest:
        raise BadRequest(f"the query `q` has {len(q)} characters; at most {longest} are accepted")
    return parse(q)


def selection(session: Session, filters: LogFilters, now: datetime) -> list[ColumnElement[bool]]:
    """What the log's filters and `q` ask of an entry, ranking nothing: the conditions its
    feeds, exports and stats share. Unknown filter values raise here, before any output."""
    where = conditions(session, filters, now)
    query = search_query(filters.q)
    if query is not None:
        where.append(engine_for(session.get_bind()).matches(query))
    return where


def _bad_cursor(token: str) -> BadRequest:
    return BadRequest(f"cursor {token[:40]!r} is not a cursor this API issued")


def _decode_ranked(token: str) -> RankedPosition:
    listed, last_id, top = decode_cursor(token, Sort.RELEVANCE.value, 3)
    ids = all(type(v) is int and 0 <= v <= MAX_ID for v in (last_id, top))
    if not ids or type(listed) is not int or not (listed == OLDER or 0 < listed <= RANKED_WINDOW):
        raise _bad_cursor(token)
    return RankedPosition(listed, last_id, top)


def _decode(token: str, sort: Sort) -> tuple[Any, int]:
    key, last_id = decode_cursor(token, sort.value, 2)
    if type(last_id) is not int or not 0 <= last_id <= MAX_ID:
        raise _bad_cursor(token)
    try:
        if sort in (Sort.NEWEST, Sort.OLDEST):
            moment = datetime.fromisoformat(key)
            if moment.tzinfo is None:
                raise ValueError(key)
            return moment.astimezone(UTC), last_id
        return date.fromisoformat(key), last_id
    except (TypeError, ValueError, OverflowError):
        raise _bad_cursor(token) from None


def _encode(sort: Sort, key: Any, last_id: int) -> str:
    return encode_cursor(sort.value, [key.isoformat(), last_id])


_DOCUMENTS = planned_once(
    select(_entry.id, utf8_bytes(_entry.document)).where(
        _entry.id.in_(bindparam("ids", expanding=True))
    )
)


def _documents(
    session: Session, search: SearchEngine, query: SearchQuery | None, ids: list[int]
) -> list[bytes]:
    """The stored documents of a page, in page order, with highlights when searching."""
    if not ids:
        return []
    # The last id repeated up to a planned size (`planned_size`): IN reads each id once.
    padded = ids + ids[-1:] * (planned_size(len(ids)) - len(ids))
    found = dict(session.execute(_DOCUMENTS, {"ids": padded}).all())
    # An entry deleted in between (PostgreSQL reads each statement afresh) is left out.
    ids = [entry_id for entry_id in ids if entry_id in found]
    if query is None:
        return [found[entry_id] for entry_id in ids]
    excerpts = search.highlights(session, query, ids)
    # Documents are JSON objects: splice the highlight in before the closing brace.
    return [
        found[entry_id][:-1] + b',"highlight":' + orjson.dumps(excerpts.get(entry_id)) + b"}"
        for entry_id in ids
    ]


Position = tuple[Any, int] | None


class _DateOrder:
    """Keyset over (key, id) in one direction; the page query selects only the two."""

    def __init__(self, sort: Sort) -> None:
        self.key: Any = _entry.published_at if "published_at" in sort else _entry.received_on
        self.entry_id: Any = _entry.id
        self.descending = sort.startswith("-")

    @property
    def order(self) -> list[Any]:
        if self.descending:
            return [self.key.desc(), self.entry_id.desc()]
        return [self.key.asc(), self.entry_id.asc()]

    def after(self, position: Position) -> ColumnElement[bool]:
        if position is None:
            return true()
        value, last = position
        key, entry_id = self.key, self.entry_id
        # The redundant first bound lets both databases seek the (key, id) index.
        if self.descending:
            return and_(key <= value, or_(key < value, entry_id < last))
        return and_(key >= value, or_(key > value, entry_id > last))

    def selected(self, where: list[ColumnElement[bool]], position: Position) -> Select[Any]:
        # The keyset's bound first: SQLite seeks the index on the first bound of the key it
        # meets, and the public `published_at <= now` in `where` would start a deep page at the
        # newest entry and walk down to the cursor (6.5 ms against 0.1 at 100,000 entries).
        return select(self.entry_id, self.key).where(self.after(position), *where)

    def page(
        self,
        session: Session,
        where: list[ColumnElement[bool]],
        position: Position,
        size: int,
        *,
        blind: bool = False,
    ) -> list[tuple[int, Any]]:
        """`blind`: `where` asks nothing whose plan depends on its values (`_value_blind`)."""
        statement = self.selected(where, position).order_by(*self.order)
        if not blind:
            return list(session.execute(statement.limit(size)))
        # The size written in: a plan for any size expects a tenth of the rows, and sorted
        # them (a cursor page 40,000 entries deep: 25 ms, against 0.3 walking the index).
        written = bindparam("page_size", planned_size(size), type_=Integer, literal_execute=True)
        rows: list[tuple[int, Any]] = list(session.execute(planned_once(statement.limit(written))))
        return rows[:size]


class _TopicDateOrder(_DateOrder):
    """Publication order within one topic: a walk of the topic's (slug, published_at, entry)
    index that reads only the entries it keeps, not every entry of the topic (fraud at
    100,000 entries: 0.3 ms, where reading its 3,900 entries to sort them took 23-42 ms)."""

    def __init__(self, sort: Sort, slug: str, now: datetime) -> None:
        super().__init__(sort)
        self.key = _topic_link.published_at
        self.entry_id = _topic_link.entry_id
        self.slug, self.now = slug, now

    def selected(self, where: list[ColumnElement[bool]], position: Position) -> Select[Any]:
        return (
            select(self.entry_id, self.key)
            .join(_entries, _entry.id == self.entry_id)
            .where(
                _topic_link.topic_slug == self.slug,
                self.after(position),
                self.key <= self.now,
                *where,
            )
        )


def _value_blind(filters: LogFilters, sort: Sort, walked: str | None) -> bool:
    """Whether a page in publication order has the same best plan for any values of its
    filters: one force (its index walked in order), or the one topic it walks, alone. Two
    forces, a force in a topic, or any other filter or a query are planned for their values:
    how common they are decides the plan (two rare forces under a plan for any two walked the
    whole date index, 48 ms, against 0.12 taking their entries and sorting them)."""
    given = {f.name for f in fields(LogFilters) if getattr(filters, f.name) not in (None, ())}
    if "published_at" not in sort:
        return False
    if walked is not None:
        return given == {"topics"}
    return given <= {"forces"} and len(set(filters.forces)) <= 1


def _walked_topic(filters: LogFilters, sort: Sort, query: SearchQuery | None) -> str | None:
    """The one topic whose links a page in publication order is read through, if any."""
    if len(filters.topics) != 1 or "published_at" not in sort or query is not None:
        return None
    return normalise_topic(filters.topics[0])


def _date_matches(
    session: Session,
    search: SearchEngine,
    query: SearchQuery,
    order: _DateOrder,
    where: list[ColumnElement[bool]],
    position: Position,
    size: int,
) -> list[tuple[int, Any]]:
    """The next `size` matches in date order, in one query: the engine chooses whether the
    date index is walked with each entry tested, or the matches are taken and sorted."""
    matching = search.matches_in_order(session, query, size)
    return order.page(session, [*where, matching], position, size)


def list_entries(
    session: Session,
    filters: LogFilters,
    *,
    now: datetime,
    sort: Sort | None = None,
    limit: int = 20,
    cursor: str | None = None,
    count: bool = False,
) -> LogPage:
    """One page of the public log. Keyset pagination on (sort key, id) in every order, so a page
    costs the same at any depth; `total` is counted only when asked. The page is chosen on the
    narrow (id, key) columns first and its documents read after, so no sort ever carries them.
    `now` is the moment the page shows the log as of (a caller that tagged it passes the same)."""
    query = search_query(filters.q)
    sort = sort or (Sort.RELEVANCE if query else Sort.NEWEST)
    if sort is Sort.RELEVANCE and query is None:
        raise BadRequest("sort=relevance ranks the matches of a query: give `q` too")
    walked = _walked_topic(filters, sort, query)
    where = conditions(session, filters, now, topic_walked=walked is not None)
    search = engine_for(session.get_bind())
    ranked_at = _decode_ranked(cursor) if cursor and sort is Sort.RELEVANCE else None
    position = _decode(cursor, sort) if cursor and sort is not Sort.RELEVANCE else None
    rows: list[tuple[int, Any]]
    ranking = None
    top = 0
    if sort is Sort.RELEVANCE and query is not None:
        ranked = relevance_page(session, search, query, where, ranked_at, limit + 1)
        rows, ranking, top = list(ranked.rows), ranked.note, ranked.top
    elif query is not None:
        rows = _date_matches(session, search, query, _DateOrder(sort), where, position, limit + 1)
    else:
        blind = _value_blind(filters, sort, walked)
        order = _DateOrder(sort) if walked is None else _TopicDateOrder(sort, walked, now)
        rows = order.page(session, where, position, limit + 1, blind=blind)
    page = LogPage(ranking=ranking)
    if len(rows) > limit:
        rows = rows[:limit]
        key, last_id = rows[-1][1], rows[-1][0]
        page.next_cursor = (
            encode_cursor(sort.value, [key, last_id, top])
            if sort is Sort.RELEVANCE
            else _encode(sort, key, last_id)
        )
    page.items = _documents(session, search, query, [entry_id for entry_id, _ in rows])
    if count:
        if query is not None:
            where.append(search.matches(query))
        if walked is not None:
            where.append(_linked_to([walked]))
        page.total = session.scalar(select(func.count()).select_from(_entries).where(*where))
    return page


# What a lookup reads of an entry: its document and enough for a tombstone, not the whole row
# (search_text is as long again as the document) nor an ORM object.
_LOOKUP = select(
    _entry.id,
    _entry.force_id,
    _entry.reference,
    _entry.published_at,
    _entry.withdrawn_at,
    _entry.withdrawal_reason,
    utf8_bytes(_entry.document).label("document"),
)


_BY_ID = planned_once(_LOOKUP.where(_entry.id == bindparam("id")))
# The entries a force published (`now`) under a reference key or alias key (`force`, `key`).
_BY_REFERENCE = planned_once(
    _LOOKUP.join(_references, _known_as.entry_id == _entry.id).where(
        _known_as.force_id == bindparam("force"),
        _known_as.reference_key == bindparam("key"),
        _entry.published_at <= bindparam("now"),
    )
)


def _public_document(entry: Row[Any] | None, missing: str, now: datetime) -> bytes:
    if entry is None or entry.published_at > now:
        raise NotFound(missing)
    if entry.withdrawn_at is not None:
        stone = dump(tombstone(entry))
        del stone["status"]  # the problem's own `status` is 410
        raise Gone(f"entry {entry.id} was withdrawn; `reason` says why", extra=stone)
    document: bytes = entry.document
    return document


def get_document(session: Session, entry_id: int, *, now: datetime) -> bytes:
    """The document of an entry published at `now`; a withdrawn one is Gone with its
    tombstone."""
    entry = session.execute(_BY_ID, {"id": entry_id}).first()
    return _public_document(entry, f"no published entry with id {entry_id}", now)


def get_document_by_reference(
    session: Session, force_id: str, reference: str, *, now: datetime
) -> bytes:
    """The entry a force published under a reference or alias (case and spaces ignored). A live
    entry answers before a withdrawn one; two of the same standing (entries stored before
    migration 0027 made names unique may share one) are a 300 that lists them both."""
    forces.require(session, force_id)
    key = reference_key(reference)
    candidates = list(session.execute(_BY_REFERENCE, {"force": force_id, "key": key, "now": now}))
    named = [e for e in candidates if e.withdrawn_at is None] or candidates
    if len(named) > 1:
        raise _several(force_id, reference, sorted(named, key=lambda e: e.id))
    missing = f"{force_id} has published no entry with reference {reference[:100]!r}"
    return _public_document(named[0] if named else None, missing, now)


def _several(force_id: str, reference: str, named: list[Row[Any]]) -> MultipleChoices:
    listed = [
        {
            "id": e.id,
            "reference": e.reference,
            "status": "published" if e.withdrawn_at is None else "withdrawn",
            "url": f"/v1/disclosure-log/{e.id}",
        }
        for e in named
    ]
    urls = ", ".join(item["url"] for item in listed)
    return MultipleChoices(
        f"{reference[:100]!r} names {len(named)} entries of {force_id}, stored before a "
        f"reference or alias could name only one request: {urls}",
        extra={"entries": listed},
        headers={"Link": ", ".join(f'<{item["url"]}>; rel="alternate"' for item in listed)},
    )
