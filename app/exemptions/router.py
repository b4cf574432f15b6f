from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from app.exemptions import service
from app.exemptions.schemas import ExemptionDetail, ExemptionPublic
from app.pagination import ItemList
from app.problems import PROBLEMS
from app.read_context import PublicRead

router = APIRouter(prefix="/v1/exemptions", tags=["reference data"])


@router.get("", response_model=ItemList[ExemptionPublic], responses=PROBLEMS(400))
async def list_exemptions(
    read: PublicRead,
    law: Annotated[str | None, Query(description="FOIA, FOISA or EIR", max_length=8)] = None,
) -> Response:
    """The exemption catalogue of FOIA 2000, FOISA 2002 and the EIR 2004."""
    return await read.document(
        lambda session, _: (
            ItemList(items=service.list_exemptions(session, law=law)).model_dump_json().encode()
        )
    )


@router.get("/{exemption_id}", response_model=ExemptionDetail, responses=PROBLEMS(404))
async def get_exemption(exemption_id: str, read: PublicRead) -> Response:
    """One exemption, with how many published entries cite it, per force."""
    # Slow: it counts every public entry that cites the exemption.
    return await read.document(
        lambda session, now: (
            service.get_exemption(session, exemption_id, now).model_dump_json().encode()
        ),
        slow=True,
    )
