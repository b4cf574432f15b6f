from fastapi import APIRouter
from starlette.responses import Response

from app.disclosure_log.filters import Filters, LogPaging
from app.problems import PROBLEMS
from app.read_context import PublicRead
from app.stats import service
from app.stats.schemas import Stats

router = APIRouter(prefix="/v1/stats", tags=["disclosure log"], dependencies=[LogPaging])


@router.get("", response_model=Stats, responses=PROBLEMS(400))
async def get_stats(read: PublicRead, filters: Filters) -> Response:
    """Counts over the published entries the log's filters select, and answering times."""
    return await read.answer(
        lambda session, now: (
            service.stats(session, filters, now=now).model_dump_json().encode(),
            {},
        ),
        slow=True,
    )
