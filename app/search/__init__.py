"""Full-text search over `disclosure_entry.search_text`: one interface, one module per dialect.
The index itself is kept by the database (see the 0002 migration), never by application code."""

from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from sqlalchemy import ColumnElement, Connection, Engine
from sqlmodel import Session

from app.search.query import SearchQuery, parse

__all__ = ["Newest", "SearchEngine", "SearchQuery", "engine_for", "parse"]


@dataclass(frozen=True)
class Newest:
    """The `size` matches with the highest ids below `before` (None: any) that also meet
    `where`, conditions on disclosure_entry; unscored ones score 0."""

    where: list[ColumnElement[bool]]
    size: int
    before: int | None = None
    scored: bool = False


class SearchEngine(Protocol):
    def matches(self, query: SearchQuery) -> ColumnElement[bool]:
        """A condition on disclosure_entry: the entry matches the query. It ranks nothing."""
        ...

    def newest(self, session: Session, query: SearchQuery, ask: Newest) -> list[tuple[int, float]]:
        """The matches `ask` describes, id descending, as (id, score): a lower score is a better
        match, every score is <= 0, and a term weighs by how rare it is in the whole log."""
        ...

    def matches_in_order(
        self, session: Session, query: SearchQuery, size: int
    ) -> ColumnElement[bool]:
        """The same condition as `matches`, in the form that finds `size` matches soonest in
        a query that walks a date index: tested entry by entry when matches are common,
        taken from the search index when they are rare. The page stays one query."""
        ...

    def highlights(self, session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
        """A short HTML-escaped excerpt of each entry with its matches in <mark>."""
        ...

    def compact(self, session: Session, added: int) -> None:
        """Tidy the index after a bulk write of `added` entries, in `session`'s transaction."""
        ...


def engine_for(bind: Engine | Connection) -> SearchEngine:
    """The search engine of a database; chosen once per dialect."""
    return _for_dialect(bind.dialect.name)


@lru_cache
def _for_dialect(name: str) -> SearchEngine:
    if name == "sqlite":
        from app.search.sqlite import Fts5Search

        return Fts5Search()
    from app.search.postgres import TsvectorSearch

    return TsvectorSearch()
