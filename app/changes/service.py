from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, func, insert, select, update
from sqlmodel import Session

from app.db import utcnow
from app.models import ChangeCounter, ChangeKind, DisclosureEntry, EntryChange
from app.round_robins import service as round_robins


class ChangeRow(NamedTuple):
    seq: int
    kind: str
    at: datetime
    id: int
    document: str
    force_id: str
    reference: str
    withdrawn_at: datetime | None
    withdrawal_reason: str | None


def record(session: Session, entry_ids: Sequence[int], kind: ChangeKind) -> None:
    """Append changes to the feed. Call it as the last write before commit.

    Taking sequence numbers from the one counter row locks it until commit, so a higher number
    never becomes visible before a lower one: a reader that polls `seq > cursor` never skips
    a change, whichever process wrote it. (A plain sequence hands out numbers that can commit
    out of order.) The lock is held only from here to commit.
    """
    if not entry_ids:
        return
    counter = ChangeCounter.__table__.c  # type: ignore[attr-defined]
    last: int = session.execute(
        update(ChangeCounter)
        .where(counter.id == 1)
        .values(value=counter.value + len(entry_ids))
        .returning(counter.value)
    ).scalar_one()
    first = last - len(entry_ids) + 1
    now = utcnow()
    session.execute(
        insert(EntryChange),
        [
            {"seq": first + offset, "entry_id": entry_id, "kind": kind, "at": now}
            for offset, entry_id in enumerate(entry_ids)
        ],
    )


def data_version_select() -> Select[Any]:
    """The feed's last change number and when it was made: one row, read by every public
    answer's tag. (A database rebuilt from scratch counts from 0 again, at another time.)"""
    counters = ChangeCounter.__table__  # type: ignore[attr-defined]
    changes = EntryChange.__table__  # type: ignore[attr-defined]
    return (
        select(counters.c.value, changes.c.at)
        .select_from(counters.outerjoin(changes, changes.c.seq == counters.c.value))
        .where(counters.c.id == 1)
    )


def due_announcements(session: Session) -> list[int]:
    """Scheduled entries whose time has come but that the feed has not announced yet."""
    entry = DisclosureEntry.__table__.c  # type: ignore[attr-defined]
    query = (
        select(entry.id)
        .where(entry.announced_at.is_(None), entry.published_at <= utcnow())
        .where(entry.withdrawn_at.is_(None))
        .order_by(entry.published_at, entry.id)
    )
    return list(session.execute(query).scalars())


def announce(session: Session, entry_ids: list[int]) -> int:
    """Announce these entries as published. Processes may race here: the conditional UPDATE
    lets exactly one of them claim each entry."""
    entry = DisclosureEntry.__table__.c  # type: ignore[attr-defined]
    round_robins.lock(session)
    claimed = session.execute(
        update(DisclosureEntry)
        .where(entry.id.in_(entry_ids), entry.announced_at.is_(None))
        .values(announced_at=utcnow())
        .returning(entry.id)
    ).scalars()
    ids = sorted(claimed)
    # Only now visible, they join their round-robins now (SPEC §12).
    regrouped = round_robins.group_announced(session, ids)
    record(session, ids, ChangeKind.PUBLISHED)
    record(session, regrouped, ChangeKind.UPDATED)
    session.commit()
    return len(ids)


def since(session: Session, after: int, limit: int) -> list[ChangeRow]:
    """Changes after `after`, in order, each with its entry's current state."""
    change = EntryChange.__table__.c  # type: ignore[attr-defined]
    entry = DisclosureEntry.__table__.c  # type: ignore[attr-defined]
    rows = session.execute(
        select(
            change.seq,
            change.kind,
            change.at,
            change.entry_id,
            entry.document,
            entry.force_id,
            entry.reference,
            entry.withdrawn_at,
            entry.withdrawal_reason,
        )
        .join_from(EntryChange, DisclosureEntry, change.entry_id == entry.id)
        .where(change.seq > after)
        .order_by(change.seq)
        .limit(limit)
    ).all()
    return [ChangeRow(*row) for row in rows]


def latest(session: Session) -> int:
    """The position of the newest change: a reader starting here sees only what comes next."""
    change = EntryChange.__table__.c  # type: ignore[attr-defined]
    return int(session.execute(select(func.coalesce(func.max(change.seq), 0))).scalar_one())
