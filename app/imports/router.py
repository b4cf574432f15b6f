from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.config import get_settings
from app.db import WriteSession
from app.imports import service
from app.imports.schemas import ImportResult
from app.keys.auth import CurrentActor
from app.problems import PROBLEMS

router = APIRouter(tags=["import (key needed)"])


@router.post(
    "/v1/import",
    response_model=ImportResult,
    responses=PROBLEMS(401, 403, 409, 413, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def import_entries(
    request: Request, session: WriteSession, actor: CurrentActor
) -> ImportResult:
    """Upsert NDJSON entry documents by (force, reference): all or nothing."""
    # The body goes to disk as it arrives, and only once it is all in does the import touch the
    # database (the session takes no connection until then): a slow or stalled upload holds no
    # lock and no connection. Appending to a temporary file is a page-cache copy, cheap enough
    # for the event loop.
    with service.Spool(get_settings().max_import_bytes) as spool:
        async for chunk in request.stream():
            spool.write(chunk)
        return await run_in_threadpool(service.import_entries, session, spool, actor=actor)
