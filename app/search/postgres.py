"""PostgreSQL: the generated `disclosure_entry.search_vector` (english configuration) with its
GIN index, ranked by ts_rank. Each phrase goes through phraseto_tsquery, which only tokenises."""

import math
import re
from collections.abc import Collection
from functools import reduce
from typing import Any

from sqlalchemy import (
    ColumnClause,
    ColumnElement,
    Double,
    Integer,
    Select,
    Text,
    TypeDecorator,
    any_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    literal_column,
    select,
    table,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlmodel import Session

from app.db import Marked, planner_off
from app.models import DisclosureEntry, table_of
from app.search import Newest, highlight, shares
from app.search.query import SearchQuery

_VECTOR: ColumnClause[Any] = literal_column("disclosure_entry.search_vector")
_entry = table_of(DisclosureEntry).c
# The entries a query matches, apart from the page's own table (never correlated with it).
_matched = table("disclosure_entry", column("id")).alias("matched")
_MATCHED_VECTOR: ColumnClause[Any] = literal_column("matched.search_vector")
_CONFIG: ColumnClause[Any] = literal_column("'english'::regconfig")
# Same limit as the generated column (0002 migration): highlight what was indexed.
INDEXED_CHARS = 250_000
_SEPARATORS = re.compile(r"[\W_]+")
# What one step of each form of an id- or date-ordered search costs, in microseconds, timed
# through `newest` at 100,000 entries (app/search/README.md): a match taken from the GIN index,
# its id carried to the page's statement, its row read and sorted ("driven"); an entry walked
# in order, its tsvector read from TOAST and tested ("tested"). PostgreSQL's planner counts
# neither read, so it chooses between them badly.
PLAN_COSTS = {"driven": 2.2, "tested": 3.2}
FORMS = ("drive", "test")
# A window gathered from the GIN index reads every match's row (for its id and visibility)
# before it sorts them by id: 3.4 us a match, 11 of 14 ms for a word in 3,253 of 100,000
# entries. So it first asks only the ids where its `size` newest matches should lie, by the
# share, WIDEN times that span: the index's bitmap ANDed with the primary key's range reads
# about WIDEN x size rows (988 against 3,190 heap pages there; 200 of bench/mix.py's ranked
# windows in 1,758 ms against 2,836). When that span holds fewer than `size` matches (the
# share is an estimate, of the match without the page's other filters), the rest of the
# window is asked below it.
WIDEN = 1.5
# Highlights are cut from the whole text when it has at most WHOLE_CHARS, else from
# EXCERPT_CHARS of it, EXCERPT_BEFORE of them before the first match: room for a run of
# matches near each other.
WHOLE_CHARS = 20_000
EXCERPT_CHARS = 1000
EXCERPT_BEFORE = 150


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


def cheapest_form(matched: int, entries: int, size: int) -> str:
    """Which form of the match should find `size` of `matched` matches among `entries` in id
    or date order soonest: "drive" (taken from the GIN index and sorted) or "test" (each
    walked entry tested), by PLAN_COSTS."""
    walked = shares.walk_length(matched, entries, size)
    return "drive" if PLAN_COSTS["driven"] * matched <= PLAN_COSTS["tested"] * walked else "test"


def _share(session: Session, query: SearchQuery) -> tuple[int, int]:
    """(entries matching, entries in all): the matches as the planner expects them from the
    tsvector statistics ANALYZE keeps (its plan for the match alone), which is all a choice of
    form needs, for the cost of planning one statement."""
    tsquery, searchable = _tsquery(query)
    expected = (
        select(literal(1))
        .select_from(_matched)
        .where(searchable, _MATCHED_VECTOR.op("@@")(tsquery))
    )

    def count() -> tuple[int, int]:
        connection = session.connection()
        compiled = expected.compile(dialect=connection.dialect)
        plan = connection.exec_driver_sql(
            "EXPLAIN (FORMAT JSON) " + compiled.string, compiled.params
        ).scalar_one()
        entries = shares.size(session, lambda: session.scalar(select(func.max(_entry.id))) or 0)
        return round(plan[0]["Plan"]["Plan Rows"]), entries

    return shares.share(session, repr((query.groups, query.excluded)), count)


def _drive(session: Session, query: SearchQuery) -> ColumnElement[bool]:
    """The match as the ids the GIN index gives, taken first in a statement of their own and
    looked up by primary key in the page's. As a subquery of the page, the planner would take
    them by a sequential scan reading every tsvector (75 ms at 20,000 entries for a word in
    677, against 3 ms from the index)."""
    tsquery, searchable = _tsquery(query)
    # As one array, not a row each: 9,925 ids came back in 6.1 ms so, 10.9 ms as rows. And
    # as its text, there and back, never a list: psycopg made a list of 3,822 ids into the
    # page's parameter in 5 ms, a third of the page (the text is passed on as it came).
    matched = select(cast(func.array_agg(_matched.c.id), Text)).where(
        searchable, _MATCHED_VECTOR.op("@@")(tsquery)
    )
    ids = session.connection().execute(_planned(matched, "drive")).scalar_one() or "{}"
    return _entry.id == any_(bindparam("search_matched", ids, type_=_IdsText(), unique=True))


class _IdsText(TypeDecorator[str]):
    """An integer[] parameter given as its text form (`{1,2,3}`), passed on untouched. Sent
    untyped and cast in the statement (`$1::INTEGER[]`), the array is a constant the planner
    reads; cast from a text parameter it was not, and the planner sorted all 3,822 matches of
    a page by date instead of walking the date index (10 ms against 1)."""

    impl = ARRAY(Integer)
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


# The scans each form turns off: sequential ones always (they read every tsvector); testing
# walked entries, bitmap scans too (the planner took one over the date index, testing every
# entry, 99 ms at 20,000); gathering the matches in the statement that ranks them, index scans
# too, so the matches come from the GIN index by a bitmap, not by walking the id index.
_OFF = {
    "test": ("enable_seqscan", "enable_bitmapscan"),
    "drive": ("enable_seqscan",),
    "gather": ("enable_seqscan", "enable_indexscan"),
}


def _planned(statement: Marked, form: str) -> Marked:
    """The statement, planned in `form` (`_OFF`): the settings go with it, in its round trip,
    and are never left on the connection (`app.db.planner_off`)."""
    return planner_off(statement, _OFF[form])


def _words(query: SearchQuery) -> list[str]:
    return [w for group in query.groups for phrase in group for w in _SEPARATORS.split(phrase) if w]


def _excerpts() -> Select[tuple[int, str, list[str]]]:
    """(id, text to highlight, the query's stems) of some entries (`ids`; the query's words in
    `words`). A text of up to WHOLE_CHARS is sent whole. Of a longer one, EXCERPT_CHARS from a
    little before the first place one of the query's stems appears, cut at spaces, with an
    ellipsis where the text goes on; or the whole indexed text when no stem appears as written
    (`happi`, of `happy`)."""
    lexemes = func.tsvector_to_array(func.to_tsvector(_CONFIG, bindparam("words", type_=Text)))
    stems = func.unnest(lexemes).alias("stem")
    whole = _entry.search_text
    short = func.char_length(whole) <= WHOLE_CHARS
    found = func.strpos(func.lower(whole), literal_column("stem"))
    # Looked for in long texts only: lowering a text and searching it took 0.3 ms an entry.
    first = case(
        (short, None),
        else_=select(func.min(func.nullif(found, 0))).select_from(stems).scalar_subquery(),
    )
    # OFFSET 0 keeps the subquery whole, so each entry's first place is found once.
    entries = (
        select(_entry.id, whole.label("text"), short.label("short"), first.label("first"))
        .where(_entry.id.in_(bindparam("ids", expanding=True)))
        .offset(0)
        .subquery()
    )
    # Spaces around the text: a cut at either end leaves a partial word, which the pattern
    # drops; an end of the text keeps its last word, which then stands after a space.
    padded = " " + entries.c.text + " "
    start = func.greatest(1, entries.c.first + 1 - EXCERPT_BEFORE)
    cut = func.regexp_replace(func.substr(padded, start, EXCERPT_CHARS), r"^\S*|\S*$", "", "g")
    before = case((start > 1, highlight.ELLIPSIS), else_="")
    after = case((start + EXCERPT_CHARS < func.char_length(padded), highlight.ELLIPSIS), else_="")
    text = case(
        (entries.c.short, entries.c.text),
        (entries.c.first.is_(None), func.left(entries.c.text, INDEXED_CHARS)),
        else_=before + cut + after,
    )
    return select(entries.c.id, text, select(lexemes).scalar_subquery())


# Built once: building it took a millisecond a page in SQLAlchemy's constructors.
_EXCERPTS = _excerpts()


def excerpts(session: Session, query: SearchQuery, ids: list[int]) -> list[Any]:
    """`_excerpts` of these entries for this query."""
    words = " ".join(_words(query))
    return list(session.execute(_EXCERPTS, {"ids": ids, "words": words}))


# Each word's stem as the index makes it (its first lexeme: none for a stop word).
_STEMS = text(
    "SELECT w, (tsvector_to_array(to_tsvector('english', w)))[1] "
    "FROM unnest(CAST(:words AS text[])) AS w"
)
# Stems asked of the database before, kept by this process: a word's stem is the english
# configuration's and never changes, and most words a page highlights were stemmed for an
# earlier page (asking again was one of a search page's eight statements). Words past the
# first MOST_STEMMED, and words longer than LONGEST_STEMMED, are asked each time; those kept
# take a few MB at most.
MOST_STEMMED = 20_000
LONGEST_STEMMED = 64
_stemmed: dict[str, str | None] = {}


def _stemming(session: Session) -> highlight.Stemming:
    def stems(words: Collection[str]) -> dict[str, str | None]:
        known = {w: _stemmed[w] for w in words if w in _stemmed}
        unknown = sorted(w for w in words if w not in known)
        if unknown:
            found = {w: stem for w, stem in session.execute(_STEMS, {"words": unknown})}
            if len(_stemmed) < MOST_STEMMED:
                _stemmed.update((w, s) for w, s in found.items() if len(w) <= LONGEST_STEMMED)
            known.update(found)
        return known

    return stems


class TsvectorSearch:
    def matches(self, query: SearchQuery) -> ColumnElement[bool]:
        tsquery, searchable = _tsquery(query)
        return searchable & _VECTOR.op("@@")(tsquery)

    def newest(self, session: Session, query: SearchQuery, ask: Newest) -> list[tuple[int, float]]:
        tsquery, searchable = _tsquery(query)
        entry_id = _entry.id
        matched, entries = _share(session, query)
        form = cheapest_form(matched, entries, ask.size)
        # float8: a real comes back rounded to its text form, and a cursor holding the rounded
        # score would no longer equal the score it stands for.
        score = -cast(func.ts_rank(_VECTOR, tsquery, 1), Double) if ask.scored else literal(0.0)
        matching = searchable & _VECTOR.op("@@")(tsquery)
        found = select(entry_id, score).where(matching, *ask.where)
        # Ids run up to about the log's size (entries added since are above it).
        top = entries + 1
        if ask.before is not None:
            found = found.where(entry_id < ask.before)
            top = min(top, ask.before)

        def window(where: ColumnElement[bool], size: int) -> list[tuple[int, float]]:
            ordered = found.where(where).order_by(entry_id.desc()).limit(size)
            # As on SQLite, no ORM result handling; and fetched at once: a window of 1,001
            # rows took 5.2 ms row by row, 3.7 at once (psycopg has them all already).
            planned = _planned(ordered, "gather" if form == "drive" else form)
            rows = session.connection().execute(planned).all()
            return [(entry_id, score) for entry_id, score in rows]

        if form == "drive" and matched:
            low = top - math.ceil(WIDEN * ask.size * entries / matched)
            if low > 0:
                # The span's matches are the newest; the rest of the window, if any, lies
                # below it (the share counts the match alone, not the page's other filters).
                newest = window(entry_id >= low, ask.size)
                if len(newest) == ask.size:
                    return newest
                return newest + window(entry_id < low, ask.size - len(newest))
        return window(true(), ask.size)

    def matches_in_order(
        self, session: Session, query: SearchQuery, size: int
    ) -> ColumnElement[bool]:
        # The page is a statement the caller runs, beyond the planner settings of a form: a
        # rare match is given as the GIN index's ids, a common one is left to the planner,
        # which tests it while walking the date index.
        if cheapest_form(*_share(session, query), size) == "drive":
            return _drive(session, query)
        return self.matches(query)

    def highlights(self, session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
        # Cut in Python (highlight.py) from excerpts near the matches; the words found there
        # stemmed by the database: ts_headline parsed each excerpt, 0.16 ms an entry.
        rows = excerpts(session, query, ids)
        if not rows:
            return {}
        terms = highlight.Terms.of(rows[0][2])
        return terms.excerpts([(entry_id, text) for entry_id, text, _ in rows], _stemming(session))

    def compact(self, session: Session, added: int) -> None:
        # The import merges GIN's pending list before it commits (app/imports/service.py).
        return None
