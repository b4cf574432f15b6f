"""Statistics over the filtered public log, every figure computed by the database: GROUP BY
counts, and a median taken by ORDER BY ... OFFSET, which both databases run the same way (only
PostgreSQL has percentile_cont). No entry is loaded into Python."""

from typing import Any

from sqlalchemy import ColumnElement, extract, func, select
from sqlmodel import Session, col

from app.db import utcnow
from app.disclosure_log.schemas import LogFilters
from app.exports.service import selection
from app.models import DisclosureEntry, EntryExemption, EntryTopic
from app.stats.schemas import Stats, Timeliness

Entry = DisclosureEntry
Where = list[ColumnElement[bool]]


def _counts(session: Session, where: Where, key: Any, *, link: Any = None) -> dict[str, int]:
    """Entries per value of `key`, most first; `link` joins a table of the entry's values."""
    query = select(key, func.count()).select_from(Entry)
    if link is not None:
        query = query.join(link, link.entry_id == col(Entry.id))
    rows = session.execute(query.where(*where).group_by(key)).all()
    return dict(sorted(((k, n) for k, n in rows if k is not None), key=lambda r: (-r[1], r[0])))


def _by_month(session: Session, where: Where) -> dict[str, int]:
    received = col(Entry.received_on)
    year, month = extract("year", received), extract("month", received)
    rows = session.execute(
        select(year, month, func.count()).where(*where).group_by(year, month).order_by(year, month)
    )
    return {f"{int(y):04d}-{int(m):02d}": n for y, m, n in rows}


def _median_working_days(session: Session, where: Where, known: int) -> float | None:
    """The middle value (the mean of the two middle ones for an even count) of the `known`
    non-null working-day counts."""
    if known == 0:
        return None
    days = col(Entry.working_days_to_respond)
    middle = session.scalars(
        select(days)
        .where(*where, days.is_not(None))
        .order_by(days)
        .offset((known - 1) // 2)
        .limit(2 - known % 2)
    ).all()
    return sum(d for d in middle if d is not None) / len(middle)


def stats(session: Session, filters: LogFilters) -> Stats:
    """Counts by outcome, exemption, topic, force and month of receipt, and timeliness."""
    where = selection(session, filters, utcnow())
    total, responded, within, known = session.execute(
        select(
            func.count(),
            func.count(col(Entry.responded_on)),
            func.count().filter(col(Entry.responded_within_deadline).is_(True)),
            func.count(col(Entry.working_days_to_respond)),
        ).where(*where)
    ).one()
    return Stats(
        total=total,
        by_outcome=_counts(session, where, col(Entry.outcome)),
        by_exemption=_counts(session, where, col(EntryExemption.exemption_id), link=EntryExemption),
        by_topic=_counts(session, where, col(EntryTopic.topic_slug), link=EntryTopic),
        by_force=_counts(session, where, col(Entry.force_id)),
        by_month=_by_month(session, where),
        timeliness=Timeliness(
            responded=responded,
            within_deadline=within,
            rate=round(within / responded, 4) if responded else None,
            median_working_days=_median_working_days(session, where, known),
        ),
    )
