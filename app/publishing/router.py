"""The write side of the disclosure log; the public reads live in app.disclosure_log."""

from fastapi import APIRouter, Response

from app.db import WriteSession
from app.entries.schemas import EntryDocument, Tombstone
from app.entries.service import keyed_document, tombstone
from app.keys.auth import CurrentActor
from app.models import DisclosureEntry
from app.params import IfMatch, ResourceId
from app.problems import PROBLEMS
from app.publishing import service
from app.publishing.schemas import EntryUpdate, Publish, Withdraw

router = APIRouter(prefix="/v1/disclosure-log", tags=["publishing (key needed)"])


def send(entry: DisclosureEntry, *, status_code: int = 200) -> Response:
    headers = {"ETag": service.etag(entry), "Cache-Control": "no-store"}
    if status_code == 201:
        headers["Location"] = f"/v1/disclosure-log/{entry.id}"
    return Response(
        keyed_document(entry),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


@router.post(
    "",
    status_code=201,
    response_model=EntryDocument,
    responses=PROBLEMS(401, 403, 404, 409, 413),
)
def publish(body: Publish, session: WriteSession, actor: CurrentActor) -> Response:
    """Publish a request as a disclosure-log entry, now or at `publish_at`."""
    return send(service.publish(session, body, actor=actor), status_code=201)


@router.patch(
    "/{entry_id}",
    response_model=EntryDocument,
    responses=PROBLEMS(401, 403, 404, 410, 412, 413),
)
def update_entry(
    entry_id: ResourceId,
    body: EntryUpdate,
    session: WriteSession,
    actor: CurrentActor,
    if_match: IfMatch = None,
) -> Response:
    """Change an entry's title or topics."""
    return send(service.update(session, entry_id, body, actor=actor, if_match=if_match))


@router.post(
    "/{entry_id}/withdraw",
    response_model=Tombstone,
    responses=PROBLEMS(401, 403, 404, 410, 412, 413),
)
def withdraw_entry(
    entry_id: ResourceId,
    body: Withdraw,
    session: WriteSession,
    actor: CurrentActor,
    if_match: IfMatch = None,
) -> Tombstone:
    """Withdraw an entry published in error; it becomes a tombstone."""
    entry = service.withdraw(
        session,
        entry_id,
        reason=body.reason,
        actor=actor,
        if_match=if_match,
        acknowledge_privacy_warning=body.acknowledge_privacy_warning,
    )
    return tombstone(entry)
