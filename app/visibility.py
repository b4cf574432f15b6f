from datetime import datetime

from sqlalchemy import ColumnElement, and_

from app.models import DisclosureEntry


def public_entries(now: datetime) -> ColumnElement[bool]:
    """The one definition of what the public may see: published, due, not withdrawn."""
    return and_(
        DisclosureEntry.published_at <= now,  # type: ignore[arg-type]
        DisclosureEntry.withdrawn_at.is_(None),  # type: ignore[union-attr]
    )
