from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.db import reference_data
from app.errors import BadRequest, NotFound
from app.exemptions.schemas import ExemptionDetail, ExemptionPublic
from app.models import DisclosureEntry, EntryExemption, Exemption, Law
from app.visibility import public_entries


def list_exemptions(session: Session, *, law: str | None = None) -> list[ExemptionPublic]:
    query = select(Exemption).order_by(Exemption.law, Exemption.id)
    if law is not None:
        if law.upper() not in Law.__members__:
            raise BadRequest(f"unknown law {law!r}; one of {', '.join(Law)}")
        query = query.where(col(Exemption.law) == law.upper())
    return [ExemptionPublic.model_validate(e.model_dump()) for e in session.scalars(query)]


def get(session: Session, exemption_id: str) -> Exemption:
    exemption = session.get(Exemption, exemption_id)
    if exemption is None:
        raise NotFound(f"no exemption with id {exemption_id!r}; GET /v1/exemptions lists them")
    return exemption


def get_exemption(session: Session, exemption_id: str, now: datetime) -> ExemptionDetail:
    exemption = get(session, exemption_id)
    counts = session.execute(
        select(DisclosureEntry.force_id, func.count())
        .join(EntryExemption, col(EntryExemption.entry_id) == DisclosureEntry.id)
        .where(EntryExemption.exemption_id == exemption_id, public_entries(now))
        .group_by(DisclosureEntry.force_id)
        .order_by(DisclosureEntry.force_id)
    )
    by_force = dict(counts.all())
    return ExemptionDetail.model_validate(
        {
            **exemption.model_dump(),
            "entry_count": sum(by_force.values()),
            "entry_count_by_force": by_force,
        }
    )


def catalogue(session: Session) -> dict[str, ExemptionPublic]:
    """The catalogue by id, from the one loaded per process (`listed`)."""
    return {e.id: e for e in listed(session)}


def known_ids(session: Session) -> frozenset[str]:
    """The catalogue's ids, cached per process (only a migration changes them)."""
    return reference_data(session, "exemptions", _load_ids)


def _load_ids(session: Session) -> frozenset[str]:
    return frozenset(session.scalars(select(Exemption.id)))


def listed(session: Session) -> list[ExemptionPublic]:
    """The whole catalogue, loaded once per process (only a migration changes it)."""
    return reference_data(session, "exemption-list", list_exemptions)
