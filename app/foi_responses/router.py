from fastapi import APIRouter, Response

from app.db import WriteSession
from app.foi_requests import service as requests
from app.foi_requests.schemas import ResponseInternal
from app.foi_responses import service
from app.foi_responses.schemas import ResponseCreate, ResponseUpdate
from app.keys.auth import CurrentActor
from app.models import FoiResponse
from app.params import PRIVATE, Acknowledge, IfMatch, ResourceId
from app.problems import PROBLEMS

router = APIRouter(tags=["requests (key needed)"])


def send(response: FoiResponse, http_response: Response) -> ResponseInternal:
    http_response.headers.update({"ETag": service.etag(response), **PRIVATE})
    return requests.response_internal(response)


@router.post(
    "/v1/requests/{request_id}/responses",
    status_code=201,
    response_model=ResponseInternal,
    responses=PROBLEMS(401, 403, 404, 412, 413),
)
def add_response(
    request_id: ResourceId,
    body: ResponseCreate,
    session: WriteSession,
    actor: CurrentActor,
    http_response: Response,
    if_match: IfMatch = None,
    acknowledge_privacy_warning: Acknowledge = False,
) -> ResponseInternal:
    """Answer a request: an initial response or an internal review, with its citations. With
    `If-Match` (the request's ETag), only if the request is as the caller read it."""
    response = service.add(
        session,
        request_id,
        body,
        actor=actor,
        if_match=if_match,
        acknowledge_privacy_warning=acknowledge_privacy_warning,
    )
    http_response.headers["Location"] = f"/v1/responses/{response.id}"
    return send(response, http_response)


@router.patch(
    "/v1/responses/{response_id}",
    response_model=ResponseInternal,
    responses=PROBLEMS(401, 403, 404, 412, 413),
)
def correct_response(
    response_id: ResourceId,
    body: ResponseUpdate,
    session: WriteSession,
    actor: CurrentActor,
    http_response: Response,
    if_match: IfMatch = None,
    acknowledge_privacy_warning: Acknowledge = False,
) -> ResponseInternal:
    """Correct a response; the published entry, if any, follows."""
    response = service.correct(
        session,
        response_id,
        body,
        actor=actor,
        if_match=if_match,
        acknowledge_privacy_warning=acknowledge_privacy_warning,
    )
    return send(response, http_response)
