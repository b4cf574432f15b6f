from datetime import datetime

from sqlmodel import Session, select

from app.db import reference_data
from app.errors import NotFound
from app.forces.schemas import ForcePublic
from app.models import Force
from app.tally import service as tally


def _public(force: Force, counts: dict[str, int]) -> ForcePublic:
    return ForcePublic.model_validate(
        {**force.model_dump(), "entry_count": counts.get(force.id, 0)}
    )


def list_forces(session: Session, now: datetime) -> list[ForcePublic]:
    counts = tally.public_by_facet(session, now, "f")
    forces = session.execute(select(Force).order_by(Force.id)).scalars()
    return [_public(force, counts) for force in forces]


def _missing(force_id: str) -> NotFound:
    return NotFound(f"no force with id {force_id!r}; GET /v1/forces lists them")


def get(session: Session, force_id: str) -> Force:
    force = session.get(Force, force_id)
    if force is None:
        raise _missing(force_id)
    return force


def require(session: Session, force_id: str) -> None:
    """404 for a force that does not exist, from the ids cached per process."""
    if force_id not in known_ids(session):
        raise _missing(force_id)


def get_force(session: Session, force_id: str, now: datetime) -> ForcePublic:
    counts = tally.public_by_facet(session, now, "f", force_id)
    return _public(get(session, force_id), counts)


def known_ids(session: Session) -> frozenset[str]:
    return reference_data(session, "forces", _load_ids)


def _load_ids(session: Session) -> frozenset[str]:
    return frozenset(session.execute(select(Force.id)).scalars())


def names(session: Session) -> dict[str, str]:
    """Every force's name by id, cached per process (only a migration changes them)."""
    return reference_data(session, "force-names", _load_names)


def _load_names(session: Session) -> dict[str, str]:
    return dict(session.execute(select(Force.id, Force.name).order_by(Force.name)).all())
