"""The entry document of SPEC §7 and the parts the write API shares with it."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.inputs import KNOWN_CLEAN, clean_text
from app.models import Law, Outcome, ResponseKind
from app.round_robins.schemas import RoundRobinRef

MAX_TEXT = 200_000
MAX_ITEMS = 200

QuestionNumber = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)
]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT)]
ShortText = Annotated[str, StringConstraints(max_length=10_000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
TopicSlug = Annotated[str, StringConstraints(min_length=1, max_length=80)]


class Strict(BaseModel):
    """Input schemas: no unknown fields, and in every text field no control character (NUL,
    which no database text holds, and the others, which no XML feed may carry)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _clean_text(cls, value: Any, info: ValidationInfo) -> Any:
        if info.context is KNOWN_CLEAN:
            return value
        return clean_text(value)


class Question(Strict):
    number: QuestionNumber
    text: ShortText


class Answer(Strict):
    questions: list[QuestionNumber] = Field(default_factory=list, max_length=MAX_ITEMS)
    text: Text


class PublicInterest(Strict):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)

    for_: list[ShortText] = Field(default_factory=list, alias="for", max_length=50)
    against: list[ShortText] = Field(default_factory=list, max_length=50)
    balance: ShortText | None = None


class Citation(Strict):
    exemption: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    provision: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]
    ncnd: bool = False
    questions: list[QuestionNumber] = Field(default_factory=list, max_length=MAX_ITEMS)
    public_interest: PublicInterest | None = None
    harm: ShortText | None = None


class Signatory(Strict):
    name: Name | None = None
    role: Name | None = None


class ResponseBody(Strict):
    """What a response says: the write API's body and the document's `responses` items."""

    kind: ResponseKind = ResponseKind.INITIAL
    responded_on: date
    outcome: Outcome
    text: Text = ""
    answers: list[Answer] = Field(default_factory=list, max_length=MAX_ITEMS)
    citations: list[Citation] = Field(default_factory=list, max_length=50)
    signatory: Signatory | None = None


class RequestPart(Strict):
    text: Text = ""
    questions: list[Question] = Field(default_factory=list, max_length=MAX_ITEMS)


class AttachmentLink(BaseModel):
    """A document a response released: `response` is that response's position in `responses`,
    `url` serves the bytes once the entry is public."""

    id: int
    response: int
    filename: str
    media_type: str
    bytes: int
    sha256: str
    url: str


class EntryDocument(BaseModel):
    """A published entry in full: what the API serves, the NDJSON export writes, import reads."""

    id: int
    force: str
    law: Law
    reference: str
    aliases: list[str]
    title: str
    topics: list[str]
    received_on: date
    due_on: date
    responded_on: date | None
    responded_within_deadline: bool | None
    outcome: Outcome | None
    exemptions: list[str]
    published_at: datetime
    updated_at: datetime
    status: Literal["published", "scheduled"]
    round_robin: RoundRobinRef | None = Field(
        default=None,
        description="the round-robin (one request sent to many forces) this entry is part of",
    )
    request: RequestPart
    responses: list[ResponseBody]
    attachments: list[AttachmentLink] = Field(default_factory=list)
    clarification_received_on: date | None = Field(
        default=None, description="when the requester's clarification came: the clock restarted"
    )
    extended_due_on: date | None = Field(
        default=None, description="the due date as extended for a public interest test (FOIA)"
    )


class Tombstone(BaseModel):
    id: int
    status: Literal["withdrawn"] = "withdrawn"
    force: str
    reference: str
    withdrawn_at: datetime
    reason: str


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)
