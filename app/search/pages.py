"""Pages of matches in date order and by relevance, so the log's service only has to call them.

Relevance never scores a whole posting list per request: it ranks the newest `RANKED_WINDOW`
matches (all of them when a query has no more) and, when a query has more, lists the older
ones after those, newest first. A word in most entries thus costs one window of scores, not a
million (see README.md, "Relevance at scale")."""

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlmodel import Session, col

from app.models import DisclosureEntry
from app.search import SearchEngine, SearchQuery

# (sort key, id) of the last entry of the previous page; None for the first page.
Position = tuple[Any, int] | None
# The next `size` visible entries in the page's date order after a position, also meeting the
# extra conditions: (id, date) rows. The service's keyset over its date index.
DatePager = Callable[[list[ColumnElement[bool]], Position, int], list[tuple[int, Any]]]

RANKED_WINDOW = 1000

# Probing (see date_matches): candidates read per round at least and at most, and rounds at
# most; a round reads a quarter more candidates than should hold the page's matches.
PROBE_CHUNK = 200
PROBE_MAX_CHUNK = 5000
PROBE_ROUNDS = 4

# Keys of the newest-first part of a relevance listing: positive, so after every score (scores
# are <= 0, best lowest), and decreasing with publication time. Whole microseconds below 2**53
# are exact in a float, so a cursor holds the time exactly (publications 2000-2285).
_TAIL_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_TAIL_BASE = 2**53


def _tail_key(published_at: datetime) -> float:
    return float(_TAIL_BASE - (published_at - _TAIL_EPOCH) // timedelta(microseconds=1))


def _tail_position(key: float, entry_id: int) -> Position:
    microseconds = _TAIL_BASE - round(key)
    return _TAIL_EPOCH + timedelta(microseconds=microseconds), entry_id


def _probing_pays(matches: int, entries: int, size: int) -> bool:
    """Whether walking the date index should find `size` matches reading at most half as many
    candidates as the search index has matches (each costs about one row read either way),
    were matches spread evenly over the entries."""
    return 2 * size * entries <= matches * matches


def date_matches(
    session: Session,
    search: SearchEngine,
    query: SearchQuery,
    pager: DatePager,
    position: Position,
    size: int,
    probe: Callable[[list[int]], Collection[int]] | None = None,
) -> list[tuple[int, Any]]:
    """The next `size` matches in the pager's date order. A common word is found by walking the
    date index and asking the search index which candidates match (`probe`; a page of "police"
    out of 500,000 matches: one probe round instead of 500,000 row lookups); a rarer one by
    driving from the search index. Probing gives way to the search index when it finds too
    few."""
    probe = probe or (lambda ids: search.matching(session, query, ids))
    matching = search.matches(query)
    estimate = search.estimate(session, query)
    if estimate is None or estimate == 0:
        return pager([matching], position, size)
    entries = session.scalar(select(func.max(col(DisclosureEntry.id)))) or 0
    if not _probing_pays(estimate, entries, size):
        return pager([matching], position, size)
    expected = size * entries // estimate
    chunk = min(max(PROBE_CHUNK, expected + expected // 4), PROBE_MAX_CHUNK)
    found: list[tuple[int, Any]] = []
    for _ in range(PROBE_ROUNDS):
        candidates = pager([], position, chunk)
        hits = probe([c[0] for c in candidates])
        found += [c for c in candidates if c[0] in hits][: size - len(found)]
        if len(found) == size or len(candidates) < chunk:
            return found
        position = (candidates[-1][1], candidates[-1][0])
    return found + pager([matching], position, size - len(found))


def _bounded() -> str:
    return (
        f"ranked by relevance among the newest {RANKED_WINDOW} matches; "
        "older matches follow, newest first"
    )


@dataclass
class RankedPage:
    """(id, key) rows best first; `note` says how the ranking was bounded, when it was."""

    rows: list[tuple[int, float]] = field(default_factory=list)
    note: str | None = None


def relevance_page(
    session: Session,
    search: SearchEngine,
    query: SearchQuery,
    newest: DatePager,
    position: tuple[float, int] | None,
    size: int,
) -> RankedPage:
    """The next `size` matches best first among the newest `RANKED_WINDOW`, then the rest
    newest first. `newest` pages the visible entries newest first; keys are scores (<= 0) in
    the ranked part and decreasing times (> 0) after it, so (key asc, id desc) is the order."""
    if position is not None and position[0] > 0:
        tail = date_matches(session, search, query, newest, _tail_position(*position), size)
        return RankedPage([(i, _tail_key(at)) for i, at in tail], _bounded())
    scores: dict[int, float] = {}

    def scoring(ids: list[int]) -> Collection[int]:
        # A probe round scores as it matches: one pass over the posting lists, not two.
        found = search.scores(session, query, ids)
        scores.update(found)
        return found.keys()

    window = date_matches(session, search, query, newest, None, RANKED_WINDOW + 1, scoring)
    bounded = len(window) > RANKED_WINDOW
    window = window[:RANKED_WINDOW]
    unscored = [entry_id for entry_id, _ in window if entry_id not in scores]
    if unscored:
        scores.update(search.scores(session, query, unscored))
    ranked = sorted((scores[i], -i) for i, _ in window if i in scores)
    if position is not None:
        ranked = [r for r in ranked if r > (position[0], -position[1])]
    rows = [(-negative_id, score) for score, negative_id in ranked[:size]]
    note = _bounded() if bounded else None
    if len(rows) == size or not bounded:
        return RankedPage(rows, note)
    oldest = window[-1]
    tail = date_matches(session, search, query, newest, (oldest[1], oldest[0]), size - len(rows))
    return RankedPage(rows + [(i, _tail_key(at)) for i, at in tail], note)
