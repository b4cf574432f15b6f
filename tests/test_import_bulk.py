"""The bulk path of import: new references written a batch at a time must end up exactly as the
one-by-one ORM path would have left them."""

from datetime import UTC, date, datetime
from typing import Any

import orjson
import pytest
from factories import change_feed, hertfordshire_response_body, stored_document
from sqlalchemy import delete, func, insert, text
from sqlmodel import Session, col, select
from test_import import SYSTEM, counts, entry_document

from app.db import insert_many, new_session
from app.entries import service as entries
from app.errors import FoilogError, InvalidInput, RuleViolation
from app.imports import service
from app.imports.service import import_entries
from app.models import (
    DisclosureEntry,
    EntryChange,
    EntryReference,
    EntryTopic,
    FoiRequest,
    RequestStatus,
    RoundRobinEntry,
    Topic,
    table_of,
)


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Batches of 4 lines, so a handful of lines crosses several of them.
    monkeypatch.setattr(service, "BATCH", 4)


def first_loc(error: FoilogError) -> Any:
    assert error.errors
    return error.errors[0]["loc"]


def lines(*documents: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(document) for document in documents]


def varied(n: int) -> dict[str, Any]:
    """Entries unlike each other: refused with citations, reviewed, not held, scheduled."""
    reference = f"BULK-{n}"
    if n % 4 == 0:
        refused = hertfordshire_response_body(
            outcome="refused",
            answers=[],
            citations=[
                {
                    "exemption": "foia-s31",
                    "provision": "31(1)(a)",
                    "questions": ["1"],
                    "public_interest": {"for": ["openness"], "against": ["harm"]},
                    "harm": "it would prejudice law enforcement",
                }
            ],
        )
        return entry_document(reference=reference, responses=[refused])
    if n % 4 == 1:
        # The review is listed first: the document lists responses by date, as stored.
        review = hertfordshire_response_body(kind="internal_review", responded_on="2018-08-01")
        return entry_document(
            reference=reference,
            aliases=[f"ALIAS {n}", f"alias{n}"],
            responses=[review, hertfordshire_response_body()],
        )
    if n % 4 == 2:
        not_held = hertfordshire_response_body(outcome="not_held", answers=[])
        return entry_document(reference=reference, responses=[not_held], topics=["Stop and Search"])
    return entry_document(reference=reference, published_at="2999-01-01T00:00:00Z")


def test_bulk_documents_are_what_the_orm_path_builds_from_the_stored_rows(
    session: Session,
) -> None:
    result = import_entries(session, lines(*(varied(n) for n in range(10))), actor=SYSTEM)
    assert (result.created, result.updated) == (10, 0)
    with new_session() as reader:
        stored = list(reader.exec(select(DisclosureEntry).order_by(col(DisclosureEntry.id))))
        assert len(stored) == 10
        for entry in stored:
            document, search_text = entry.document, entry.search_text
            # The create and refresh paths build an entry so from its request's rows (import
            # lists topics by slug; a relationship loads them in no set order on PostgreSQL).
            topics = sorted(entry.topics, key=lambda topic: topic.slug)
            entries.fill(entry, entry.request, topics, entry.law)
            assert entry.document == document
            assert entry.search_text == search_text
        reader.rollback()
    reviewed = stored_document(2)
    assert [r["kind"] for r in reviewed["responses"]] == ["initial", "internal_review"]
    assert reviewed["outcome"] == "neither_confirm_nor_deny"
    assert stored_document(1)["responses"][0]["citations"][0]["public_interest"] == {
        "for": ["openness"],
        "against": ["harm"],
        "balance": None,
    }
    with new_session() as reader:
        keys = reader.exec(
            select(EntryReference.reference_key).where(EntryReference.entry_id == 2)
        ).all()
        assert sorted(keys) == ["alias1", "bulk-1"]


def test_change_numbers_are_one_gap_free_range_in_entry_order(session: Session) -> None:
    import_entries(session, lines(*(varied(n) for n in range(11))), actor=SYSTEM)
    changes = session.exec(select(EntryChange).order_by(col(EntryChange.seq))).all()
    # Entries 4, 8 (the scheduled ones, n % 4 == 3) wait to be announced when due.
    announced = [n + 1 for n in range(11) if n % 4 != 3]
    assert [c.seq for c in changes] == list(range(1, len(announced) + 1))
    assert [c.entry_id for c in changes] == announced
    assert {c.kind for c in changes} == {"published"}


