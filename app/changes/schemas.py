from datetime import datetime

from pydantic import BaseModel

from app.entries.schemas import EntryDocument, Tombstone
from app.models import ChangeKind


class ChangeItem(BaseModel):
    change: ChangeKind
    at: datetime
    id: int
    seq: int
    entry: EntryDocument | Tombstone


class ChangePage(BaseModel):
    """`next_cursor` is always set: poll with it forever; it stays put while nothing is new."""

    items: list[ChangeItem]
    next_cursor: str
