"""Full-text search over `disclosure_entry.search_text`: one interface, one module per dialect.
The index itself is kept by the database (see the 0002 migration), never by application code."""

from functools import lru_cache
from typing import Protocol

from sqlalchemy import ColumnElement, Connection, Engine, Subquery
from sqlmodel import Session

from app.search.query import SearchQuery, parse

__all__ = ["SearchEngine", "SearchQuery", "engine_for", "parse"]


class SearchEngine(Protocol):
    def matches(self, query: SearchQuery) -> ColumnElement[bool]:
        """A condition on disclosure_entry: the entry matches the query. It ranks nothing."""
        ...

    def scored(self, query: SearchQuery) -> Subquery:
        """The matching entries as (entry_id, score) rows; a lower score is a better match."""
        ...

    def scores(self, session: Session, query: SearchQuery, ids: list[int]) -> dict[int, float]:
        """The score of each of these entries that matches; a lower score is a better match,
        and every score is <= 0. Scores weigh a term by how rare it is in the whole log."""
        ...

    def estimate(self, session: Session, query: SearchQuery) -> int | None:
        """How many entries match, when the engine can tell cheaply and its database cannot
        plan for it; None where the planner knows the query's selectivity itself."""
        ...

    def matching(self, session: Session, query: SearchQuery, ids: list[int]) -> set[int]:
        """Which of these entries match."""
        ...

    def highlights(self, session: Session, query: SearchQuery, ids: list[int]) -> dict[int, str]:
        """A short HTML-escaped excerpt of each entry with its matches in <mark>."""
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
