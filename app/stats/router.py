from fastapi import APIRouter, Request
from starlette.responses import Response

from app.caching import data_etag, kept_response
from app.db import ReadSession, utcnow
from app.disclosure_log.router import Filters
from app.problems import PROBLEMS
from app.stats import service
from app.stats.schemas import Stats

router = APIRouter(prefix="/v1/stats", tags=["disclosure log"])


@router.get("", response_model=Stats, responses=PROBLEMS(400))
def get_stats(request: Request, session: ReadSession, filters: Filters) -> Response:
    """Counts over the published entries the log's filters select, and answering times."""
    now = utcnow()
    etag = data_etag(request, session, now)
    return kept_response(
        request,
        etag,
        lambda: (service.stats(session, filters, now=now).model_dump_json().encode(), {}),
    )
