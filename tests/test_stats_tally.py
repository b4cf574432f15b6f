"""The tally answers /v1/stats exactly as reading the entries does: the same answer for random
filter combinations on a generated log, before and after withdrawals, corrections, re-imports
and scheduled entries falling due."""

import random
from collections import Counter
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from log_factories import Spec, publish
from sqlalchemy import delete, select, text
from sqlmodel import Session, col
from test_import import SYSTEM

from app.db import utcnow
from app.demo import generate_entries
from app.disclosure_log.schemas import LogFilters
from app.disclosure_log.service import selection
from app.imports import service as imports
from app.models import DisclosureEntry, EntryTopic, Outcome, StatsCounted, StatsTally
from app.publishing import service as publishing
from app.publishing.schemas import EntryUpdate
from app.stats import service
from app.tally import service as tally

SIZE = 160


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Import batches of 16 lines and recounts of 7 entries, so the log crosses many of each.
    monkeypatch.setattr(imports, "BATCH", 16)
    monkeypatch.setattr(tally, "BATCH", 7)


def _documents(seed: int) -> list[dict[str, Any]]:
    return list(generate_entries(SIZE, seed=seed))


def _import(session: Session, documents: list[dict[str, Any]]) -> None:
    imports.import_entries(session, [orjson.dumps(d) for d in documents], actor=SYSTEM)


def _random_filters(
    rng: random.Random, forces: list[str], topics: list[str], years: list[int]
) -> LogFilters:
    first = rng.choice([None, *years])
    last = rng.choice([None, *(y for y in years if first is None or y >= first)])
    return LogFilters(
        forces=tuple(rng.sample(forces, rng.choice([0, 0, 1, 1, 2]))),
        topics=tuple(rng.sample(topics, rng.choice([0, 1, 1]))),
        outcomes=tuple(rng.sample(sorted(Outcome), rng.choice([0, 0, 0, 1, 2]))),
        law=rng.choice([None, None, None, "FOIA", "foisa"]),
        received_from=date(first, 1, 1) if first else None,
        received_to=date(last, 12, 31) if last else None,
    )


def _commonest(values: Iterable[str], n: int) -> list[str]:
    return sorted(value for value, _ in Counter(values).most_common(n))


def _assert_same(session: Session, count: int, seed: int, *, days_ahead: int = 0) -> None:
    """`count` random filters answer the same from the tally as from the entries, at now +
    `days_ahead` days."""
    now = utcnow() + timedelta(days=days_ahead)
    # The commonest forces and topics, so that most combinations select something.
    forces = _commonest(session.scalars(select(col(DisclosureEntry.force_id))), 5)
    topics = _commonest(session.scalars(select(col(EntryTopic.topic_slug))), 8)
    years = sorted({d.year for d in session.scalars(select(col(DisclosureEntry.received_on)))})
    rng = random.Random(seed)
    nonempty = 0
    for _ in range(count):
        filters = _random_filters(rng, forces, topics, years)
        assert service.summed(filters), filters
        summed = service.stats(session, filters, now=now)
        scanned = service.scanned(session, selection(session, filters, now))
        assert summed.model_dump_json() == scanned.model_dump_json(), filters
        nonempty += summed.total > 0
    # The comparisons must mostly be of something.
    assert nonempty > count // 3


def _tally_rows(session: Session) -> set[tuple[Any, ...]]:
    rows = session.execute(select(StatsTally.__table__).where(col(StatsTally.n) != 0))  # type: ignore[attr-defined]
    return {tuple(row) for row in rows}


