from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pydantic import Field

from app.entries.schemas import EntryDocument


class Sort(StrEnum):
    NEWEST = "-published_at"
    OLDEST = "published_at"
    RECEIVED_NEWEST = "-received_on"
    RECEIVED_OLDEST = "received_on"
    RELEVANCE = "relevance"


class EntryHit(EntryDocument):
    """An entry of the log; with `q`, also where the query matched."""

    highlight: str | None = Field(
        default=None,
        description="with `q`: a short HTML-escaped excerpt, matches wrapped in <mark>",
    )


@dataclass(frozen=True)
class LogFilters:
    """The filters of SPEC §4, shared by the log, its feeds, exports and stats. Values of one
    filter are ORed, filters are ANDed."""

    q: str | None = None
    forces: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    outcomes: tuple[str, ...] = ()
    exemptions: tuple[str, ...] = ()
    law: str | None = None
    references: tuple[str, ...] = ()
    received_from: date | None = None
    received_to: date | None = None
    published_from: date | None = None
    published_to: date | None = None


@dataclass
class LogPage:
    """A page of entry documents, each already JSON."""

    items: list[str] = field(default_factory=list)
    next_cursor: str | None = None
    total: int | None = None
