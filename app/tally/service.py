"""Counts of the log kept on write, so /v1/stats sums a few thousand rows of `stats_tally`
instead of reading every entry a filter selects (app/stats/service.py says which filters).

Every write that changes an entry's counted columns, topics or exemptions calls `recount` with
the entry's id, in its own transaction: the entry's old contribution (kept in `stats_counted`)
is taken away and its new one added, in the tally when the transaction commits. An entry counts
from publication, scheduled or not, until it is withdrawn; a read subtracts what scheduled
entries not yet due added (`scheduled`), so nothing needs writing when one falls due: what
becomes visible by time is selected by time.
"""

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Column, Connection, MetaData, Table, delete, event, func, select
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col

from app.db import insert_many, insert_rows, upsert_adding, upsert_adding_from
from app.models import (
    DisclosureEntry,
    EntryExemption,
    EntryTopic,
    StatsCounted,
    StatsTally,
    table_of,
)

Entry = DisclosureEntry
ALL_FORCES = "*"
# Scopes, facets: see StatsTally.
EVERY_ENTRY = ""
BASE = ""
BATCH = 500

# (scope, force_id, outcome, law, year, facet)
Key = tuple[str, str, str, str, int, str]
# n, responded, within_deadline
Sums = tuple[int, int, int]
_SUM_COLUMNS = ("n", "responded", "within_deadline")
_PENDING = "stats_tally_pending"
# Tally rows a transaction's sums may reach in memory before they move to `_SPILL`: an import
# of 100,000 entries adds to 1,322,032 rows, 312 MB as a dict (tracemalloc), and more as the
# import grows; 200,000 rows are some 50 MB.
SPILL_KEYS = 200_000
_SPILLED = "stats_tally_spilled"
# The sums moved out of memory: a temporary table (each connection's own, emptied as its
# transaction commits or gone with it) of stats_tally's columns, appended to with no key: a
# key's sums in several rows are added up once, by the GROUP BY that moves them to the tally.
_SPILL = Table(
    "stats_tally_spill",
    MetaData(),
    *(Column(c.name, c.type) for c in table_of(StatsTally).columns),
    prefixes=["TEMPORARY"],
)


@dataclass(frozen=True)
class Counted:
    """The values of an entry that stats count."""

    force: str
    outcome: str  # "" when there is no response yet
    law: str
    month: str  # YYYY-MM of received_on
    days: int | None
    responded: bool
    within: bool
    topics: tuple[str, ...]
    exemptions: tuple[str, ...]

    def dump(self) -> str:
        return orjson.dumps(
            [
                self.force,
                self.outcome,
                self.law,
                self.month,
                self.days,
                self.responded,
                self.within,
                self.topics,
                self.exemptions,
            ]
        ).decode()

    @classmethod
    def load(cls, text: str) -> "Counted":
        f, o, law, m, d, r, w, t, e = orjson.loads(text)
        return cls(f, o, law, m, d, r, w, tuple(t), tuple(e))


def contributions(entry: Counted) -> Iterator[tuple[Key, Sums]]:
    """The tally rows an entry adds to, and what it adds to each."""
    year = int(entry.month[:4])
    facets: list[tuple[str, Sums]] = [
        (BASE, (1, int(entry.responded), int(entry.within))),
        (f"m:{entry.month}", (1, 0, 0)),
        (f"f:{entry.force}", (1, 0, 0)),
        *((f"t:{t}", (1, 0, 0)) for t in entry.topics),
        *((f"e:{e}", (1, 0, 0)) for e in entry.exemptions),
    ]
    if entry.days is not None:
        facets.append((f"d:{entry.days}", (1, 0, 0)))
    for scope in (EVERY_ENTRY, *(f"t:{t}" for t in entry.topics)):
        for force in (entry.force, ALL_FORCES):
            for facet, sums in facets:
                yield (scope, force, entry.outcome, entry.law, year, facet), sums


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), BATCH):
        yield ids[start : start + BATCH]