def test_new_and_existing_references_mixed_in_one_file_keep_file_order(session: Session) -> None:
    import_entries(session, lines(entry_document(reference="OLD-1", title="Old")), actor=SYSTEM)
    file = [
        entry_document(reference="NEW-1"),
        entry_document(reference="NEW-2"),
        entry_document(reference="new-1", title="Again"),  # repeated before it is written
        entry_document(reference="old-1", title="Replaced"),  # existing before the import
        entry_document(reference="NEW-3"),
        entry_document(reference="NEW-4"),
        entry_document(reference="NEW-2", title="Later"),  # repeated in a later batch
    ]
    result = import_entries(session, lines(*file), actor=SYSTEM)
    assert (result.created, result.updated) == (4, 3)
    assert stored_document(1)["title"] == "Replaced"
    assert stored_document(2)["title"] == "Again"
    assert stored_document(3)["title"] == "Later"
    assert [entry for entry, _ in change_feed()] == [1, 2, 3, 2, 1, 4, 5, 3]
    assert counts()[:3] == (5, 5, 5)


def test_a_bad_line_in_a_later_batch_leaves_nothing_written(session: Session) -> None:
    good = [varied(n) for n in range(9)]
    bad = entry_document(reference="BAD", topics=["!!!"])
    with pytest.raises(RuleViolation) as raised:
        import_entries(session, lines(*good, bad), actor=SYSTEM)
    assert first_loc(raised.value) == ["line", 10, "topics", 0]
    assert counts() == (0, 0, 0, 0)
    assert change_feed() == []


def test_the_first_bad_line_is_reported_even_when_a_later_one_fails_sooner(
    session: Session,
) -> None:
    # Line 2 passes every check but is refused when written (its entry was withdrawn); line 3
    # is refused as soon as it is read. Line 2 is the one named.
    import_entries(session, lines(entry_document(reference="GONE")), actor=SYSTEM)
    session.execute(text("UPDATE disclosure_entry SET withdrawn_at = published_at"))
    session.commit()
    file = lines(entry_document(reference="NEW"), entry_document(reference="GONE"))
    with pytest.raises(RuleViolation) as raised:
        import_entries(session, [*file, b"{not json"], actor=SYSTEM)
    assert raised.value.rule == "entry-withdrawn"
    assert first_loc(raised.value) == ["line", 2, "reference"]
    with pytest.raises(InvalidInput):
        import_entries(session, [file[0], b"{not json"], actor=SYSTEM)
    assert counts()[0] == 1


def test_topics_first_seen_mid_file_are_created_once_and_labelled(session: Session) -> None:
    file = [entry_document(reference=f"T-{n}", topics=["cctv"]) for n in range(5)]
    file += [entry_document(reference=f"U-{n}", topics=["Drone Use", "cctv"]) for n in range(3)]
    import_entries(session, lines(*file), actor=SYSTEM)
    topics = session.exec(select(Topic).order_by(col(Topic.slug))).all()
    # A topic given as a slug is labelled from it; one given in words keeps the first form.
    assert [(t.slug, t.label) for t in topics] == [("cctv", "Cctv"), ("drone-use", "Drone Use")]
    assert stored_document(6)["topics"] == ["cctv", "drone-use"]
    entry = session.get_one(DisclosureEntry, 6)
    assert "\nCctv\nDrone Use\n" in entry.search_text  # the reasoning follows the labels
    linked = session.exec(
        select(func.count()).select_from(EntryTopic).where(EntryTopic.topic_slug == "drone-use")
    ).one()
    assert linked == 3


