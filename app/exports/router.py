from typing import Any

from fastapi import APIRouter
from starlette.responses import Response, StreamingResponse

from app import links
from app.db import public_session
from app.disclosure_log.filters import Filters, LogPaging
from app.disclosure_log.service import selection
from app.exports import service
from app.exports.service import MEDIA_TYPES, Format
from app.problems import PROBLEMS
from app.read_context import PublicRead

router = APIRouter(prefix="/v1", tags=["mirroring"], dependencies=[LogPaging])


def _documented(fmt: Format, description: str) -> dict[int | str, dict[str, Any]]:
    media_type = MEDIA_TYPES[fmt].split(";")[0]
    ok = {"description": description, "content": {media_type: {"schema": {"type": "string"}}}}
    return {200: ok, **PROBLEMS(400)}


async def _export(read: PublicRead, filters: Filters, fmt: Format) -> Response:
    # The filters are checked (400 for an unknown value) before the first byte is sent; each
    # batch is then read on a short-lived session of its own.
    return await read.stream(
        lambda session, now: selection(session, filters, now),
        lambda where: service.stream(
            where, fmt, sessions=public_session, base_url=links.base_url(read.request)
        ),
        media_type=MEDIA_TYPES[fmt],
    )


@router.get(
    "/disclosure-log.ndjson",
    response_class=StreamingResponse,
    responses=_documented(Format.NDJSON, "one entry document (SPEC §7) a line"),
)
async def export_ndjson(read: PublicRead, filters: Filters) -> Response:
    """Every matching entry as NDJSON, streamed; `POST /v1/import` takes it unchanged."""
    return await _export(read, filters, Format.NDJSON)


@router.get(
    "/disclosure-log.csv",
    response_class=StreamingResponse,
    responses=_documented(Format.CSV, "a header, then one row an entry; lists joined with ;"),
)
async def export_csv(read: PublicRead, filters: Filters) -> Response:
    """Every matching entry as CSV, one row an entry, streamed."""
    return await _export(read, filters, Format.CSV)
