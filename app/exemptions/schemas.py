from pydantic import BaseModel

from app.models import ExemptionKind, Law


class ExemptionPublic(BaseModel):
    id: str
    law: Law
    section: str
    heading: str
    kind: ExemptionKind
    test: str | None
    ncnd_subsection: str | None


class ExemptionDetail(ExemptionPublic):
    notes: str | None
    entry_count: int
    entry_count_by_force: dict[str, int]
