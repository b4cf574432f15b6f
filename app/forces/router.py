from fastapi import APIRouter, Request
from starlette.responses import Response

from app.db import PublicSession
from app.forces import service
from app.forces.schemas import ForcePublic
from app.http_cache import public_model
from app.pagination import ItemList
from app.problems import PROBLEMS

router = APIRouter(prefix="/v1/forces", tags=["reference data"])


@router.get("", response_model=ItemList[ForcePublic])
def list_forces(request: Request, session: PublicSession) -> Response:
    """Every police force and national body, with its law and published entry count."""
    return public_model(request, ItemList(items=service.list_forces(session)))


@router.get("/{force_id}", response_model=ForcePublic, responses=PROBLEMS(404))
def get_force(force_id: str, request: Request, session: PublicSession) -> Response:
    """One force."""
    return public_model(request, service.get_force(session, force_id))
