from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Row, Select, func, select, update
from sqlmodel import Session

from app.db import in_flight, insert_numbered, passable_horizon, settled, utcnow
from app.models import (
    ENTRY_CHANGE_SEQ,
    ChangeKind,
    DisclosureEntry,
    EntryChange,
    EntryTopic,
    table_of,
)
from app.round_robins import service as round_robins

_changes = table_of(EntryChange)
_change = _changes.c
_entry = table_of(DisclosureEntry).c
_topic = table_of(EntryTopic).c


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
    """Append changes to the feed, numbered in order, each with its entry's topics as they now
    stand (`topics_before`). Writers never wait for each other here: `insert_numbered` marks
    each change with the horizon past which a reader may pass it."""
    if not entry_ids:
        return
    now = utcnow()
    topics: dict[int, list[str]] = {entry_id: [] for entry_id in entry_ids}
    for entry_id, slug in session.execute(
        select(_topic.entry_id, _topic.topic_slug)
        .where(_topic.entry_id.in_(topics))
        .order_by(_topic.entry_id, _topic.topic_slug)
    ):
        topics[entry_id].append(slug)
    insert_numbered(
        session,
        _changes,
        [
            {"entry_id": entry_id, "kind": kind, "at": now, "topics": topics[entry_id]}
            for entry_id in entry_ids
        ],
        number="seq",
        sequence=ENTRY_CHANGE_SEQ,
        horizon="horizon",
    )


def due_announcements(session: Session) -> list[int]:
    """Scheduled entries whose time has come but that the feed has not announced yet."""
    query = (
        select(_entry.id)
        .where(_entry.announced_at.is_(None), _entry.published_at <= utcnow())
        .where(_entry.withdrawn_at.is_(None))
        .order_by(_entry.published_at, _entry.id)
    )
    return list(session.execute(query).scalars())


def announce(session: Session, entry_ids: list[int]) -> int:
    """Announce these entries as published, a transaction per round_robins.BATCH of them (each
    links its entries into round-robins under their band keys' locks). Processes may race
    here: the conditional UPDATE lets exactly one of them claim each entry."""
    step = round_robins.BATCH
    return sum(_announce(session, entry_ids[i : i + step]) for i in range(0, len(entry_ids), step))


def _announce(session: Session, entry_ids: list[int]) -> int:
    claimed = session.execute(
        update(DisclosureEntry)
        .where(_entry.id.in_(entry_ids), _entry.announced_at.is_(None))
        .values(announced_at=utcnow())
        .returning(_entry.id)
    ).scalars()
    ids = sorted(claimed)
    # Only now visible, they join their round-robins now (SPEC §12).
    regrouped = round_robins.group_announced(session, ids)
    record(session, ids, ChangeKind.PUBLISHED)
    record(session, regrouped, ChangeKind.UPDATED)
    session.commit()
    return len(ids)


def since(session: Session, after: int, limit: int) -> list[ChangeRow]:
    """Changes after `after`, in order, each with its entry's current state: every change up
    to the last of the next `limit` that a reader may pass. No change numbered below a passable
    one can appear later; those above it wait for a later poll."""
    for _ in range(READ_ATTEMPTS):
        rows = _next_changes(session, after, limit)
        if not rows or all(row.settled for row in rows):
            return [ChangeRow._make(row[:9]) for row in rows]
        highest = passable_horizon(session, rows[0].in_flight, ENTRY_CHANGE_SEQ)
        # A writer that ended after the read, and is not among those `passable_horizon` found
        # in flight, may have committed changes the read did not see: read again if so.
        seen_now = session.execute(
            select(func.count()).where(_change.seq > after, _change.seq <= rows[-1].seq)
        ).scalar_one()
        if seen_now == len(rows):
            return _up_to_last(rows, highest)
    return _up_to_last([row for row in rows if row.settled], None)


READ_ATTEMPTS = 3


