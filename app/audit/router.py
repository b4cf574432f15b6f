from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.audit import service
from app.audit.schemas import AuditEventPublic
from app.db import ReadSession
from app.keys.auth import AdminActor
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, next_link
from app.problems import PROBLEMS

router = APIRouter(prefix="/v1/audit", tags=["audit (admin key)"])

Filter = Annotated[str | None, Query(max_length=100)]


@router.get(
    "",
    response_model=Page[AuditEventPublic],
    response_model_exclude_unset=True,
    responses=PROBLEMS(400, 401, 403),
)
def list_events(
    request: Request,
    response: Response,
    session: ReadSession,
    _: AdminActor,
    entity_type: Filter = None,
    entity_id: Filter = None,
    action: Filter = None,
    key: Filter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    count: bool = False,
) -> Page[AuditEventPublic]:
    """Who changed what and when, newest first."""
    page = service.list_events(
        session,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        key_name=key,
        limit=limit,
        cursor=cursor,
        count=count,
    )
    response.headers.update({**next_link(request, page.next_cursor), "Cache-Control": "no-store"})
    return page
