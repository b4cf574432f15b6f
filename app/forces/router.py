from fastapi import APIRouter
from starlette.responses import Response

from app.forces import service
from app.forces.schemas import ForcePublic
from app.pagination import ItemList
from app.problems import PROBLEMS
from app.read_context import PublicRead

router = APIRouter(prefix="/v1/forces", tags=["reference data"])


@router.get("", response_model=ItemList[ForcePublic])
async def list_forces(read: PublicRead) -> Response:
    """Every police force and national body, with its law and published entry count."""
    return await read.document(
        lambda session, now: (
            ItemList(items=service.list_forces(session, now)).model_dump_json().encode()
        )
    )


@router.get("/{force_id}", response_model=ForcePublic, responses=PROBLEMS(404))
async def get_force(force_id: str, read: PublicRead) -> Response:
    """One force."""
    return await read.document(
        lambda session, now: service.get_force(session, force_id, now).model_dump_json().encode()
    )
