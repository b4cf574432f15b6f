from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from app import links
from app.caching import data_etag, not_modified, tagged_response
from app.db import ReadSession, utcnow
from app.disclosure_log.router import Filters
from app.exports import service
from app.exports.service import MEDIA_TYPES, Format
from app.problems import PROBLEMS

router = APIRouter(prefix="/v1", tags=["mirroring"])


def _documented(fmt: Format, description: str) -> dict[int | str, dict[str, Any]]:
    media_type = MEDIA_TYPES[fmt].split(";")[0]
    ok = {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}
    return {200: ok, **PROBLEMS(400)}


def _export(request: Request, session: ReadSession, filters: Filters, fmt: Format) -> Response:
    # The filters are checked (400 for an unknown value) before the first byte is sent. The
    # session stays open until the stream ends: FastAPI closes it after the response.
    now = utcnow()
    etag = data_etag(request, session, now)
    if unchanged := not_modified(request, etag):
        return unchanged
    where = service.selection(session, filters, now)
    chunks = service.stream(session, where, fmt, base_url=links.base_url(request))
    return tagged_response(chunks, etag, media_type=MEDIA_TYPES[fmt])


@router.get(
    "/disclosure-log.ndjson",
    response_class=StreamingResponse,
    responses=_documented(Format.NDJSON, "one entry document (SPEC §7) a line"),
)
def export_ndjson(request: Request, session: ReadSession, filters: Filters) -> Response:
    """Every matching entry as NDJSON, streamed; `POST /v1/import` takes it unchanged."""
    return _export(request, session, filters, Format.NDJSON)


@router.get(
    "/disclosure-log.csv",
    response_class=StreamingResponse,
    responses=_documented(Format.CSV, "a header, then one row an entry; lists joined with ;"),
)
def export_csv(request: Request, session: ReadSession, filters: Filters) -> Response:
    """Every matching entry as CSV, one row an entry, streamed."""
    return _export(request, session, filters, Format.CSV)
