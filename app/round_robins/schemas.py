from datetime import date

from pydantic import BaseModel, Field

from app.models import Outcome


class RoundRobinRef(BaseModel):
    """The group an entry belongs to, as its document shows it."""

    id: str
    size: int = Field(description="how many published entries the group links")


class RoundRobinSummary(BaseModel):
    id: str
    size: int
    title: str = Field(description="the title of the group's earliest published entry")
    forces: list[str]


class RoundRobinMember(BaseModel):
    id: int = Field(description="the entry's id in the disclosure log")
    force: str
    reference: str
    title: str
    received_on: date
    responded_on: date | None
    outcome: Outcome | None
    exemptions: list[str]


class RoundRobinDetail(BaseModel):
    id: str
    size: int
    entries: list[RoundRobinMember] = Field(description="by force")
    by_outcome: dict[str, int] = Field(description="how many entries had each outcome")
