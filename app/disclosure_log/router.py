from functools import partial
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import StringConstraints
from starlette.responses import Response

from app.caching import data_etag, kept_response
from app.db import ReadSession, utcnow
from app.disclosure_log import service
from app.disclosure_log.schemas import EntryHit, IsoDate, LogFilters, Sort
from app.entries.schemas import EntryDocument
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, next_link, page_body
from app.problems import PROBLEMS

router = APIRouter(prefix="/v1/disclosure-log", tags=["disclosure log"])
references_router = APIRouter(prefix="/v1/forces", tags=["disclosure log"])

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
    law: Annotated[str | None, Query(description="FOIA, FOISA or EIR", max_length=8)] = None,
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


@router.get("", response_model=Page[EntryHit], responses=PROBLEMS(400))
def list_log(
    request: Request,
    session: ReadSession,
    filters: Filters,
    sort: Annotated[
        Sort | None,
        Query(
            description="-published_at by default; relevance when `q` is given. Relevance "
            "ranks the 1000 most recently added matches of `q`; older matches follow, most "
            "recently added first, and such pages say so in `ranking`"
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of the previous page")
    ] = None,
    count: Annotated[bool, Query(description="also count every match into `total`")] = False,
) -> Response:
    """Published entries, newest first or by relevance to `q`, filtered and paged by cursor."""
    now = utcnow()
    etag = data_etag(request, session, now)

    def page() -> tuple[bytes, dict[str, str]]:
        found = service.list_entries(
            session, filters, sort=sort, limit=limit, cursor=cursor, count=count, now=now
        )
        body = page_body(found.items, found.next_cursor, found.total, found.ranking)
        return body, next_link(request, found.next_cursor)

    return kept_response(request, etag, page)


@router.get("/{entry_id}", response_model=EntryDocument, responses=PROBLEMS(404, 410))
def get_entry(
    entry_id: Annotated[int, Path(ge=1, le=service.MAX_ID)], request: Request, session: ReadSession
) -> Response:
    """One published entry in full; a withdrawn one answers 410 with its tombstone."""
    tag = data_etag(request, session, utcnow())
    document = partial(service.get_document, session, entry_id)
    return kept_response(request, tag, lambda: (document().encode(), {}), tag_by_body=True)


@references_router.get(
    "/{force_id}/references/{reference:path}",
    response_model=EntryDocument,
    responses=PROBLEMS(404, 410),
)
def get_entry_by_reference(
    force_id: Annotated[str, Path(max_length=64)],
    reference: Annotated[str, Path(max_length=200, description="e.g. FOI2018/02892")],
    request: Request,
    session: ReadSession,
) -> Response:
    """The entry a force published under a reference or alias, ignoring case and spaces."""
    tag = data_etag(request, session, utcnow())
    document = partial(service.get_document_by_reference, session, force_id, reference)
    return kept_response(request, tag, lambda: (document().encode(), {}), tag_by_body=True)
