from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.changes import service
from app.changes.schemas import ChangePage
from app.db import ReadSession
from app.entries.schemas import dump
from app.entries.service import timestamp, tombstone
from app.errors import BadRequest
from app.http_cache import public_response
from app.models import MAX_SEQ
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor, next_link
from app.problems import PROBLEMS

router = APIRouter(prefix="/v1/changes", tags=["mirroring"])

CURSOR_KIND = "changes"


def _entry(row: service.ChangeRow) -> Any:
    if row.withdrawn_at is None:
        return orjson.Fragment(row.document)
    return dump(tombstone(row))


@router.get("", response_model=ChangePage, responses=PROBLEMS(400))
def list_changes(
    request: Request,
    session: ReadSession,
    since: Annotated[
        str | None, Query(max_length=200, description="next_cursor of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Every publish, update and withdrawal in order, each with the entry's current state."""
    after = 0 if since is None else decode_cursor(since, CURSOR_KIND, 1)[0]
    if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_SEQ:
        raise BadRequest(f"cursor {since!r} is not a cursor this feed issued")
    rows = service.since(session, after, limit)
    last = rows[-1].seq if rows else after
    next_cursor = encode_cursor(CURSOR_KIND, [last])
    body = {
        "items": [
            {
                "change": row.kind,
                "at": timestamp(row.at),
                "id": row.id,
                "seq": row.seq,
                "entry": _entry(row),
            }
            for row in rows
        ],
        "next_cursor": next_cursor,
    }
    return public_response(
        request, orjson.dumps(body), headers=next_link(request, next_cursor, param="since")
    )
