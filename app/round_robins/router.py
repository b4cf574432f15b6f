from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from pydantic import StringConstraints
from sqlmodel import Session
from starlette.responses import Response

from app.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, next_link, page_body
from app.problems import PROBLEMS
from app.read_context import PublicRead
from app.round_robins import service
from app.round_robins.schemas import RoundRobinDetail, RoundRobinSummary

router = APIRouter(prefix="/v1/round-robins", tags=["round-robins"])

Value = Annotated[str, StringConstraints(max_length=100)]


@router.get("", response_model=Page[RoundRobinSummary], responses=PROBLEMS(400))
async def list_round_robins(
    request: Request,
    read: PublicRead,
    force: Annotated[
        list[Value] | None,
        Query(description="a force that answered it (repeatable)", max_length=50),
    ] = None,
    topic: Annotated[
        list[Value] | None, Query(description="a topic of an entry (repeatable)", max_length=50)
    ] = None,
    q: Annotated[str | None, Query(description="full text over the entries, as in the log")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=512, description="next_cursor of the previous page")
    ] = None,
    count: Annotated[bool, Query(description="also count every match into `total`")] = False,
) -> Response:
    """Round-robin requests (one text sent to many forces), largest group first."""

    def page(session: Session, now: datetime) -> tuple[bytes, dict[str, str]]:
        items, next_cursor, total = service.list_groups(
            session,
            forces=tuple(force or ()),
            topics=tuple(topic or ()),
            q=q,
            limit=limit,
            cursor=cursor,
            count=count,
            now=now,
        )
        body = page_body([item.model_dump_json().encode() for item in items], next_cursor, total)
        return body, next_link(request, next_cursor)

    return await read.answer(page, slow=count)


@router.get("/{round_robin_id}", response_model=RoundRobinDetail, responses=PROBLEMS(404))
async def get_round_robin(
    round_robin_id: Annotated[str, Path(max_length=40)], read: PublicRead
) -> Response:
    """One round-robin: how each force answered, and how many gave each outcome."""

    def detail(session: Session, now: datetime) -> tuple[bytes, dict[str, str]]:
        return service.get_group(session, round_robin_id).model_dump_json().encode(), {}

    return await read.answer(detail)
