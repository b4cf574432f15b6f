from fastapi import APIRouter
from starlette.responses import Response

from app.pagination import ItemList
from app.read_context import PublicRead
from app.topics import service
from app.topics.schemas import TopicPublic

router = APIRouter(prefix="/v1/topics", tags=["reference data"])


@router.get("", response_model=ItemList[TopicPublic])
async def list_topics(read: PublicRead) -> Response:
    """Topics of published entries, with entry counts."""
    return await read.document(
        lambda session, now: (
            ItemList(items=service.list_topics(session, now)).model_dump_json().encode()
        )
    )
