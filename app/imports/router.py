from collections.abc import Iterator

import anyio.from_thread
from fastapi import APIRouter, Request

from app.db import WriteSession
from app.imports import service
from app.imports.schemas import ImportResult
from app.keys.auth import CurrentActor
from app.problems import PROBLEMS

router = APIRouter(tags=["import (key needed)"])


def _chunks(request: Request) -> Iterator[bytes]:
    """The body as it arrives. The route runs in a worker thread (the database calls block),
    so each chunk is awaited on the event loop; the body is never held whole."""
    stream = request.stream()

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        yield chunk


@router.post(
    "/v1/import",
    response_model=ImportResult,
    responses=PROBLEMS(401, 403, 413),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
def import_entries(request: Request, session: WriteSession, actor: CurrentActor) -> ImportResult:
    """Upsert NDJSON entry documents by (force, reference): all or nothing."""
    lines = service.lines_of(_chunks(request))
    return service.import_entries(session, lines, actor=actor)
