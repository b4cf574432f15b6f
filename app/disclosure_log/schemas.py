import re
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from app.entries.schemas import EntryDocument


def _iso_date(value: Any) -> Any:
    # pydantic also reads `0` or `1700000000` as a date; the API takes YYYY-MM-DD only.
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date is YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]


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
    round_robins: tuple[str, ...] = ()


@dataclass
class LogPage:
    """A page of entry documents, each already JSON (UTF-8)."""

    items: list[bytes] = field(default_factory=list)
    next_cursor: str | None = None
    total: int | None = None
    # How a relevance listing was bounded, when it was (app/search/pages.py).
    ranking: str | None = None
