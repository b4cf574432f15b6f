"""The log's filters as query parameters: one dependency that the log, its feeds, exports and
stats share, so each takes the same parameters and checks them the same way."""

from typing import Annotated

from fastapi import Depends, Query
from pydantic import StringConstraints

from app.disclosure_log.schemas import IsoDate, LogFilters

MAX_VALUES = 50
Value = Annotated[str, StringConstraints(max_length=100)]


def _values(description: str) -> object:
    return Query(description=f"{description} (repeatable; values are ORed)", max_length=MAX_VALUES)


async def log_filters(
    q: Annotated[
        str | None,
        Query(
            description='full text: words are ANDed; "a phrase", -excluded, a OR b; English '
            "stemming. Longer than FOILOG_MAX_QUERY_LENGTH characters is a 400"
        ),
    ] = None,
    force: Annotated[list[Value] | None, _values("force id, e.g. hertfordshire")] = None,
    topic: Annotated[list[Value] | None, _values("topic slug, e.g. facial-recognition")] = None,
    outcome: Annotated[list[Value] | None, _values("outcome of the latest response")] = None,
    exemption: Annotated[list[Value] | None, _values("cited exemption, e.g. foia-s31")] = None,
    law: Annotated[
        str | None, Query(description="FOIA or FOISA: the force's law", max_length=8)
    ] = None,
    reference: Annotated[
        list[Value] | None, _values("reference or alias; case and white space ignored")
    ] = None,
    received_from: Annotated[IsoDate | None, Query(description="received on or after")] = None,
    received_to: Annotated[IsoDate | None, Query(description="received on or before")] = None,
    published_from: Annotated[IsoDate | None, Query(description="published on or after")] = None,
    published_to: Annotated[IsoDate | None, Query(description="published on or before")] = None,
    round_robin: Annotated[
        list[Value] | None, _values("round-robin id (GET /v1/round-robins lists them)")
    ] = None,
) -> LogFilters:
    # Async only so that FastAPI calls it in the event loop, not through the thread pool.
    return LogFilters(
        q=q,
        forces=tuple(force or ()),
        topics=tuple(topic or ()),
        outcomes=tuple(outcome or ()),
        exemptions=tuple(exemption or ()),
        law=law,
        references=tuple(reference or ()),
        received_from=received_from,
        received_to=received_to,
        published_from=published_from,
        published_to=published_to,
        round_robins=tuple(round_robin or ()),
    )


Filters = Annotated[LogFilters, Depends(log_filters)]


_NOT_APPLIED = "the log's; taken and not applied here"


async def log_paging(
    sort: Annotated[str | None, Query(description=_NOT_APPLIED, max_length=20)] = None,
    limit: Annotated[str | None, Query(description=_NOT_APPLIED, max_length=20)] = None,
    cursor: Annotated[str | None, Query(description=_NOT_APPLIED, max_length=200)] = None,
    count: Annotated[str | None, Query(description=_NOT_APPLIED, max_length=20)] = None,
) -> None:
    """The log's own parameters, which SPEC §4 lists among the filters of its feeds, exports and
    stats: taken, so the address of a log's page with `/v1/disclosure-log` made `.atom`,
    `.csv` or `/v1/stats` still answers, and not applied (a feed holds the newest 50 entries,
    an export every one, stats count them all)."""


LogPaging = Depends(log_paging)
