"""Statistics over the filtered public log, every count computed by the database. No entry is
loaded into Python: only grouped counts, a few thousand rows at most.

How one force's stats stay fast (profiled with EXPLAIN QUERY PLAN and sqlite3's timer on
1,000,000 entries, 196,400 of them the Metropolitan Police's):
- the force filter reads ix_disclosure_entry_force_stats, which covers every column read here,
  instead of each entry's row (30 s of row reads before revision 0006);
- the totals, `by_outcome`, `by_force` and the timeliness counts come from one GROUP BY over
  (force, outcome) instead of four scans; months have their own (grouping by all four at once
  made PostgreSQL sort 196,400 rows on disk: 960 ms, against 100 + 250 ms for the two);
- the median is read off a histogram of working days (one GROUP BY) instead of sorting every
  value for ORDER BY ... OFFSET; it is the same middle value (or mean of the two middle ones).
That still reads every entry the filters select (and their topics and exemptions): about a
second for that force at a million entries, 8 s for the whole log. So the filters the tally
(app/tally) answers exactly are summed from it instead: any forces, outcomes and law, at most
one topic, and receipt dates in whole years (from 1 January, to 31 December). The others (`q`,
`exemption`, `reference`, `round_robin`, published dates, several topics, other receipt dates)
take the scan.
"""

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, extract, func, select
from sqlmodel import Session, col

from app.disclosure_log.schemas import LogFilters
from app.disclosure_log.service import search_query, selection
from app.models import DisclosureEntry, EntryExemption, EntryTopic, StatsTally
from app.stats.schemas import Stats, Timeliness
from app.tally import service as tally
from app.topics.service import normalise as normalise_topic

Entry = DisclosureEntry
Where = list[ColumnElement[bool]]


def _most_first(counts: Counter[Any]) -> dict[str, int]:
    return dict(sorted(((k, n) for k, n in counts.items() if k is not None), key=_descending))


def _descending(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]


def _linked(session: Session, where: Where, link: Any, key: Any) -> dict[str, int]:
    """Entries per value of a table of the entry's values (an entry counts once per value)."""
    query = (
        select(key, func.count())
        .select_from(Entry)
        .join(link, link.entry_id == col(Entry.id))
        .where(*where)
        .group_by(key)
    )
    return _most_first(Counter(dict(session.execute(query).all())))


