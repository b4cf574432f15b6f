from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from app.entries.schemas import Strict

MAX_FILTERS = 100
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]


class WebhookCreate(Strict):
    url: Url
    events: list[Value] = Field(
        min_length=1,
        max_length=10,
        description="any of entry.published, entry.updated, entry.withdrawn",
    )
    forces: list[Value] | None = Field(
        default=None, max_length=MAX_FILTERS, description="only entries of these forces"
    )
    topics: list[Value] | None = Field(
        default=None, max_length=MAX_FILTERS, description="only entries with one of these topics"
    )
    description: Description = ""


class WebhookPublic(BaseModel):
    """A subscription as listed: never its secret. `status` is `disabled` once deliveries
    failed for the whole retry window (`disabled_reason` says why); `failing_since` and
    `next_attempt_at` tell of a delivery being retried."""

    id: int
    url: str
    events: list[str]
    forces: list[str]
    topics: list[str]
    description: str
    created_at: datetime
    status: str
    failing_since: datetime | None
    next_attempt_at: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None


class WebhookCreated(WebhookPublic):
    """The signing secret is in this answer only: keep it now, it is never shown again."""

    secret: str


class WebhookEnable(Strict):
    skip_to_now: bool = Field(
        default=False,
        description="resume at the newest change instead of the one that failed: what "
        "happened while the subscription was disabled is not sent",
    )


class DeliveredChange(BaseModel):
    """What an attempt carried: the event type, and for a change of the feed its `seq` and
    entry id (both null for a test message)."""

    type: str
    seq: int | None
    id: int | None


class DeliveryPublic(BaseModel):
    """One attempt. `webhook-id` (`message_id`) is the same for every attempt at one change."""

    webhook_id: int
    message_id: str
    change: DeliveredChange
    attempted_at: datetime
    status_code: int | None
    error: str | None
    next_retry_at: datetime | None
    delivered: bool
