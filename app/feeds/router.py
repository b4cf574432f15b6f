from fastapi import APIRouter, Request
from starlette.responses import Response

from app import links
from app.disclosure_log.filters import Filters, LogPaging
from app.feeds import service
from app.problems import PROBLEMS
from app.read_context import PublicRead

router = APIRouter(prefix="/v1", tags=["disclosure log"], dependencies=[LogPaging])

ATOM_TYPE = "application/atom+xml"


@router.get(
    "/disclosure-log.atom",
    response_class=Response,
    responses={
        200: {
            "description": "an Atom 1.0 feed; each entry links to its JSON document",
            "content": {ATOM_TYPE: {"schema": {"type": "string"}}},
        },
        **PROBLEMS(400),
    },
)
async def atom_feed(request: Request, read: PublicRead, filters: Filters) -> Response:
    """Atom 1.0 feed of the newest 50 entries the log's filters select, newest first."""
    base_url = links.base_url(request)
    query = request.url.query
    feed_url = f"{base_url}{request.url.path}" + (f"?{query}" if query else "")
    return await read.document(
        lambda session, now: service.atom(
            session, filters, now=now, feed_url=feed_url, base_url=base_url
        ),
        media_type=ATOM_TYPE,
    )
