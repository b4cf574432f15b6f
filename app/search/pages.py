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
# A position among the matches older than the window, which follow it by id.
OLDER = -1


def _bounded() -> str:
    return (
        f"ranked by relevance among the {RANKED_WINDOW} most recently added matches; "
        "older matches follow, most recently added first"
    )


@dataclass(frozen=True)
class RankedPosition:
    """Where a reader of relevance pages is. `top` is the highest id the first page's window
    held: later pages rank the same window, so entries published meanwhile neither push
    listed ones out of it into the older matches (listed again there) nor take places in a
    ranking already part read. `listed` counts the window's matches listed so far, by their
    place in it (scores move as the log grows on SQLite, where BM25 weighs terms by the whole
    index; places move only when scores reorder), or is OLDER once the older matches are
    being listed, after the id `last`."""

    listed: int
    last: int
    top: int


@dataclass
class RankedPage:
    """(id, position after it) rows best first, from the window of ids up to `top`; `note`
    says how the ranking was bounded, when it was."""

    rows: list[tuple[int, int]] = field(default_factory=list)
    top: int = 0
    note: str | None = None


def relevance_page(
    session: Session,
    search: SearchEngine,
    query: SearchQuery,
    where: list[ColumnElement[bool]],
    position: RankedPosition | None,
    size: int,
) -> RankedPage:
    """The next `size` matches meeting `where` after `position`: the window best first, then
    the older matches by id, newest first."""
    if position is not None and position.listed == OLDER:
        older = search.newest(session, query, Newest(where, size, position.last))
        return RankedPage([(entry_id, OLDER) for entry_id, _ in older], position.top, _bounded())
    below = None if position is None else position.top + 1
    window = search.newest(session, query, Newest(where, RANKED_WINDOW + 1, below, scored=True))
    if not window:
        return RankedPage()
    top = window[0][0] if position is None else position.top
    bounded = len(window) > RANKED_WINDOW
    window = window[:RANKED_WINDOW]
    # Best first; of equal scores, the most recently added.
    ranked = [-negative for _, negative in sorted((score, -entry_id) for entry_id, score in window)]
    listed = 0 if position is None else position.listed
    rows = [(entry_id, place) for place, entry_id in enumerate(ranked, 1)][listed : listed + size]
    if len(rows) == size or not bounded:
        return RankedPage(rows, top, _bounded() if bounded else None)
    oldest = window[-1][0]
    older = search.newest(session, query, Newest(where, size - len(rows), oldest))
    return RankedPage(rows + [(entry_id, OLDER) for entry_id, _ in older], top, _bounded())
