from typing import Any

from pydantic import BaseModel, Field

from app.entries.schemas import (
    MAX_ITEMS,
    Reference,
    RequestPart,
    ResponseBody,
    Strict,
    Title,
    TopicSlug,
)
from app.foi_requests.schemas import MAX_ALIASES, MAX_TOPICS, ForceId, StatutoryDate
from app.inputs import Timestamp
from app.models import Law


class ImportDocument(Strict):
    """An entry document (SPEC §7) as import reads it. Output-only fields are accepted so an
    export imports unchanged, but derived again here; `law` is checked against the force."""

    force: ForceId
    reference: Reference
    aliases: list[Reference] = Field(default_factory=list, max_length=MAX_ALIASES)
    title: Title
    topics: list[TopicSlug] = Field(default_factory=list, max_length=MAX_TOPICS)
    received_on: StatutoryDate
    # What moves `due_on`, checked as the write API checks them (SPEC §2).
    clarification_received_on: StatutoryDate | None = None
    extended_due_on: StatutoryDate | None = None
    published_at: Timestamp | None = None
    request: RequestPart = Field(default_factory=RequestPart)
    responses: list[ResponseBody] = Field(default_factory=list, max_length=MAX_ITEMS)
    law: Law | None = None
    id: Any = None
    due_on: Any = None
    responded_on: Any = None
    responded_within_deadline: Any = None
    outcome: Any = None
    exemptions: Any = None
    updated_at: Any = None
    status: Any = None
    # Output-only: attachments are uploaded, never imported (the mirror copies them).
    attachments: Any = None
    # Groups are this instance's own: an import links the entries itself (SPEC §12).
    round_robin: Any = None


class ImportResult(BaseModel):
    created: int = 0
    updated: int = 0
    # Lines that said what their published entry says already: nothing written or announced.
    unchanged: int = 0
