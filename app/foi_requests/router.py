from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import Session

from app.db import ReadSession, WriteSession
from app.foi_requests import service
from app.foi_requests.schemas import (
    RequestCreate,
    RequestInternal,
    RequestSummary,
    RequestUpdate,
)
from app.keys.auth import CurrentActor
from app.models import FoiRequest
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, next_link
from app.params import PRIVATE, Acknowledge, IfMatch, ResourceId
from app.problems import PROBLEMS

router = APIRouter(prefix="/v1/requests", tags=["requests (key needed)"])


def send(session: Session, request: FoiRequest, response: Response) -> RequestInternal:
    """The internal view of a request, with its ETag; never cached, it names the requester."""
    response.headers.update({"ETag": service.etag(request), **PRIVATE})
    return service.internal(session, request)


@router.post(
    "",
    status_code=201,
    response_model=RequestInternal,
    responses=PROBLEMS(401, 403, 409, 413),
)
def create_request(
    body: RequestCreate, session: WriteSession, actor: CurrentActor, response: Response
) -> RequestInternal:
    """Record a request as the force received it; `due_on` is computed."""
    request = service.create_request(session, body, actor=actor)
    response.headers["Location"] = f"/v1/requests/{request.id}"
    return send(session, request, response)


@router.get(
    "",
    response_model=Page[RequestSummary],
    response_model_exclude_unset=True,
    responses=PROBLEMS(400, 401, 403),
)
def list_requests(
    http_request: Request,
    response: Response,
    session: ReadSession,
    actor: CurrentActor,
    force: Annotated[list[str], Query(max_length=100)] = [],  # noqa: B006
    status: Annotated[list[str], Query(max_length=10)] = [],  # noqa: B006
    overdue: bool | None = None,
    due_before: date | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    count: bool = False,
) -> Page[RequestSummary]:
    """Requests of the key's forces, with requester details, the most urgent first."""
    page = service.list_requests(
        session,
        actor=actor,
        force=force,
        status=status,
        overdue=overdue,
        due_before=due_before,
        limit=limit,
        cursor=cursor,
        count=count,
    )
    response.headers.update({**next_link(http_request, page.next_cursor), **PRIVATE})
    return page


@router.get("/{request_id}", response_model=RequestInternal, responses=PROBLEMS(401, 403, 404))
def get_request(
    request_id: ResourceId, session: ReadSession, actor: CurrentActor, response: Response
) -> RequestInternal:
    """One request with its responses. Another force's request answers 403."""
    return send(session, service.get_request(session, request_id, actor=actor), response)


@router.patch(
    "/{request_id}",
    response_model=RequestInternal,
    responses=PROBLEMS(401, 403, 404, 412, 413),
)
def update_request(
    request_id: ResourceId,
    body: RequestUpdate,
    session: WriteSession,
    actor: CurrentActor,
    response: Response,
    if_match: IfMatch = None,
    acknowledge_privacy_warning: Acknowledge = False,
) -> RequestInternal:
    """Change status, clarification date, extension, text, questions or topics."""
    request = service.update_request(
        session,
        request_id,
        body,
        actor=actor,
        if_match=if_match,
        acknowledge_privacy_warning=acknowledge_privacy_warning,
    )
    return send(session, request, response)
