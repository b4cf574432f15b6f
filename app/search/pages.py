"""Relevance pages that never score a whole posting list per request.

Relevance ranks the `RANKED_WINDOW` most recently added matches (the highest ids: every match
when a query has no more) and lists the older ones after them, most recently added first. A
word in most entries then costs one window of scores, not a million (README.md, "Relevance at
scale")."""

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement
from sqlmodel import Session

from app.search import Newest, SearchEngine, SearchQuery

RANKED_WINDOW = 1000
# The key of every match after the window: above every score (scores are <= 0, best lowest),
# so one (key asc, id desc) keyset walks the ranked window, then the rest by id.
AFTER_WINDOW = 1.0


def _bounded() -> str:
    return (
        f"ranked by relevance among the {RANKED_WINDOW} most recently added matches; "
        "older matches follow, most recently added first"
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
    where: list[ColumnElement[bool]],
    position: tuple[float, int] | None,
    size: int,
) -> RankedPage:
    """The next `size` matches meeting `where` after `position` (the last page's key and id):
    the window best first, then the older matches by id, newest first."""
    if position is not None and position[0] > 0:
        older = search.newest(session, query, Newest(where, size, position[1]))
        return RankedPage([(entry_id, AFTER_WINDOW) for entry_id, _ in older], _bounded())
    window = search.newest(session, query, Newest(where, RANKED_WINDOW + 1, scored=True))
    bounded = len(window) > RANKED_WINDOW
    window = window[:RANKED_WINDOW]
    ranked = sorted((score, -entry_id) for entry_id, score in window)
    if position is not None:
        ranked = [r for r in ranked if r > (position[0], -position[1])]
    rows = [(-negative_id, score) for score, negative_id in ranked[:size]]
    if len(rows) == size or not bounded:
        return RankedPage(rows, _bounded() if bounded else None)
    oldest = window[-1][0]
    older = search.newest(session, query, Newest(where, size - len(rows), oldest))
    return RankedPage(rows + [(entry_id, AFTER_WINDOW) for entry_id, _ in older], _bounded())
