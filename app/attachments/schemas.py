from datetime import date, datetime

from pydantic import BaseModel

from app.models import ResponseKind


class AttachmentInternal(BaseModel):
    """An attachment as its force's FOI team sees it."""

    id: int
    response_id: int
    filename: str
    media_type: str
    bytes: int
    sha256: str
    url: str
    created_at: datetime


class ResponseAttachments(BaseModel):
    id: int
    kind: ResponseKind
    responded_on: date
    attachments: list[AttachmentInternal]


class RequestAttachments(BaseModel):
    """A request's attachments, response by response, in the order of its responses."""

    request_id: int
    responses: list[ResponseAttachments]
