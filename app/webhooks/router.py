from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.config import get_settings
from app.db import ReadSession, WriteSession
from app.keys.auth import AdminActor
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page, next_link
from app.params import ResourceId
from app.problems import PROBLEMS
from app.webhooks import dispatcher, service
from app.webhooks.schemas import (
    DeliveryPublic,
    WebhookCreate,
    WebhookCreated,
    WebhookEnable,
    WebhookPublic,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks (admin key)"])

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=200)]
NO_STORE = {"Cache-Control": "no-store"}


@router.post("", status_code=201, response_model=WebhookCreated, responses=PROBLEMS(401, 403))
def create_webhook(
    body: WebhookCreate, response: Response, session: WriteSession, actor: AdminActor
) -> WebhookCreated:
    """Subscribe a URL to changes from now on; the answer holds the signing secret, once."""
    hook, secret = service.create(
        session, body, actor=actor, allow_private=get_settings().webhook_allow_private
    )
    response.headers.update({**NO_STORE, "Location": f"/v1/webhooks/{hook.id}"})
    return WebhookCreated(**service.public(hook).model_dump(), secret=secret)


@router.get(
    "",
    response_model=Page[WebhookPublic],
    response_model_exclude_unset=True,
    responses=PROBLEMS(400, 401, 403),
)
def list_webhooks(
    request: Request,
    response: Response,
    session: ReadSession,
    _: AdminActor,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    count: bool = False,
) -> Page[WebhookPublic]:
    """Every subscription, oldest first, with its state; never a secret."""
    page = service.list_webhooks(session, limit=limit, cursor=cursor, count=count)
    response.headers.update({**next_link(request, page.next_cursor), **NO_STORE})
    return page


@router.get("/{webhook_id}", response_model=WebhookPublic, responses=PROBLEMS(401, 403, 404))
def get_webhook(
    webhook_id: ResourceId, response: Response, session: ReadSession, _: AdminActor
) -> WebhookPublic:
    """One subscription; a disabled one says why."""
    response.headers.update(NO_STORE)
    return service.public(service.get(session, webhook_id))


@router.delete("/{webhook_id}", status_code=204, responses=PROBLEMS(401, 403, 404))
def delete_webhook(webhook_id: ResourceId, session: WriteSession, actor: AdminActor) -> Response:
    """Unsubscribe; nothing more is sent, and the deliveries log goes too."""
    service.delete(session, webhook_id, actor=actor)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/enable", response_model=WebhookPublic, responses=PROBLEMS(401, 403, 404, 409)
)
def enable_webhook(
    webhook_id: ResourceId,
    response: Response,
    session: WriteSession,
    actor: AdminActor,
    body: WebhookEnable | None = None,
) -> WebhookPublic:
    """Resume a disabled subscription at the change that failed, or with `skip_to_now` at the
    newest change."""
    response.headers.update(NO_STORE)
    hook = service.enable(session, webhook_id, body or WebhookEnable(), actor=actor)
    return service.public(hook)


@router.post("/{webhook_id}/test", response_model=DeliveryPublic, responses=PROBLEMS(401, 403, 404))
def send_test_message(webhook_id: ResourceId, response: Response, _: AdminActor) -> DeliveryPublic:
    """Send a `webhook.test` message now and answer with the attempt (delivered or not)."""
    # No session from a dependency: none is held while the receiver answers.
    response.headers.update(NO_STORE)
    return dispatcher.send_test(webhook_id)


@router.get(
    "/{webhook_id}/deliveries",
    response_model=Page[DeliveryPublic],
    response_model_exclude_unset=True,
    responses=PROBLEMS(400, 401, 403, 404),
)
def list_deliveries(
    webhook_id: ResourceId,
    request: Request,
    response: Response,
    session: ReadSession,
    _: AdminActor,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    count: bool = False,
) -> Page[DeliveryPublic]:
    """Every delivery attempt, newest first."""
    page = service.deliveries(session, webhook_id, limit=limit, cursor=cursor, count=count)
    response.headers.update({**next_link(request, page.next_cursor), **NO_STORE})
    return page
