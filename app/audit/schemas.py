from datetime import datetime
from typing import Any

from pydantic import BaseModel


class AuditEventPublic(BaseModel):
    """One write: who (key), what (action, entity) and when, with the state before and after."""

    id: int
    at: datetime
    key_id: int | None
    key_name: str
    action: str
    entity_type: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
