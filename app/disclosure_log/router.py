from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from sqlmodel import Session
from starlette.responses import Response

from app.disclosure_log import service
from app.disclosure_log.filters import Filters
from app.disclosure_log.schemas import EntryHit, Sort
from app.entries.schemas import EntryDocument
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, next_link, page_body
from app.params import ResourceId
from app.problems import PROBLEMS
from app.read_context import PublicRead

router = APIRouter(prefix="/v1/disclosure-log", tags=["disclosure log"])
references_router = APIRouter(prefix="/v1/forces", tags=["disclosure log"])


@router.get("", response_model=Page[EntryHit], responses=PROBLEMS(400))
async def list_log(
    request: Request,
    read: PublicRead,
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

    def page(session: Session, now: datetime) -> tuple[bytes, dict[str, str]]:
        found = service.list_entries(
            session, filters, now=now, sort=sort, limit=limit, cursor=cursor, count=count
        )
        body = page_body(found.items, found.next_cursor, found.total, found.ranking)
        return body, next_link(request, found.next_cursor)

    return await read.answer(page, slow=count)


@router.get("/{entry_id}", response_model=EntryDocument, responses=PROBLEMS(404, 410))
async def get_entry(entry_id: ResourceId, read: PublicRead) -> Response:
    """One published entry in full; a withdrawn one answers 410 with its tombstone."""
    return await read.document(
        lambda session, now: service.get_document(session, entry_id, now=now)
    )


@references_router.get(
    "/{force_id}/references/{reference:path}",
    response_model=EntryDocument,
    responses=PROBLEMS(300, 404, 410),
)
async def get_entry_by_reference(
    force_id: Annotated[str, Path(max_length=64)],
    reference: Annotated[str, Path(max_length=200, description="e.g. FOI2018/02892")],
    read: PublicRead,
) -> Response:
    """The entry a force published under a reference or alias, ignoring case and spaces; 300
    listing them when two entries stored before names were unique share it."""
    return await read.document(
        lambda session, now: service.get_document_by_reference(
            session, force_id, reference, now=now
        )
    )