def _linked(session: Session, link: Any, value: Any, ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    rows = session.execute(
        select(link.entry_id, value).where(link.entry_id.in_(ids)).order_by(value)
    )
    for entry_id, v in rows:
        found[entry_id].append(v)
    return found


def current(session: Session, ids: list[int]) -> dict[int, Counted]:
    """What the entries count for now (published entries not withdrawn; others count for
    nothing)."""
    rows = session.execute(
        select(
            col(Entry.id),
            col(Entry.force_id),
            col(Entry.outcome),
            col(Entry.law),
            col(Entry.received_on),
            col(Entry.working_days_to_respond),
            col(Entry.responded_on),
            col(Entry.responded_within_deadline),
        ).where(col(Entry.id).in_(ids), col(Entry.withdrawn_at).is_(None))
    ).all()
    if not rows:
        return {}
    topics = _linked(session, EntryTopic, col(EntryTopic.topic_slug), ids)
    exemptions = _linked(session, EntryExemption, col(EntryExemption.exemption_id), ids)
    return {
        entry_id: Counted(
            force,
            outcome or "",
            law,
            f"{received.year:04d}-{received.month:02d}",
            days,
            responded is not None,
            within is True,
            tuple(topics.get(entry_id, ())),
            tuple(exemptions.get(entry_id, ())),
        )
        for entry_id, force, outcome, law, received, days, responded, within in rows
    }


def _counted(session: Session, ids: list[int]) -> dict[int, Counted]:
    rows = session.execute(
        select(col(StatsCounted.entry_id), col(StatsCounted.counted)).where(
            col(StatsCounted.entry_id).in_(ids)
        )
    )
    return {entry_id: Counted.load(text) for entry_id, text in rows}


def _add(delta: dict[Key, list[int]], entries: Iterable[Counted], sign: int) -> None:
    for entry in entries:
        for key, (n, responded, within) in contributions(entry):
            sums = delta[key]
            sums[0] += sign * n
            sums[1] += sign * responded
            sums[2] += sign * within


def _spill(connection: Connection, delta: dict[Key, list[int]]) -> None:
    """Move the sums kept in memory into this connection's temporary table (rows no other
    writer shares, so taking them waits on no one)."""
    _SPILL.create(connection, checkfirst=True)
    if delta:
        insert_rows(connection, _SPILL, [(*key, *sums) for key, sums in delta.items()])
    delta.clear()


def recount(session: Session, ids: Iterable[int]) -> None:
    """Bring the tally up to date with the entries' current rows (call after writing them, in
    the same transaction). What each entry counts for is written at once; the sums go into the
    tally when the transaction commits (`_write_pending`), kept in memory until SPILL_KEYS of
    them and in a temporary table past that."""
    wanted = sorted(set(ids))
    delta: dict[Key, list[int]] = session.info.setdefault(_PENDING, defaultdict(lambda: [0, 0, 0]))
    for chunk in _chunks(wanted):
        before = _counted(session, chunk)
        after = current(session, chunk)
        changed = [i for i in chunk if before.get(i) != after.get(i)]
        if not changed:
            continue
        _add(delta, (before[i] for i in changed if i in before), -1)
        _add(delta, (after[i] for i in changed if i in after), 1)
        session.execute(delete(StatsCounted).where(col(StatsCounted.entry_id).in_(changed)))
        kept = [{"entry_id": i, "counted": after[i].dump()} for i in changed if i in after]
        insert_many(session.connection(), table_of(StatsCounted), kept)
        if len(delta) >= SPILL_KEYS:
            _spill(session.connection(), delta)
            session.info[_SPILLED] = True


@event.listens_for(OrmSession, "before_commit")
def _write_pending(session: OrmSession) -> None:
    """Add the transaction's recounts to the tally, just before it commits. Tally rows are
    shared by every writer (all forces' totals): written as each recount ran, a long import
    held them, and every publish behind it waited for the import to commit (on PostgreSQL,
    90 s in tests/test_changes.py). Sorted, so two writers lock them in the same order."""
    delta: dict[Key, list[int]] = session.info.pop(_PENDING, None) or {}
    if session.info.pop(_SPILLED, False):
        connection = session.connection()
        _spill(connection, delta)
        upsert_adding_from(connection, table_of(StatsTally), _SPILL, _SUM_COLUMNS)
        connection.execute(_SPILL.delete())
        return
    rows = [(*key, *sums) for key, sums in sorted(delta.items()) if any(sums)]
    if rows:
        upsert_adding(session.connection(), table_of(StatsTally), rows, _SUM_COLUMNS)


@event.listens_for(OrmSession, "after_transaction_end")
def _drop_pending(session: OrmSession, transaction: SessionTransaction) -> None:
    # A rolled-back transaction's recounts go with it (the write paths take no savepoints).
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
        session.info.pop(_SPILLED, None)


def scheduled(session: Session, now: datetime) -> list[Counted]:
    """What entries counted but not yet public at `now` (scheduled, not due) added."""
    rows = session.execute(
        select(col(StatsCounted.counted))
        .join(Entry, col(Entry.id) == col(StatsCounted.entry_id))
        .where(col(Entry.published_at) > now)
    )
    return [Counted.load(text) for (text,) in rows]


def public_by_facet(
    session: Session, now: datetime, kind: str, value: str | None = None
) -> dict[str, int]:
    """How many entries public at `now` each value of a facet counts (`f`: forces, `t`:
    topics; only `value` when given): the tally's rows of the whole log, less what scheduled
    entries not yet due added; values that count none left out. Counting them in the entries'
    tables read every public entry at 100,000 entries: /v1/forces 10.4 ms (SQLite) and 19.9
    (PostgreSQL), /v1/topics 152 and 63, against 5-8 ms so."""
    prefix = f"{kind}:"
    t = StatsTally
    facet = col(t.facet).startswith(prefix) if value is None else col(t.facet) == prefix + value
    rows = session.execute(
        select(col(t.facet), func.sum(col(t.n)))
        .where(col(t.scope) == EVERY_ENTRY, col(t.force_id) == ALL_FORCES, facet)
        .group_by(col(t.facet))
    )
    counts = {name.removeprefix(prefix): int(n) for name, n in rows}
    for entry in scheduled(session, now):
        for (scope, force, *_, name), (n, _, _) in contributions(entry):
            counted = name.removeprefix(prefix)
            whole_log = (scope, force) == (EVERY_ENTRY, ALL_FORCES)
            if whole_log and counted != name and counted in counts:
                counts[counted] -= n
    # A scheduled entry published between the two reads (each statement of a public read sees
    # the data afresh) is taken away without having been counted: none goes below nothing.
    return {name: n for name, n in counts.items() if n > 0}


def rebuild(session: Session) -> None:
    """Count every entry again from nothing (what revision 0015 fills the tally with)."""
    session.execute(delete(StatsTally))
    session.execute(delete(StatsCounted))
    last = 0
    while True:
        ids: list[int] = list(
            session.scalars(
                select(col(Entry.id))
                .where(col(Entry.id) > last)
                .order_by(col(Entry.id))
                .limit(20 * BATCH)
            )
        )
        if not ids:
            _write_pending(session)  # a migration's session is not committed: its connection is
            return
        recount(session, ids)
        last = ids[-1]