def test_the_tally_answers_as_the_entries_do_through_every_kind_of_write(
    session: Session,
) -> None:
    documents = _documents(seed=7)
    _import(session, documents)
    # Scheduled entries, due in 10 and 20 days.
    for days, topics in ((10, ["fleet"]), (20, ["fleet", "drones"]), (10, [])):
        publish(
            session,
            Spec(
                force="metropolitan",
                received_on=date(2021, 5, 4),
                topics=topics,
                published_at=utcnow() + timedelta(days=days),
            ),
        )
    _assert_same(session, 60, seed=1)
    _assert_same(session, 30, seed=2, days_ahead=15)

    ids: list[int] = [
        i
        for i in session.scalars(select(col(DisclosureEntry.id)).order_by(col(DisclosureEntry.id)))
        if i
    ]
    withdrawn = set(ids[::17])
    for entry_id in withdrawn:
        publishing.withdraw(session, entry_id, reason="published in error", actor=SYSTEM)
    for entry_id in set(ids[5::23]) - withdrawn:
        publishing.update(session, entry_id, EntryUpdate(topics=["fleet", "drones"]), actor=SYSTEM)
    # A re-import of some entries with other responses and topics corrects them (withdrawn
    # ones are refused, so they are left out; the imported entries are ids 1 to SIZE).
    changed = []
    for n in range(0, SIZE, 9):
        if n + 1 in withdrawn:
            continue
        document = dict(documents[n], topics=["fleet"] if n % 2 else [])
        if n % 3 == 0:
            document["responses"] = document["responses"][:1]
        changed.append(document)
    _import(session, changed)
    _assert_same(session, 60, seed=3)
    _assert_same(session, 30, seed=4, days_ahead=25)


def test_a_count_from_nothing_is_what_the_writes_left(session: Session) -> None:
    """What revision 0015 fills the tally with (`rebuild`) equals what every write kept."""
    _import(session, _documents(seed=11)[:60])
    publish(session, Spec(published_at=utcnow() + timedelta(days=3), topics=["fleet"]))
    publishing.withdraw(session, 5, reason="published in error", actor=SYSTEM)
    kept = _tally_rows(session)
    assert kept
    tally.rebuild(session)
    session.commit()
    assert _tally_rows(session) == kept


def test_sums_past_the_memory_limit_add_up_the_same_and_go_with_a_rollback(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tally, "SPILL_KEYS", 50)  # every recount moves its sums out of memory
    documents = _documents(seed=13)
    _import(session, documents[:40])
    _import(session, documents[40:80])
    kept = _tally_rows(session)
    # The same entries counted from nothing with every sum in memory.
    monkeypatch.setattr(tally, "SPILL_KEYS", 10**9)
    tally.rebuild(session)
    session.commit()
    assert _tally_rows(session) == kept

    # Counted twice over, moved out of memory, then rolled back: nothing of it remains.
    monkeypatch.setattr(tally, "SPILL_KEYS", 50)
    ids = [i for i in session.scalars(select(col(DisclosureEntry.id))) if i is not None]
    session.execute(delete(StatsCounted))
    tally.recount(session, ids)
    assert session.execute(text("SELECT count(*) FROM stats_tally_spill")).scalar_one() > 0
    session.rollback()
    assert _tally_rows(session) == kept
    publish(session, Spec(force="hertfordshire", topics=["fleet"]))
    added = _tally_rows(session) - kept
    assert added
    assert all(row[0] in ("", "t:fleet") for row in added)


def test_stats_over_http_follow_a_withdrawal(client: TestClient, session: Session) -> None:
    entry = publish(session, Spec(force="hertfordshire", topics=["fleet"]))
    publish(session, Spec(force="hertfordshire", topics=["fleet"], outcome="refused"))
    params = {"force": "hertfordshire", "topic": "fleet"}
    assert client.get("/v1/stats", params=params).json()["total"] == 2
    assert entry.id is not None
    publishing.withdraw(session, entry.id, reason="published in error", actor=SYSTEM)
    body = client.get("/v1/stats", params=params).json()
    assert body["total"] == 1
    assert body["by_outcome"] == {"refused": 1}


def test_filters_the_tally_cannot_answer_take_the_scan() -> None:
    assert service.summed(LogFilters(forces=("a", "b"), topics=("t",), law="FOIA"))
    assert service.summed(
        LogFilters(received_from=date(2020, 1, 1), received_to=date(2021, 12, 31))
    )
    for filters in (
        LogFilters(q="drones"),
        LogFilters(topics=("a", "b")),
        LogFilters(exemptions=("foia-s31",)),
        LogFilters(references=("FOI/1",)),
        LogFilters(round_robins=("1",)),
        LogFilters(received_from=date(2020, 2, 1)),
        LogFilters(received_to=date(2020, 12, 30)),
        LogFilters(published_from=date(2020, 1, 1)),
        LogFilters(published_to=date(2020, 12, 31)),
    ):
        assert not service.summed(filters), filters
