"""FTS5: the `search_entry` table (porter stemmer over unicode61), ranked by bm25()."""

from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
)
from sqlmodel import Session, col

from app.models import DisclosureEntry
from app.search import Newest
from app.search.query import MARK_END, MARK_START, SearchQuery, mark

_fts = table("search_entry", column("rowid"))
_FTS: ColumnClause[Any] = literal_column("search_entry")
SNIPPET_TOKENS = 24


def _phrase(text: str) -> str:
    # A double-quoted FTS5 string is always one phrase: its content is only ever tokenised.
    return '"' + text.replace('"', '""') + '"'


def match_expression(query: SearchQuery) -> str:
    positive = " AND ".join(
        "(" + " OR ".join(_phrase(p) for p in group) + ")" for group in query.groups
    )
    if not query.excluded:
        return positive
    return f"({positive}) NOT ({' OR '.join(_phrase(p) for p in query.excluded)})"


def _matching(query: SearchQuery) -> ColumnElement[bool]:
    return _FTS.op("MATCH")(bindparam("search_match", match_expression(query), unique=True))


class Fts5Search:
    def matches(self, query: SearchQuery) -> ColumnElement[bool]:
        return col(DisclosureEntry.id).in_(select(_fts.c.rowid).where(_matching(query)))

    def newest(self, session: Session, query: SearchQuery, ask: Newest) -> list[tuple[int, float]]:
        # FTS5 walks its posting lists by rowid downwards and stops at `size`; only bm25()'s
        # count of each term's entries reads a whole list (50 ms for "police" at a million).
        score = func.bm25(_FTS) if ask.scored else literal(0.0)
        found = (
            select(_fts.c.rowid, score)
            .select_from(_fts)
            .join(DisclosureEntry, col(DisclosureEntry.id) == _fts.c.rowid)
            .where(_matching(query), *ask.where)
        )
        if ask.before is not None:
            found = found.where(_fts.c.rowid < ask.before)
        ordered = found.order_by(_fts.c.rowid.desc()).limit(ask.size)
        return [(entry_id, score) for entry_id, score in session.execute(ordered)]

    def estimate(self, session: Session, query: SearchQuery) -> int | None:
        # SQLite cannot see how common a word is: it always drives from the FTS match, which
        # for a word in half a million entries means that many row lookups before the first
        # page. Counting in the FTS index alone is cheap (25 ms for 500,000 matches).
        return session.scalar(select(func.count()).select_from(_fts).where(_matching(query)))

    def matching(self, session: Session, query: SearchQuery, ids: list[int]) -> set[int]:
        # A probe round is a few hundred ids: seeking each is cheaper than a whole posting list.
        found = select(_fts.c.rowid).where(_matching(query), _fts.c.rowid.in_(ids))
        return set(session.scalars(found))

    def highlights(self, session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
        snippet = func.snippet(_FTS, 0, MARK_START, MARK_END, "…", SNIPPET_TOKENS)
        rows = session.execute(
            select(_fts.c.rowid, snippet).where(_matching(query), _fts.c.rowid.in_(ids))
        )
        return {entry_id: mark(excerpt or "") for entry_id, excerpt in rows}