def _median(histogram: list[tuple[int, int]]) -> float | None:
    """The middle value of the counted values (the mean of the two middle ones for an even
    count); `histogram` holds (value, how many), ascending."""
    known = sum(n for _, n in histogram)
    if known == 0:
        return None
    wanted = [(known - 1) // 2, known // 2]
    middle: list[int] = []
    seen = 0
    for value, n in histogram:
        seen += n
        while wanted and wanted[0] < seen:
            middle.append(value)
            wanted.pop(0)
    return sum(middle) / len(middle)


def _working_days(session: Session, where: Where) -> list[tuple[int, int]]:
    days = col(Entry.working_days_to_respond)
    query = (
        select(days, func.count()).where(*where, days.is_not(None)).group_by(days).order_by(days)
    )
    return [(d, n) for d, n in session.execute(query)]


def _by_month(session: Session, where: Where) -> dict[str, int]:
    received = col(Entry.received_on)
    year, month = extract("year", received), extract("month", received)
    rows = session.execute(
        select(year, month, func.count()).where(*where).group_by(year, month).order_by(year, month)
    )
    return {f"{int(y):04d}-{int(m):02d}": n for y, m, n in rows}


def stats(session: Session, filters: LogFilters, *, now: datetime) -> Stats:
    """Counts by outcome, exemption, topic, force and month of receipt, and timeliness, over
    the entries public at `now`."""
    where = selection(session, filters, now)  # checks every value first
    if summed(filters):
        return _summed(session, filters, now)
    return scanned(session, where)


def scanned(session: Session, where: Where) -> Stats:
    """The stats of the entries `where` selects, read from the entries themselves."""
    force, outcome = col(Entry.force_id), col(Entry.outcome)
    groups = session.execute(
        select(
            force,
            outcome,
            func.count(),
            func.count(col(Entry.responded_on)),
            func.count().filter(col(Entry.responded_within_deadline).is_(True)),
        )
        .where(*where)
        .group_by(force, outcome)
    )
    by_outcome: Counter[str | None] = Counter()
    by_force: Counter[str] = Counter()
    responded = within = 0
    for force_id, outcome_name, n, answered, on_time in groups:
        by_outcome[outcome_name] += n
        by_force[force_id] += n
        responded += answered
        within += on_time
    return Stats(
        total=by_force.total(),
        by_outcome=_most_first(by_outcome),
        by_exemption=_linked(session, where, EntryExemption, col(EntryExemption.exemption_id)),
        by_topic=_linked(session, where, EntryTopic, col(EntryTopic.topic_slug)),
        by_force=_most_first(by_force),
        by_month=_by_month(session, where),
        timeliness=Timeliness(
            responded=responded,
            within_deadline=within,
            rate=round(within / responded, 4) if responded else None,
            median_working_days=_median(_working_days(session, where)),
        ),
    )


def summed(filters: LogFilters) -> bool:
    """Whether the tally answers these filters exactly."""
    whole_years = (
        filters.received_from is None or filters.received_from.timetuple()[1:3] == (1, 1)
    ) and (filters.received_to is None or filters.received_to.timetuple()[1:3] == (12, 31))
    return (
        whole_years
        and len(filters.topics) <= 1
        and search_query(filters.q) is None
        and not (filters.exemptions or filters.references or filters.round_robins)
        and filters.published_from is None
        and filters.published_to is None
    )


class _Cells:
    """Which tally rows a filter selects, as SQL and as a test of one row's key."""

    def __init__(self, filters: LogFilters) -> None:
        self.scope = (
            f"t:{normalise_topic(filters.topics[0])}" if filters.topics else tally.EVERY_ENTRY
        )
        self.forces = set(filters.forces) or {tally.ALL_FORCES}
        self.outcomes = set(filters.outcomes)
        self.law = filters.law.upper() if filters.law is not None else None
        self.first = filters.received_from.year if filters.received_from else None
        self.last = filters.received_to.year if filters.received_to else None

    def where(self) -> Where:
        t = StatsTally
        where: Where = [col(t.scope) == self.scope, col(t.force_id).in_(sorted(self.forces))]
        if self.outcomes:
            where.append(col(t.outcome).in_(sorted(self.outcomes)))
        if self.law is not None:
            where.append(col(t.law) == self.law)
        if self.first is not None:
            where.append(col(t.year) >= self.first)
        if self.last is not None:
            where.append(col(t.year) <= self.last)
        return where

    def holds(self, key: tally.Key) -> bool:
        scope, force, outcome, law, year, _ = key
        return (
            scope == self.scope
            and force in self.forces
            and (not self.outcomes or outcome in self.outcomes)
            and (self.law is None or law == self.law)
            and (self.first is None or year >= self.first)
            and (self.last is None or year <= self.last)
        )


def _summed(session: Session, filters: LogFilters, now: datetime) -> Stats:
    """The stats from the tally: its rows the filters select, less what scheduled entries not
    yet due added to them."""
    cells = _Cells(filters)
    t = StatsTally
    rows = session.execute(
        select(
            col(t.outcome),
            col(t.facet),
            func.sum(col(t.n)),
            func.sum(col(t.responded)),
            func.sum(col(t.within_deadline)),
        )
        .where(*cells.where())
        .group_by(col(t.outcome), col(t.facet))
    )
    sums: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for outcome, facet, n, responded, within in rows:
        cell = sums[outcome, facet]
        cell[0] += int(n)
        cell[1] += int(responded)
        cell[2] += int(within)
    for entry in tally.scheduled(session, now):
        for key, (n, responded, within) in tally.contributions(entry):
            if cells.holds(key):
                cell = sums[key[2], key[5]]
                cell[0] -= n
                cell[1] -= responded
                cell[2] -= within
    return _answer(sums)


def _answer(sums: dict[tuple[str, str], list[int]]) -> Stats:
    by_outcome: Counter[str] = Counter()
    facets: dict[str, Counter[str]] = defaultdict(Counter)
    responded = within = 0
    for (outcome, facet), (n, answered, on_time) in sums.items():
        if facet == tally.BASE:
            by_outcome[outcome] += n
            responded += answered
            within += on_time
        else:
            kind, value = facet.split(":", 1)
            facets[kind][value] += n
    days = sorted((int(d), n) for d, n in facets["d"].items() if n)
    return Stats(
        total=by_outcome.total(),
        by_outcome=_most_first(Counter({o: n for o, n in by_outcome.items() if o and n})),
        by_exemption=_most_first(+facets["e"]),
        by_topic=_most_first(+facets["t"]),
        by_force=_most_first(+facets["f"]),
        by_month={m: n for m, n in sorted(facets["m"].items()) if n},
        timeliness=Timeliness(
            responded=responded,
            within_deadline=within,
            rate=round(within / responded, 4) if responded else None,
            median_working_days=_median(days),
        ),
    )
