from typing import Annotated

from pydantic import Field, StringConstraints

from app.entries.schemas import Strict, Title, TopicSlug
from app.foi_requests.schemas import MAX_TOPICS
from app.inputs import Timestamp
from app.models import MAX_ID


class Publish(Strict):
    request_id: int = Field(ge=1, le=MAX_ID)
    title: Title | None = Field(default=None, description="defaults to the request's title")
    topics: list[TopicSlug] | None = Field(
        default=None, max_length=MAX_TOPICS, description="default to the request's topics"
    )
    publish_at: Timestamp | None = Field(
        default=None, description="a future time keeps the entry hidden until then"
    )
    acknowledge_privacy_warning: bool = False


class EntryUpdate(Strict):
    title: Title | None = None
    topics: list[TopicSlug] | None = Field(default=None, max_length=MAX_TOPICS)
    acknowledge_privacy_warning: bool = False


class Withdraw(Strict):
    reason: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
        Field(description="published in the entry's tombstone"),
    ]
    acknowledge_privacy_warning: bool = False
