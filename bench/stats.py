"""/v1/stats for filters asked once each: p50 and p90 over distinct force x topic x outcome x
year combinations, from the tally (what /v1/stats answers) and, with --scan, from reading the
entries (what it answered before revision 0013), alternately, on an existing foilog database.

    python -m bench.stats --url sqlite:///bench/data/foilog-100000.db --filters 60 [--scan]

Times are the service call's (database and Python, no HTTP); CPU is this process's (for
PostgreSQL the server's work is not in it).
"""

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import date
from functools import partial

from sqlalchemy import func, select
from sqlmodel import Session, col

from app.db import make_engine, utcnow
from app.disclosure_log.schemas import LogFilters
from app.disclosure_log.service import selection
from app.models import DisclosureEntry, EntryTopic, Outcome
from app.stats import service


def _filters(session: Session, count: int, seed: int) -> list[LogFilters]:
    forces = list(session.scalars(select(col(DisclosureEntry.force_id)).distinct()))
    topics = list(session.scalars(select(col(EntryTopic.topic_slug)).distinct()))
    first, last = session.execute(
        select(func.min(DisclosureEntry.received_on), func.max(DisclosureEntry.received_on))
    ).one()
    years = list(range(first.year, last.year + 1))
    rng = random.Random(seed)
    chosen: dict[LogFilters, None] = {}
    while len(chosen) < count:
        year = rng.choice([None, *years])
        filters = LogFilters(
            forces=tuple(rng.sample(sorted(forces), rng.choice([0, 1, 1, 2]))),
            topics=tuple(rng.sample(sorted(topics), rng.choice([0, 1, 1]))),
            outcomes=tuple(rng.sample(sorted(Outcome), rng.choice([0, 1]))),
            received_from=date(year, 1, 1) if year else None,
            received_to=date(year, 12, 31) if year else None,
        )
        chosen[filters] = None
    return list(chosen)


def _timed(call: Callable[[], object]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _line(name: str, times: list[tuple[float, float]]) -> str:
    walls = sorted(w for w, _ in times)
    cpus = sorted(c for _, c in times)
    p90 = walls[int(len(walls) * 0.9)]
    return (
        f"{name}: {len(times)} filters, wall p50 {statistics.median(walls):.1f} ms, "
        f"p90 {p90:.1f} ms, max {walls[-1]:.1f} ms; CPU p50 {statistics.median(cpus):.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True, help="SQLAlchemy URL of a migrated database")
    parser.add_argument("--filters", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scan", action="store_true", help="also time the scan, alternately")
    args = parser.parse_args()
    engine = make_engine(args.url)
    with Session(engine) as session:
        filters = _filters(session, args.filters, args.seed)
        now = utcnow()
        summed: list[tuple[float, float]] = []
        scanned: list[tuple[float, float]] = []
        for f in filters:
            assert service.summed(f)
            summed.append(_timed(partial(service.stats, session, f, now=now)))
            if args.scan:
                where = selection(session, f, now)
                scanned.append(_timed(partial(service.scanned, session, where)))
    print(_line("tally", summed))
    if scanned:
        print(_line("scan ", scanned))
    engine.dispose()


if __name__ == "__main__":
    main()