def test_the_imports_settings_do_not_outlive_it(
    session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "LARGE", 1)  # every import a bulk write
    sqlite = database_url.startswith("sqlite")
    setting = text("PRAGMA cache_size" if sqlite else "SHOW gin_pending_list_limit")
    bulk = -service.SQLITE_CACHE_KIB if sqlite else service.PG_GIN_PENDING
    before = session.execute(setting).scalar_one()
    assert before != bulk
    import_entries(session, lines(varied(0)), actor=SYSTEM)
    assert session.execute(setting).scalar_one() == before
    with pytest.raises(InvalidInput):
        import_entries(session, [b"{not json"], actor=SYSTEM)
    assert session.execute(setting).scalar_one() == before


def _segments(session: Session) -> int:
    counted: int = session.execute(
        text("SELECT count(DISTINCT segid) FROM search_entry_idx")
    ).scalar_one()
    return counted


@pytest.mark.parametrize("share", [0.1, 10.0])
def test_an_import_that_is_a_good_share_of_the_log_merges_its_search_index(
    session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    """SQLite: each committed write adds a segment to FTS5's index, and a search seeks a term
    in every segment. An import of LARGE lines or more that adds at least
    COMPACT_SHARE of the log merges them into one; a smaller share leaves them."""
    if not database_url.startswith("sqlite"):
        return  # PostgreSQL's GIN index has no segments (its pending list is merged on import)
    from app.search import sqlite as fts5

    monkeypatch.setattr(service, "LARGE", 3)
    monkeypatch.setattr(fts5, "COMPACT_SHARE", share)
    for n in range(2):
        import_entries(session, lines(entry_document(reference=f"ONE-{n}")), actor=SYSTEM)
    assert _segments(session) > 1
    import_entries(session, lines(*(varied(n) for n in range(3))), actor=SYSTEM)
    if share <= 1:
        assert _segments(session) == 1
    else:
        assert _segments(session) > 1


def test_insert_many_stores_what_an_insert_stores(session: Session) -> None:
    """On PostgreSQL insert_many COPYs: each value goes through its column's type as a
    statement's parameter does (JSON, JSON null, enums, dates, UTC times, bytes, NULL)."""
    connection = session.connection()
    request = table_of(FoiRequest)
    given = {
        "force_id": "hertfordshire",
        "aliases": ["A 1", "a1"],
        "received_on": date(2024, 2, 29),
        "due_on": date(2024, 3, 28),
        "title": "Copied",
        "text": "tab\there, newline\nthere, backslash \\ and quote ' end",
        "status": RequestStatus.RESPONDED,
        "created_at": datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
        "updated_at": datetime(2024, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
        "version": 1,
    }
    connection.execute(
        insert(request), [{**given, "id": 9001, "reference": "COPY/1", "reference_key": "copy-1"}]
    )
    insert_many(
        connection,
        request,
        [{**given, "id": 9002, "reference": "COPY/2", "reference_key": "copy-2"}],
    )
    insert_many(
        connection,
        request,
        [{**given, "id": 9003, "reference": "COPY/3", "reference_key": "copy-3", "aliases": []}],
    )
    rows = {
        row.id: row._asdict()
        for row in connection.execute(request.select().where(request.c.id.in_([9001, 9002, 9003])))
    }
    for row in rows.values():
        del row["id"], row["reference"], row["reference_key"]
    assert rows[9002] == rows[9001]
    assert rows[9003]["aliases"] == []
    signature = bytes(range(256))
    import_entries(session, lines(varied(0)), actor=SYSTEM)
    entry_id = session.scalar(select(func.max(DisclosureEntry.id)))
    members = table_of(RoundRobinEntry)
    connection = session.connection()
    connection.execute(delete(members).where(members.c.entry_id == entry_id))
    insert_many(
        connection,
        members,
        [{"entry_id": entry_id, "round_robin_id": None, "signature": signature}],
    )
    stored = connection.execute(members.select().where(members.c.entry_id == entry_id)).one()
    assert (stored.round_robin_id, bytes(stored.signature)) == (None, signature)


def test_insert_many_wants_every_column_with_a_default_of_pythons(session: Session) -> None:
    """COPY knows only the database's defaults: a row without a column whose default Python
    computes is refused on either database, before anything is written."""
    with pytest.raises(ValueError, match="created_at, status, text, updated_at, version"):
        insert_many(
            session.connection(),
            table_of(FoiRequest),
            [{"id": 9004, "force_id": "hertfordshire", "reference": "X", "aliases": []}],
        )
