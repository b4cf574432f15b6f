from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints

from app.entries.schemas import (
    MAX_ITEMS,
    Name,
    Question,
    Reference,
    ResponseBody,
    ShortText,
    Strict,
    Text,
    Title,
    TopicSlug,
)
from app.models import RequestStatus

# The Acts came into force in 2005; the bounds keep deadline arithmetic within the calendar.
StatutoryDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2099, 12, 31))]
ForceId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
MAX_ALIASES = 20
MAX_TOPICS = 50


class Requester(Strict):
    """Private: only keyed clients ever see it (SPEC §6)."""

    name: Name | None = None
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=320)] | None = None
    address: ShortText | None = None
    category: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None


class RequestCreate(Strict):
    force: ForceId
    reference: Reference
    aliases: list[Reference] = Field(default_factory=list, max_length=MAX_ALIASES)
    received_on: StatutoryDate
    title: Title
    text: Text = ""
    topics: list[TopicSlug] = Field(default_factory=list, max_length=MAX_TOPICS)
    questions: list[Question] = Field(default_factory=list, max_length=MAX_ITEMS)
    requester: Requester | None = None


class RequestUpdate(Strict):
    """The fields given change; `null` clears the clarification date, extension or requester."""

    status: RequestStatus | None = None
    clarification_received_on: StatutoryDate | None = None
    extended_due_on: StatutoryDate | None = None
    title: Title | None = None
    text: Text | None = None
    aliases: list[Reference] | None = Field(default=None, max_length=MAX_ALIASES)
    topics: list[TopicSlug] | None = Field(default=None, max_length=MAX_TOPICS)
    questions: list[Question] | None = Field(default=None, max_length=MAX_ITEMS)
    requester: Requester | None = None


class RequestSummary(Strict):
    """A request as its force's FOI team sees it, requester included."""

    id: int
    force: str
    reference: str
    aliases: list[str]
    received_on: date
    title: str
    text: str
    topics: list[str]
    questions: list[Question]
    requester: Requester | None
    status: RequestStatus
    clarification_received_on: date | None
    due_on: date
    extended_due_on: date | None
    overdue: bool
    responded_on: date | None
    responded_within_deadline: bool | None
    entry_id: int | None
    created_at: datetime
    updated_at: datetime
    version: int


class ResponseInternal(ResponseBody):
    """A response as its request's document and the responses routes show it."""

    id: int
    request_id: int
    created_at: datetime
    updated_at: datetime
    version: int


class RequestInternal(RequestSummary):
    responses: list[ResponseInternal]
