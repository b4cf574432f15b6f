from datetime import datetime

from sqlalchemy import ColumnElement, and_

from app.models import DisclosureEntry, table_of

_entry = table_of(DisclosureEntry).c


def public_entries(now: datetime) -> ColumnElement[bool]:
    """The one definition of what the public may see: published, due, not withdrawn."""
    return and_(_entry.published_at <= now, _entry.withdrawn_at.is_(None))