def topics_before(session: Session, seqs: Collection[int]) -> dict[int, frozenset[str]]:
    """For each of these changes, by number, the topics its entry had just before it: those
    the entry's previous change recorded (none for its first). Read once the feed has passed
    the change, when every lower number is final."""
    if not seqs:
        return {}
    earlier = _changes.alias("earlier")
    previous = _changes.alias("previous")
    latest_before = (
        select(func.max(earlier.c.seq))
        .where(earlier.c.entry_id == _change.entry_id, earlier.c.seq < _change.seq)
        .scalar_subquery()
    )
    rows = session.execute(
        select(_change.seq, previous.c.topics)
        .join_from(_changes, previous, previous.c.seq == latest_before)
        .where(_change.seq.in_(seqs))
    )
    return {seq: frozenset(topics or ()) for seq, topics in rows}


def _next_changes(session: Session, after: int, limit: int) -> list[Row[Any]]:
    return list(
        session.execute(
            select(
                _change.seq,
                _change.kind,
                _change.at,
                _change.entry_id,
                _entry.document,
                _entry.force_id,
                _entry.reference,
                _entry.withdrawn_at,
                _entry.withdrawal_reason,
                _change.horizon,
                settled(_change.horizon).label("settled"),
                in_flight().label("in_flight"),
            )
            .join_from(_changes, table_of(DisclosureEntry), _change.entry_id == _entry.id)
            .where(_change.seq > after)
            .order_by(_change.seq)
            .limit(limit)
        )
    )


def _up_to_last(rows: list[Row[Any]], highest: int | None) -> list[ChangeRow]:
    """The rows up to the last one whose horizon is at most `highest` (None: any): every
    number below that one is final."""
    end = max(
        (
            i + 1
            for i, row in enumerate(rows)
            if highest is None or row.horizon is None or row.horizon <= highest
        ),
        default=0,
    )
    return [ChangeRow._make(row[:9]) for row in rows[:end]]


# The counted stretch of the data version starts at a multiple of this below the last settled
# change: its start moves once per so many changes, and the count stays small.
VERSION_STRIDE = 1024


def data_version_select() -> Select[Any]:
    """The feed's data version in one row, which moves whenever a reader can see a new change
    and only then: `seq` and `at`, the last visible change (0 and NULL before the first);
    `counted_from`, a multiple of VERSION_STRIDE at or below the last settled change; and
    `count`, the visible changes above it. No change can appear at or below a settled one, so
    a new one is counted or moves `counted_from`. (The last settled number itself would move
    when a change settles, with nothing new to see.)"""
    last = select(_change.seq).order_by(_change.seq.desc()).limit(1).scalar_subquery()
    last_settled = (
        select(_change.seq)
        .where(settled(_change.horizon))
        .order_by(_change.seq.desc())
        .limit(1)
        .scalar_subquery()
    )
    counted_from = func.coalesce(last_settled, 0) // VERSION_STRIDE * VERSION_STRIDE
    return select(
        func.coalesce(last, 0).label("seq"),
        select(_change.at).where(_change.seq == last).scalar_subquery().label("at"),
        counted_from.label("counted_from"),
        select(func.count())
        .select_from(_changes)
        .where(_change.seq > counted_from)
        .scalar_subquery()
        .label("count"),
    )


# Changes read a page at a time by `latest` past the last settled one.
LATEST_PAGE = 1000


def latest(session: Session) -> int:
    """Where a new reader starts (a webhook subscription): the newest change below which no
    change can still appear. The newest number of all could pass a lower one a writer has yet
    to commit, which that reader would then never see. From the last settled change (every
    transaction of the cluster older than it has ended), on as far as a reader of the feed
    may pass (`since`): an open transaction that takes no change numbers, of another database
    or of this one, holds no new subscription back to the start of the feed."""
    newest = select(func.max(_change.seq)).where(settled(_change.horizon))
    seq = int(session.execute(select(func.coalesce(newest.scalar_subquery(), 0))).scalar_one())
    while passable := since(session, seq, LATEST_PAGE):
        seq = passable[-1].seq
    return seq
