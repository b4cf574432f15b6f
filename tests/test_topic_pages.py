"""A topic's page of the log is read through the topic's links, which carry their entry's
publication time (migration 0014): the times stay true whatever moves them, and the pages
come in order, each entry once, with scheduled entries hidden until their time."""

from datetime import datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from log_factories import publish
from sqlalchemy import event, select, update
from sqlmodel import Session, col

from app.db import get_read_engine, is_sqlite, utcnow
from app.disclosure_log import service
from app.disclosure_log.schemas import LogFilters
from app.models import DisclosureEntry, EntryTopic, Topic

LOG = "/v1/disclosure-log"


def _link_times(session: Session, entry_id: int) -> set[datetime | None]:
    session.expire_all()
    query = select(col(EntryTopic.published_at)).where(col(EntryTopic.entry_id) == entry_id)
    return set(session.scalars(query))


def test_a_link_keeps_its_entrys_publication_time(session: Session) -> None:
    entry = publish(session, topics=["custody", "drones"])
    assert entry.id is not None
    assert _link_times(session, entry.id) == {entry.published_at}
    # Rescheduled (as an import that carries another time does): every link follows.
    moved = utcnow() + timedelta(days=2)
    session.execute(
        update(DisclosureEntry)
        .where(col(DisclosureEntry.id) == entry.id)
        .values(published_at=moved)
    )
    session.commit()
    assert _link_times(session, entry.id) == {moved}
    # A topic added later (PATCH of the entry's topics) starts with the entry's time too.
    session.add(Topic(slug="tasers", label="Tasers"))
    session.add(EntryTopic(entry_id=entry.id, topic_slug="tasers"))
    session.commit()
    assert _link_times(session, entry.id) == {moved}


def _walk(client: TestClient, params: dict[str, str]) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = client.get(
            LOG, params={**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        )
        assert page.status_code == 200, page.text
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return seen


def test_topic_pages_come_in_publication_order_each_entry_once(
    client: TestClient, session: Session
) -> None:
    now = utcnow()
    # Ids and times in different orders, two entries at the same moment.
    days = [5, 1, 3, 3, 9, 2]
    made = [publish(session, topics=["drones"], published_at=now - timedelta(days=d)) for d in days]
    publish(session, topics=["custody"], published_at=now - timedelta(days=4))
    later = publish(session, topics=["drones"], published_at=now + timedelta(days=1))
    withdrawn = publish(session, topics=["drones"], published_at=now - timedelta(days=6))
    withdrawn.withdrawn_at = now
    session.add(withdrawn)
    session.commit()
    newest = [e.id for e in sorted(made, key=lambda e: (e.published_at, e.id), reverse=True)]
    assert _walk(client, {"topic": "drones"}) == newest
    assert _walk(client, {"topic": "Drones", "sort": "published_at"}) == newest[::-1]
    counted = client.get(LOG, params={"topic": "drones", "count": "true", "limit": 1}).json()
    assert counted["total"] == len(made)
    assert _walk(client, {"topic": "drones", "force": "metropolitan"}) == newest
    assert _walk(client, {"topic": "drones", "force": "hertfordshire"}) == []
    assert later.id not in _walk(client, {"topic": "drones"})


def test_a_topic_page_reads_only_the_entries_it_shows(session: Session) -> None:
    """The page query walks the (topic, time, entry) index; it neither reads every entry of
    the topic nor sorts them. Checked on SQLite, whose planner has no statistics to change
    its mind with the data; PostgreSQL plans by its statistics."""
    publish(session, topics=["drones"])
    engine = get_read_engine()
    if not is_sqlite(engine):
        return
    seen: list[tuple[str, Any]] = []

    def record(_c: object, _cur: object, statement: str, params: Any, *_: object) -> None:
        if "entry_topic.published_at" in statement and statement.lstrip().startswith("SELECT"):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with Session(engine) as reading:
            page = service.list_entries(reading, LogFilters(topics=("drones",)), now=utcnow())
            assert len(page.items) == 1
            statement, params = seen[-1]
            explained = reading.connection().exec_driver_sql(
                f"EXPLAIN QUERY PLAN {statement}", params
            )
            plan = " / ".join(row[-1] for row in explained)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "ix_entry_topic_topic_published" in plan, plan
    assert "TEMP B-TREE" not in plan, plan
