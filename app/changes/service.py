from collections.abc import Sequence

from sqlalchemy import insert, update
from sqlmodel import Session

from app.db import utcnow
from app.models import ChangeCounter, ChangeKind, EntryChange


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
