from datetime import date

from pydantic import Field

from app.entries.schemas import (
    MAX_ITEMS,
    Answer,
    Citation,
    ResponseBody,
    Signatory,
    Strict,
    Text,
)
from app.models import Outcome, ResponseKind


class ResponseCreate(ResponseBody):
    """A response as a force sends it (SPEC §5)."""


class ResponseUpdate(Strict):
    """A correction: the fields given replace those of the response; answers and citations
    are replaced as whole lists."""

    kind: ResponseKind | None = None
    responded_on: date | None = None
    outcome: Outcome | None = None
    text: Text | None = None
    answers: list[Answer] | None = Field(default=None, max_length=MAX_ITEMS)
    citations: list[Citation] | None = Field(default=None, max_length=50)
    signatory: Signatory | None = None
