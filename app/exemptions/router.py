from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.db import PublicSession
from app.exemptions import service
from app.exemptions.schemas import ExemptionDetail, ExemptionPublic
from app.http_cache import public_model
from app.pagination import ItemList
from app.problems import PROBLEMS

router = APIRouter(prefix="/v1/exemptions", tags=["reference data"])


@router.get("", response_model=ItemList[ExemptionPublic], responses=PROBLEMS(400))
def list_exemptions(
    request: Request,
    session: PublicSession,
    law: Annotated[str | None, Query(description="FOIA, FOISA or EIR", max_length=8)] = None,
) -> Response:
    """The exemption catalogue of FOIA 2000, FOISA 2002 and the EIR 2004."""
    return public_model(request, ItemList(items=service.list_exemptions(session, law=law)))


@router.get("/{exemption_id}", response_model=ExemptionDetail, responses=PROBLEMS(404))
def get_exemption(exemption_id: str, request: Request, session: PublicSession) -> Response:
    """One exemption, with how many published entries cite it, per force."""
    return public_model(request, service.get_exemption(session, exemption_id))
