"""FTS5: the `search_entry` table (porter stemmer over unicode61), ranked by bm25()."""

from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Integer,
    bindparam,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
)
from sqlmodel import Session

from app.models import VISIBLE_INDEX, DisclosureEntry, table_of
from app.search import Newest, highlight, shares
from app.search.query import SearchQuery

_fts = table("search_entry", column("rowid"))
_entries = table_of(DisclosureEntry)
_entry = _entries.c
# What one step of each form of a date-ordered search costs, in microseconds, as timed over
# the newest-first searches of bench/mix.py at 100,000 entries (app/search/README.md):
# a match looked up by id and sorted ("driven"); a match put once in a list ("listed") that
# each entry of the date index walked is probed in ("probed"); an entry walked and tested
# against the search index by itself ("tested"). A page expects to walk
# size x entries / matches entries of the date index before it has `size` matches.
PLAN_COSTS = {"driven": 2.0, "listed": 0.15, "probed": 0.3, "tested": 25.0}
FORMS = ("drive", "list", "test")

_FTS: ColumnClause[Any] = literal_column("search_entry")
# A bulk write at least this share of the log merges the index into one segment (below).
COMPACT_SHARE = 0.1


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


def cheapest_form(matched: int, entries: int, size: int) -> str:
    """Which form of the match should find `size` of `matched` matches among `entries` in
    date order soonest: "drive" (looked up and sorted), "list" (listed, probed from the walk)
    or "test" (each walked entry tested), by PLAN_COSTS."""
    walked = shares.walk_length(matched, entries, size)
    costs = {
        "drive": PLAN_COSTS["driven"] * matched,
        "list": PLAN_COSTS["listed"] * matched + PLAN_COSTS["probed"] * walked,
        "test": PLAN_COSTS["tested"] * walked,
    }
    return min(costs, key=costs.__getitem__)


# A share is counted among the newest SAMPLE ids, not over the whole index: counting every
# match of a common word reads its whole posting list. Over 200 of bench/mix.py's newest-first
# searches at 100,000 entries: 0.35 ms a share (mean) against 0.90 (p90 0.52 against 2.09),
# the estimate within 10% of the count for 80% of them, and the same form chosen for 196.
SAMPLE = 10_000


def _share(session: Session, query: SearchQuery) -> tuple[int, int]:
    """(entries matching, entries in all): the matches among the newest SAMPLE ids, scaled
    to the whole log (exact when the log holds no more)."""

    def count() -> tuple[int, int]:
        newest = select(func.max(_entry.id)).scalar_subquery()
        sampled = (
            select(func.count())
            .select_from(_fts)
            .where(_matching(query), _fts.c.rowid > newest - SAMPLE)
            .scalar_subquery()
        )
        matched, entries = session.execute(select(sampled, newest)).one()
        entries = entries or 0
        span = min(entries, SAMPLE)
        return (round(matched * entries / span) if span else 0), entries

    return shares.share(session, match_expression(query), count)


class Fts5Search:
    def matches(self, query: SearchQuery) -> ColumnElement[bool]:
        return _entry.id.in_(select(_fts.c.rowid).where(_matching(query)))

    def newest(self, session: Session, query: SearchQuery, ask: Newest) -> list[tuple[int, float]]:
        # FTS5 walks its posting lists by rowid downwards and stops at `size`; only bm25()'s
        # count of each term's entries reads a whole list (50 ms for "police" at a million).
        score = func.bm25(_FTS) if ask.scored else literal(0.0)
        # Each match's visibility from an index of a hundred entries a page, not from its row
        # (a page each): SQLite would take the table's own key.
        found = (
            select(_fts.c.rowid, score)
            .select_from(_fts)
            .join(_entries, _entry.id == _fts.c.rowid)
            .where(_matching(query), *ask.where)
            .with_hint(_entries, f"INDEXED BY {VISIBLE_INDEX}", "sqlite")
        )
        if ask.before is not None:
            found = found.where(_fts.c.rowid < ask.before)
        ordered = found.order_by(_fts.c.rowid.desc()).limit(ask.size)
        # Through the connection, not the ORM session: a window of 1,000 rows spent 2.4 ms in
        # the ORM's result handling, on a query that takes 4.6 ms. And fetched at once: 200 of
        # bench/mix.py's ranked windows took 2.32 ms (p50) so, 2.48 row by row.
        rows = session.connection().execute(ordered).all()
        return [(entry_id, score) for entry_id, score in rows]

    def matches_in_order(
        self, session: Session, query: SearchQuery, size: int
    ) -> ColumnElement[bool]:
        # SQLite cannot see how common a word is: given `id IN (matches)` it always drives
        # from the FTS match, looking each match up and sorting them all. Counted in the index
        # first, the engine takes whichever of three forms should cost least.
        matched, entries = _share(session, query)
        cheapest = cheapest_form(matched, entries, size)
        if cheapest == "test":
            each = select(_fts.c.rowid).where(_matching(query), _fts.c.rowid == _entry.id)
            return each.exists()
        if cheapest == "list":
            # The unary + keeps the id from driving: SQLite lists the matches once and probes
            # that list from each entry of the date index it walks.
            listed = literal_column("+disclosure_entry.id", Integer)
            return listed.in_(select(_fts.c.rowid).where(_matching(query)))
        return self.matches(query)

    def highlights(self, session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
        # Cut in Python from the indexed text (highlight.py): snippet() stems the whole text.
        terms = highlight.Terms.of(highlight.porter(highlight.query_words(query)).values())
        rows = session.connection().execute(
            select(_entry.id, _entry.search_text).where(_entry.id.in_(ids))
        )
        return terms.excerpts(((entry_id, text) for entry_id, text in rows), highlight.porter)

    def compact(self, session: Session, added: int) -> None:
        # A bulk import leaves FTS5's index in a dozen segments, and finding a term in an entry
        # seeks it in each: testing an entry for a term took 0.13 ms at 100,000 entries, 0.025
        # ms once merged into one. Merging rewrites the whole index (2.8 s at 100,000), so only
        # a write that is a good share of the log pays for it.
        entries = session.scalar(select(func.max(_entry.id))) or 0
        if added >= entries * COMPACT_SHARE:
            session.execute(text("INSERT INTO search_entry(search_entry) VALUES ('optimize')"))
