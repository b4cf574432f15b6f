from fastapi import APIRouter, Request
from starlette.responses import Response

from app.db import PublicSession
from app.http_cache import public_model
from app.pagination import ItemList
from app.topics import service
from app.topics.schemas import TopicPublic

router = APIRouter(prefix="/v1/topics", tags=["reference data"])


@router.get("", response_model=ItemList[TopicPublic])
def list_topics(request: Request, session: PublicSession) -> Response:
    """Topics of published entries, with entry counts."""
    return public_model(request, ItemList(items=service.list_topics(session)))
