"""PostgreSQL: the generated `disclosure_entry.search_vector` (english configuration) with its
GIN index, ranked by ts_rank. Each phrase goes through phraseto_tsquery, which only tokenises."""

import re
from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Double,
    bindparam,
    cast,
    func,
    literal,
    literal_column,
    select,
    text,
)
from sqlmodel import Session, col

from app.models import DisclosureEntry
from app.search import Newest
from app.search.query import MARK_END, MARK_START, SearchQuery, mark

_VECTOR: ColumnClause[Any] = literal_column("disclosure_entry.search_vector")
_CONFIG: ColumnClause[Any] = literal_column("'english'::regconfig")
# Same limit as the generated column (0002 migration): highlight what was indexed.
INDEXED_CHARS = 250_000
_SEPARATORS = re.compile(r"[\W_]+")
HEADLINE_OPTIONS = (
    f"StartSel={MARK_START}, StopSel={MARK_END}, MaxWords=24, MinWords=10, "
    'MaxFragments=2, FragmentDelimiter=" … "'
)


def _phrase(text: str) -> ColumnElement[str]:
    forms = [text]
    # PostgreSQL's parser keeps `FOI2018/02892` and `facial-recognition` whole as well as in
    # parts; ask for either form, so `facial-recognition` also finds `facial recognition`.
    split = " ".join(_SEPARATORS.split(text)).strip()
    if split != text:
        forms.append(split)
    queries = [
        func.phraseto_tsquery(_CONFIG, bindparam("search_phrase", form, unique=True))
        for form in forms
    ]
    return reduce(func.tsquery_or, queries)


def _any(phrases: tuple[str, ...]) -> ColumnElement[str]:
    return reduce(func.tsquery_or, map(_phrase, phrases))


def _tsquery(query: SearchQuery) -> tuple[ColumnElement[str], ColumnElement[bool]]:
    """The tsquery, and whether it holds a word to look for: stop words alone (`the`) make an
    empty query, and `the -police` must not become `!police`, which matches nearly everything."""
    positive = reduce(func.tsquery_and, map(_any, query.groups))
    searchable = func.numnode(positive) > 0
    if not query.excluded:
        return positive, searchable
    return func.tsquery_and(positive, func.tsquery_not(_any(query.excluded))), searchable


class TsvectorSearch:
    def matches(self, query: SearchQuery) -> ColumnElement[bool]:
        tsquery, searchable = _tsquery(query)
        return searchable & _VECTOR.op("@@")(tsquery)

    def newest(self, session: Session, query: SearchQuery, ask: Newest) -> list[tuple[int, float]]:
        tsquery, searchable = _tsquery(query)
        entry_id = col(DisclosureEntry.id)
        # float8: a real comes back rounded to its text form, and a cursor holding the rounded
        # score would no longer equal the score it stands for.
        score = -cast(func.ts_rank(_VECTOR, tsquery, 1), Double) if ask.scored else literal(0.0)
        found = select(entry_id, score).where(searchable, _VECTOR.op("@@")(tsquery), *ask.where)
        if ask.before is not None:
            found = found.where(entry_id < ask.before)
        ordered = found.order_by(entry_id.desc()).limit(ask.size)
        # The planner does not count reading each TOASTed tsvector, so for a word in a few
        # hundred entries it tests every entry's (a sequential scan, 640 ms at 20,000 entries)
        # rather than the GIN index's matches (44 ms). A common word still walks the id index.
        # Reset on success only: a failure ends the transaction, and SET LOCAL with it (a
        # statement on a connection the server cut would hide why it failed).
        session.execute(text("SET LOCAL enable_seqscan = off"))
        rows = session.connection().execute(ordered)  # as on SQLite: no ORM result handling
        found_ids = [(entry_id, score) for entry_id, score in rows]
        session.execute(text("RESET enable_seqscan"))
        return found_ids

    def matches_in_order(
        self, session: Session, query: SearchQuery, size: int
    ) -> ColumnElement[bool]:
        # The planner knows how common each lexeme is (tsvector statistics) and chooses between
        # the GIN index and walking the date index by itself.
        return self.matches(query)

    def highlights(self, session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
        tsquery, _ = _tsquery(query)
        text = func.left(col(DisclosureEntry.search_text), INDEXED_CHARS)
        headline = func.ts_headline(_CONFIG, text, tsquery, HEADLINE_OPTIONS)
        rows = session.execute(
            select(col(DisclosureEntry.id), headline).where(col(DisclosureEntry.id).in_(ids))
        )
        return {entry_id: mark(excerpt or "") for entry_id, excerpt in rows}

    def compact(self, session: Session, added: int) -> None:
        # The import merges GIN's pending list before it commits (app/imports/service.py).
        return None
