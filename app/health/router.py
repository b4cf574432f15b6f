from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from app.db import get_engine
from app.errors import ServiceUnavailable
from app.migrate import current_revision, head_revision
from app.problems import PROBLEMS, RETRY_AFTER_S

router = APIRouter(tags=["operations"])


class Health(BaseModel):
    status: str
    revision: str | None = None


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=PROBLEMS(503))
def readyz() -> Health:
    """The database is reachable and migrated to the newest revision."""
    try:
        revision = current_revision(get_engine())
    except SQLAlchemyError as exc:
        # Down or restarting: a probe asks again after the same wait as every other request.
        raise ServiceUnavailable(
            f"database unreachable: {type(exc).__name__}",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        ) from None
    if revision != head_revision():
        raise ServiceUnavailable(
            f"database at revision {revision!r}, expected {head_revision()!r}; "
            "run `foilog db upgrade`"
        )
    return Health(status="ready", revision=revision)
