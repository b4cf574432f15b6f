"""Full-text search: the query language, stemming, ranking, highlight, and hostile input."""

import os
import re
from datetime import UTC, datetime
from typing import Any

import pytest
from factories import add_response, create_request, hertfordshire_response_body, make_key
from factories import publish as publish_request
from fastapi.testclient import TestClient
from log_factories import hertfordshire, publish
from sqlalchemy import ColumnElement, Integer, event, func, literal, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from app.db import (
    PLANNER_OFF,
    POSTGRES_OPTIONS,
    PUBLIC_READ_OPTIONS,
    new_session,
    planner_off,
    public_session,
    utcnow,
)
from app.disclosure_log import service
from app.disclosure_log.schemas import LogFilters, Sort
from app.entries import service as entries
from app.errors import BadRequest, NotFound
from app.models import VISIBLE_INDEX, DisclosureEntry, table_of
from app.read_context import data_version
from app.search import Newest, SearchQuery, engine_for, parse, shares
from app.search import postgres as tsvector
from app.search import sqlite as fts5
from app.visibility import public_entries

LOG = "/v1/disclosure-log"
PROBLEM = "application/problem+json"


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


def hits(client: TestClient, q: str, **params: Any) -> set[int]:
    return set(ids(client.get(LOG, params={"q": q, **params})))


@pytest.fixture
def corpus(session: Session) -> dict[str, DisclosureEntry]:
    return {
        "herts": hertfordshire(session),
        "vans": publish(
            session,
            title="Live facial recognition vans",
            text="How often were the vans deployed at football matches?",
            published_at=datetime(2023, 1, 1, tzinfo=UTC),
        ),
        "drones": publish(
            session,
            title="Drone flights",
            aliases=["NOR/26/040096"],
            text="How many drone flights were recognised as unsafe?",
            response_text="Drone pilots & crews, 40 < 50, <script>alert(1)</script> logged.",
            published_at=datetime(2023, 2, 1, tzinfo=UTC),
        ),
        "tasers": publish(
            session,
            title="Taser discharges",
            text="Taser use by officers; taser training; taser costs and taser incidents.",
            published_at=datetime(2023, 3, 1, tzinfo=UTC),
        ),
        "taser_once": publish(
            session,
            title="Body-worn video",
            text="Body-worn video footage retention, including footage of one taser incident.",
            published_at=datetime(2023, 4, 1, tzinfo=UTC),
        ),
    }


def test_parse_builds_groups_and_exclusions() -> None:
    assert parse('facial "live recognition" -covert vans OR lorries NOT drones') == SearchQuery(
        groups=(("facial",), ("live recognition",), ("vans", "lorries")),
        excluded=("covert", "drones"),
    )
    assert parse('"unbalanced phrase') == SearchQuery((("unbalanced phrase",),), ())
    assert parse("OR a OR") == SearchQuery((("a",),), ())
    assert parse("police's -force\u2019S 's \"the force's\"") == SearchQuery(
        groups=(("police",), ("'s",), ("the force's",)), excluded=("force",)
    )


@pytest.mark.parametrize(
    "text", ["-covert", '-"facial recognition" NOT vans', "***", '"" - OR', "\x00"]
)
def test_parse_refuses_queries_without_a_word_to_find(text: str) -> None:
    with pytest.raises(BadRequest):
        parse(text)


def test_parse_caps_the_number_of_terms() -> None:
    with pytest.raises(BadRequest, match="at most 32"):
        parse(" ".join(f"w{i}" for i in range(40)))


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("facial recognition", {"herts", "vans"}),
        ("recognition facial", {"herts", "vans"}),
        ('"vans recognition"', set()),
        ('"recognition vans"', {"vans"}),
        ('"facial recognition" -covert', {"vans"}),
        ('"facial recognition" -"football matches"', {"herts"}),
        ("facial NOT vans", {"herts"}),
        ("drone OR taser", {"drones", "tasers", "taser_once"}),
        ("vans OR drone flights", {"drones"}),
        ("recognise", {"drones"}),
        ("logging", {"drones"}),
        ("deploying", {"vans"}),
        ("FOI2018/02892", {"herts"}),
        ("02892", {"herts"}),
        ("foi2018", {"herts"}),
        ('"FOI2018 02892"', {"herts"}),
        ("040096", {"drones"}),  # a part of an alias, as of the reference
        ("NOR/26/040096", {"drones"}),
        ("biometrics", {"herts"}),
        ("body-worn", {"taser_once"}),
        ("body worn", {"taser_once"}),
        ("Marlow", set()),
        ("officers'", {"tasers"}),
        ("officer's", {"tasers"}),
        ("script", {"drones"}),  # between angle brackets, which PostgreSQL reads as a tag
    ],
)
def test_search_operators_and_stemming(
    client: TestClient, corpus: dict[str, DisclosureEntry], q: str, expected: set[str]
) -> None:
    assert hits(client, q) == {corpus[name].id for name in expected}


def test_words_between_angle_brackets_are_found(session: Session, client: TestClient) -> None:
    entry = publish(
        session,
        title="Letter to <name redacted>",
        text="Please reply to <foi@example.police.uk>; the 40<2> ratio, x<y and z>w.",
    )
    for q in ("redacted", "name", "foi@example.police.uk", "ratio", "y", "z"):
        assert hits(client, q) == {entry.id}, q


def test_relevance_ranks_the_better_match_first(
    client: TestClient, corpus: dict[str, DisclosureEntry]
) -> None:
    order = ids(client.get(LOG, params={"q": "taser"}))
    assert order == [corpus["tasers"].id, corpus["taser_once"].id]
    newest = ids(client.get(LOG, params={"q": "taser", "sort": "-published_at"}))
    assert newest == [corpus["taser_once"].id, corpus["tasers"].id]


def test_highlight_marks_matches_and_escapes_html(
    client: TestClient, corpus: dict[str, DisclosureEntry]
) -> None:
    item = client.get(LOG, params={"q": "pilots"}).json()["items"][0]
    highlight = item["highlight"]
    assert "<mark>pilots</mark>" in highlight.lower()
    # The tag is kept as text, escaped.
    assert "<script>" not in highlight
    assert "&amp; crews" in highlight
    assert "40 &lt; 50" in highlight
    stemmed = client.get(LOG, params={"q": "recognise", "sort": "-published_at"}).json()
    assert all("<mark>" in i["highlight"] for i in stemmed["items"])
    assert len(stemmed["items"][0]["highlight"]) < 400


def test_search_follows_updates(session: Session, client: TestClient) -> None:
    entry = publish(session, title="Horse patrols")
    assert hits(client, "horse") == {entry.id}
    entry.title = "Mounted unit"
    entries.refresh(session, entry)
    session.commit()
    assert hits(client, "horse") == set()
    assert hits(client, "mounted") == {entry.id}


def test_a_highlight_finds_matches_deep_in_a_long_text(
    session: Session, client: TestClient
) -> None:
    """Both engines cut a window of the text near the matches: a match deep in a long text
    is still shown, whole words only, and a word whose stem is not written as such (`happy`,
    stem `happi`) is found."""
    filler = " ".join(f"paragraph{i} of routine background material" for i in range(400))
    publish(
        session,
        title="Stop and account records",
        text=f"{filler} How many horse patrols and mounted officers were deployed? {filler}",
        response_text="We were happy to help with the mounted patrols question.",
    )
    for q, words in (("horses", ["horse"]), ("mounted officers", ["mounted", "officers"])):
        highlight = client.get(LOG, params={"q": q}).json()["items"][0]["highlight"]
        for word in words:
            assert f"<mark>{word}</mark>" in highlight.lower(), highlight
        assert highlight.lstrip("…").split()[0] in f"{filler} How many".split(), highlight
    happy = client.get(LOG, params={"q": "happy"}).json()["items"][0]["highlight"]
    assert "<mark>happy</mark>" in happy.lower(), happy


def test_highlights_mark_the_words_the_engine_matched(session: Session, client: TestClient) -> None:
    """Found words are stemmed by the engine's own stemming: both stem `internal` and
    `international` as `intern` (PyStemmer's English stems neither so, PostgreSQL's does);
    PostgreSQL drops `the` as a stop word, SQLite keeps it a word like any other."""
    publish(session, title="Review", text="The internal review of the case, and international.")
    highlight = client.get(LOG, params={"q": "the internal"}).json()["items"][0]["highlight"]
    assert "<mark>internal</mark>" in highlight, highlight
    assert ("<mark>The</mark>" in highlight) is (ENGINE is fts5), highlight
    assert "<mark>international</mark>" in highlight, highlight


def test_a_postgres_excerpt_is_cut_at_spaces(session: Session) -> None:
    if ENGINE is not tsvector:
        pytest.skip("SQLite's excerpts are cut by app/search/highlight.py (test_highlight.py)")
    # Eight characters a word: the excerpt's start, EXCERPT_BEFORE before the match, and its
    # end fall inside words, which are left out.
    text = "abcdefg " * 3000 + "target " + "abcdefg " * 300
    entry = publish(session, title="Words", text=text)
    assert entry.id is not None
    ((_, excerpt, stems),) = tsvector.excerpts(session, parse("target"), [entry.id])
    assert stems == ["target"]
    assert excerpt.startswith("… abcdefg ")
    assert excerpt.endswith(" abcdefg …")
    assert set(excerpt.split()) == {"…", "abcdefg", "target"}
    assert len(excerpt) > tsvector.EXCERPT_CHARS - 20


# The engine the suite runs on (tests/conftest.py), and the forms of a date- or id-ordered match
# it chooses among.
ENGINE = tsvector if os.environ.get("FOILOG_TEST_POSTGRES_URL") else fts5
FORMS = ENGINE.FORMS


def only_form(monkeypatch: pytest.MonkeyPatch, form: str) -> None:
    """Make the engine's ordered searches take `form` of the match, whatever the counts."""
    monkeypatch.setattr(ENGINE, "cheapest_form", lambda *_: form)


@pytest.mark.parametrize("form", FORMS)
def test_every_form_of_the_match_finds_the_same_entries(
    session: Session,
    corpus: dict[str, DisclosureEntry],
    monkeypatch: pytest.MonkeyPatch,
    form: str,
) -> None:
    only_form(monkeypatch, form)
    search = engine_for(session.get_bind())
    matching = search.matches_in_order(session, parse("taser"), 20)
    found = set(session.scalars(select(col(DisclosureEntry.id)).where(matching)))
    assert found == {corpus["tasers"].id, corpus["taser_once"].id}
    ranked = search.newest(session, parse("taser"), Newest([], 20, scored=True))
    assert {entry_id for entry_id, _ in ranked} == found


def _form_of(condition: ColumnElement[bool]) -> str:
    compiled = str(condition.compile())
    if ENGINE is tsvector:
        return "drive" if "ANY" in compiled else "test"
    return (
        "test"
        if "EXISTS" in compiled
        else "list"
        if "+disclosure_entry.id" in compiled
        else "drive"
    )


@pytest.mark.parametrize(
    ("matched", "size", "forms"),
    [
        # nothing to walk towards: the matches (none) are looked up
        (0, 20, {"drive"}),
        # rare: 200 lookups beat walking 10,000 entries
        (200, 20, {"drive"}),
        # 3.8%: on SQLite, listing them and walking 340 entries is cheapest; PostgreSQL lists
        # nothing, and testing 340 walked entries beats taking 3,800 from the GIN index
        (3_800, 13, {"list", "test"}),
        # in nearly every entry: testing the first 21 walked wins
        (91_000, 19, {"test"}),
    ],
)
def test_the_form_of_the_match_follows_how_common_it_is(
    session: Session, monkeypatch: pytest.MonkeyPatch, matched: int, size: int, forms: set[str]
) -> None:
    monkeypatch.setattr(ENGINE, "_share", lambda _session, _query: (matched, 100_000))
    condition = engine_for(session.get_bind()).matches_in_order(session, parse("taser"), size)
    assert _form_of(condition) in set(ENGINE.FORMS) & forms, str(condition.compile())


def test_a_sqlite_ranked_window_reads_visibility_from_its_index(session: Session) -> None:
    """The window's probe of each match's visibility reads the (id, published_at,
    withdrawn_at) index, not the entry's row: SQLite would take the table's key."""
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans by its statistics")
    publish(session, title="Taser use by officers")
    seen: list[tuple[str, Any]] = []

    def record(_c: object, _cur: object, statement: str, params: Any, *_: object) -> None:
        if "bm25(" in statement:
            seen.append((statement, params))

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        ask = Newest([public_entries(utcnow())], 10, scored=True)
        assert len(fts5.Fts5Search().newest(session, parse("taser"), ask)) == 1
    finally:
        event.remove(engine, "before_cursor_execute", record)
    statement, params = seen[-1]
    explained = session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params)
    plan = " / ".join(row[-1] for row in explained)
    assert f"COVERING INDEX {VISIBLE_INDEX}" in plan, plan


def test_a_postgres_search_vector_is_kept_in_its_entrys_row(session: Session) -> None:
    """Ranking and testing read an entry's vector from its row, not through TOAST (migration
    0017): the column's storage is MAIN, which PostgreSQL moves out of line only when a row
    would not fit a page otherwise."""
    if ENGINE is not tsvector:
        pytest.skip("SQLite's search index is a table of its own")
    storage = session.execute(
        text(
            "SELECT attstorage FROM pg_attribute "
            "WHERE attrelid = 'disclosure_entry'::regclass AND attname = 'search_vector'"
        )
    ).scalar_one()
    assert storage == "m"


def test_postgres_compresses_documents_and_indexed_texts_with_lz4(session: Session) -> None:
    """Pages read documents, search pages their indexed texts: LZ4 decompresses them faster than
    PostgreSQL's default pglz (migration 0018; this server is built with LZ4)."""
    if ENGINE is not tsvector:
        pytest.skip("SQLite compresses nothing")
    methods = session.execute(
        text(
            "SELECT attname, attcompression FROM pg_attribute WHERE attrelid ="
            " 'disclosure_entry'::regclass AND attname IN ('document', 'search_text')"
        )
    ).all()
    assert dict(methods) == {"document": "l", "search_text": "l"}


def _setting(name: str) -> ColumnElement[str]:
    return func.current_setting(name)


@pytest.mark.parametrize("public", [False, True])
def test_a_statement_planned_with_settings_off_leaves_the_connection_as_it_found_it(
    corpus: dict[str, DisclosureEntry], public: bool
) -> None:
    """A statement marked `planner_off` is planned with its settings off; they go with it in
    one round trip and never stay on the connection, whether it succeeds or fails, in
    autocommit (public and keyed reads) or within a transaction (a write)."""
    if ENGINE is not tsvector:
        pytest.skip("planner settings are PostgreSQL's")
    names = ("enable_seqscan", "enable_indexscan")
    seen = planner_off(select(_setting(names[0]), _setting(names[1]), literal(7)), names)
    failing = planner_off(select(literal(1) / (func.random() * 0).cast(Integer)), names)
    sessions = [public_session] if public else [new_session, lambda: new_session(write=True)]
    options = PUBLIC_READ_OPTIONS if public else POSTGRES_OPTIONS
    sent: list[str] = []

    def watch(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    for opened in sessions:
        with opened() as reader:
            connection = reader.connection()
            event.listen(connection.engine, "before_cursor_execute", watch)
            try:
                sent.clear()
                assert connection.execute(seen).one() == ("off", "off", 7)
                assert len(sent) == 1  # the settings went in the statement's round trip
            finally:
                event.remove(connection.engine, "before_cursor_execute", watch)
            assert connection.execute(select(_setting(names[0]))).scalar_one() == "on"
            with pytest.raises(DBAPIError, match="division by zero"):
                connection.execute(failing)
            reader.rollback()
            connection = reader.connection()
            for name in names:
                assert connection.execute(select(_setting(name))).scalar_one() == "on"
            for name, value in options.items():
                assert connection.execute(select(_setting(name))).scalar_one() == value


def test_each_postgres_search_form_goes_with_its_planner_settings(
    corpus: dict[str, DisclosureEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every statement a search form runs carries the settings of its form, and the pooled
    connection has none of them off once the search is done."""
    if ENGINE is not tsvector:
        pytest.skip("planner settings are PostgreSQL's")
    marked: list[tuple[str, ...]] = []

    def watch(connection: Any, clause: Any, multiparams: Any, params: Any, options: Any) -> None:
        if settings := options.get(PLANNER_OFF):
            marked.append(settings)

    with public_session() as reader:
        engine = reader.get_bind().engine
        event.listen(engine, "before_execute", watch)
        try:
            for form in tsvector.FORMS:
                only_form(monkeypatch, form)
                search = engine_for(reader.get_bind())
                assert search.newest(reader, parse("taser"), Newest([], 20, scored=True))
                page = service.list_entries(
                    reader, LogFilters(q="taser"), now=utcnow(), sort=Sort.NEWEST
                )
                assert page.items
                connection = reader.connection()
                for setting in {s for settings in tsvector._OFF.values() for s in settings}:
                    assert connection.execute(select(_setting(setting))).scalar_one() == "on"
        finally:
            event.remove(engine, "before_execute", watch)
    # newest: "gather" when the match drives, "test" when it is tested; a driven page's ids.
    assert marked == [tsvector._OFF["gather"], tsvector._OFF["drive"], tsvector._OFF["test"]]


def test_postgres_public_reads_keep_plans_only_of_statements_planned_once(
    corpus: dict[str, DisclosureEntry],
) -> None:
    """A public read's connection keeps one plan for a statement marked `planned_once` (the
    data version, a force's page, with its size written in), once psycopg has prepared it; a
    search's statements are planned for their words every time, never kept."""
    if ENGINE is not tsvector:
        pytest.skip("SQLite keeps every statement's plan")
    force = LogFilters(forces=(corpus["vans"].force_id,))
    # Planned for their values: which forces, which outcome, decide the plan.
    valued = [
        LogFilters(forces=("kent", "essex")),
        LogFilters(forces=(corpus["vans"].force_id,), outcomes=("refused",)),
    ]
    searches = [LogFilters(q="taser"), LogFilters(q="drone OR taser -video")]
    with public_session() as reader:
        for _ in range(7):  # psycopg prepares a statement the fifth time it runs
            now = utcnow()
            data_version(reader, now)
            for filters in [force, *valued]:
                service.list_entries(reader, filters, now=now)
            for filters in searches:
                for sort in (Sort.RELEVANCE, Sort.NEWEST):
                    assert service.list_entries(reader, filters, now=now, sort=sort).items
        kept = reader.execute(
            text("SELECT statement, generic_plans FROM pg_prepared_statements")
        ).all()
    generic = [statement for statement, plans in kept if plans]
    assert any("entry_change" in statement for statement in generic), kept
    assert any("force_id IN" in statement for statement in generic), kept
    assert not [statement for statement in generic if "@@" in statement]
    assert not [statement for statement in generic if "outcome IN" in statement]
    assert not [s for s in generic if re.search(r"force_id IN \(\$\d+::VARCHAR, \$", s)]
    # A plan for any page size expects a tenth of the rows, and sorts them all.
    pages = [
        statement for statement in generic if "ORDER BY disclosure_entry.published_at" in statement
    ]
    assert pages
    assert not [statement for statement in pages if "LIMIT $" in statement]


def test_a_sqlite_share_counts_the_newest_ids_and_scales_them_to_the_log(
    session: Session, corpus: dict[str, DisclosureEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite's share of a query is the matches among the newest SAMPLE ids, scaled to the
    log's size: exact for a log no larger, an estimate past it (it only steers the form)."""
    if ENGINE is not fts5:
        pytest.skip("PostgreSQL's share is the planner's estimate")
    query = parse("taser")
    ids = {entry.id: entry.search_text.lower() for entry in corpus.values() if entry.id}
    newest = max(ids)
    matches = [entry_id for entry_id, text in ids.items() if "taser" in text]
    assert len(matches) >= 2
    shares._kept.clear()
    assert fts5._share(session, query) == (len(matches), newest)
    for sample in (1, 2, newest - min(matches)):
        monkeypatch.setattr(fts5, "SAMPLE", sample)
        shares._kept.clear()
        sampled = [m for m in matches if m > newest - sample]
        assert fts5._share(session, query) == (round(len(sampled) * newest / sample), newest)


@pytest.mark.parametrize("filtered", [False, True])
@pytest.mark.parametrize("older", [False, True])
def test_a_gathered_window_bounded_by_the_share_finds_what_the_whole_match_finds(
    corpus: dict[str, DisclosureEntry],
    monkeypatch: pytest.MonkeyPatch,
    filtered: bool,
    older: bool,
) -> None:
    """A window gathered from the GIN index first asks only the ids where the share says its
    matches lie; when they hold the window, that is the answer, and when they do not (the
    share is an estimate, and knows nothing of the page's other filters), the rest is asked
    below them: either way the same matches and scores as the whole match gives, below a
    cursor's id or not, filtered or not."""
    if ENGINE is not tsvector:
        pytest.skip("the bound is PostgreSQL's")
    only_form(monkeypatch, "drive")
    query = parse("taser OR drone OR vans OR recognition")
    where = [table_of(DisclosureEntry).c.force_id == "metropolitan"] if filtered else []
    windows: list[str] = []

    def watch(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        if "ts_rank" in statement:
            windows.append(statement)

    with public_session() as reader:
        search = engine_for(reader.get_bind())
        every = search.newest(reader, query, Newest([], 50, scored=True))
        entries = max(entry_id for entry_id, _ in every)
        before = every[0][0] if older else None
        monkeypatch.setattr(tsvector, "WIDEN", 1e9)  # no bound: the whole match
        whole = search.newest(reader, query, Newest(where, 50, before, scored=True))
        assert len(whole) >= 3
        top = min(entries + 1, before or entries + 1)
        engine = reader.get_bind().engine
        event.listen(engine, "before_cursor_execute", watch)
        try:
            for size in (1, 2, 3):
                # The share says `size` matches a log's size of ids: the span is WIDEN ids.
                monkeypatch.setattr(tsvector, "_share", lambda *_, n=size: (n * entries, entries))
                for span in (1, top - whole[size - 1][0]):
                    monkeypatch.setattr(tsvector, "WIDEN", span)
                    windows.clear()
                    window = search.newest(reader, query, Newest(where, size, before, scored=True))
                    assert window == whole[:size]
                    held = [i for i, _ in whole if i >= top - span]
                    assert len(windows) == (1 if len(held) >= size else 2)
                    assert "disclosure_entry.id >=" in windows[0]
                    for rest in windows[1:]:
                        assert "disclosure_entry.id >=" not in rest
                        assert rest.count("disclosure_entry.id <") == (2 if older else 1)
        finally:
            event.remove(engine, "before_cursor_execute", watch)


def test_a_postgres_search_page_asks_again_nothing_it_was_told(
    corpus: dict[str, DisclosureEntry],
) -> None:
    """The stems of the words a page highlights, and the log's size, are kept by the process:
    a page of the same words again runs no statement for either, and highlights the same."""
    if ENGINE is not tsvector:
        pytest.skip("SQLite stems in-process")
    statements: list[str] = []

    def watch(connection: Any, cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    pages = []
    with public_session() as reader:
        engine = reader.get_bind().engine
        event.listen(engine, "before_cursor_execute", watch)
        try:
            # The same words, a new query: its share is counted, but not the log's size.
            for q in ("drones recognised", "recognised drones"):
                statements.clear()
                filters = LogFilters(q=q)
                pages.append(service.list_entries(reader, filters, now=utcnow(), sort=Sort.NEWEST))
        finally:
            event.remove(engine, "before_cursor_execute", watch)
    assert pages[0].items == pages[1].items
    assert any(b"<mark>" in item for item in pages[1].items)
    assert [s for s in statements if s.startswith("EXPLAIN")]
    assert not [s for s in statements if "to_tsvector('english', w)" in s]
    assert not [s for s in statements if "max(disclosure_entry.id)" in s]


def test_postgres_public_reads_prepare_a_statement_once_for_every_size_and_id(
    corpus: dict[str, DisclosureEntry],
) -> None:
    """Pages of forty sizes, and lookups of ids of either integer width, run a handful of
    prepared statements again and again: psycopg keys a prepared statement by its text and its
    parameters' types, keeps a connection's last 100 and deallocates the oldest, and a
    statement a size and a width of id made one a request."""
    if ENGINE is not tsvector:
        pytest.skip("SQLite keeps every statement's plan")
    prepared = text("SELECT name, statement, generic_plans FROM pg_prepared_statements")
    with public_session() as reader:
        # The pooled connection may have prepared statements in earlier tests.
        before = {name: plans for name, _, plans in reader.execute(prepared)}
        for limit in range(1, 41):
            assert service.list_entries(reader, LogFilters(), now=utcnow(), limit=limit).items
        # None of them in the log: int2, int4, int4 as psycopg would send them by value.
        for entry_id in [30_000, 40_000, 2_000_000_000] * 3:
            with pytest.raises(NotFound):
                service.get_document(reader, entry_id, now=utcnow())
        after = reader.execute(prepared).all()
    new = [statement for name, statement, _ in after if name not in before]
    assert len(new) <= 20, new
    by_id = [
        plans - before.get(name, 0)
        for name, statement, plans in after
        if "WHERE disclosure_entry.id = $1" in statement
    ]
    assert by_id == [9], after


def test_a_public_search_with_quotes_and_percent_signs_finds_what_a_keyed_read_finds(
    corpus: dict[str, DisclosureEntry],
) -> None:
    """On PostgreSQL a public read's search goes with its values written into the statement
    (`app.db._plan_public`): quotes, backslashes, percent signs and colons stay values."""
    filters = LogFilters(q="taser OR o'brien OR 100% OR back\\slash OR :name OR %(x)s")
    now = utcnow()
    with public_session() as reader, new_session() as keyed:
        public = service.list_entries(reader, filters, now=now).items
        assert public
        assert public == service.list_entries(keyed, filters, now=now).items


def test_count_with_search(client: TestClient, corpus: dict[str, DisclosureEntry]) -> None:
    for sort in ("relevance", "-published_at", "received_on"):
        body = client.get(LOG, params={"q": "taser", "count": "true", "sort": sort}).json()
        assert body["total"] == 2


def test_search_with_filters(
    session: Session, client: TestClient, corpus: dict[str, DisclosureEntry]
) -> None:
    params = {"q": "facial", "force": "hertfordshire"}
    assert hits(client, **params) == {corpus["herts"].id}
    page = service.list_entries(
        session, LogFilters(q="facial", forces=("metropolitan",)), now=utcnow()
    )
    assert len(page.items) == 1
    assert page.items[0].endswith(b"}")


def test_query_longer_than_the_limit_is_400(client: TestClient) -> None:
    response = client.get(LOG, params={"q": "a" * 1001})
    assert response.status_code == 400
    assert "1000" in response.json()["detail"]


def test_only_excluded_words_is_400_with_a_clear_message(client: TestClient) -> None:
    response = client.get(LOG, params={"q": "-covert"})
    assert response.status_code == 400
    assert "only excludes" in response.json()["detail"]


def test_relevance_needs_a_query(session: Session) -> None:
    with pytest.raises(BadRequest, match="relevance"):
        service.list_entries(session, LogFilters(), now=utcnow(), sort=Sort.RELEVANCE)


HOSTILE = [
    '"',
    '"""',
    '"unbalanced',
    "NEAR(facial recognition, 2)",
    "facial*",
    "^facial",
    "search_text:facial",
    "title:facial",
    "{search_text}: facial",
    "facial AND",
    "AND OR NOT",
    "(facial",
    "facial)",
    "a & b | !c <-> d",
    "facial:*",
    "'; DROP TABLE disclosure_entry; --",
    "1' OR '1'='1",
    "facial\x00recognition",
    "\x00",
    "🚓 police 🚨",
    "🚓",
    "ﬁre ½ ² ™",
    "straße",
    "\u202e\u200b facial",
    "-",
    "--",
    "- -",
    '-""',
    "the",
    "the -police",
    "OR",
    "NOT",
    "*",
    ":",
    "\\",
    "%",
    "%00",
    "<script>alert(1)</script>",
    "x" * 999,
    "word " * 199,
    " ".join(["a OR"] * 20),
    "\ud7ff",
    "null",
    "rank:1",
    "rowid=1",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_answer_200_or_4xx(
    client: TestClient, corpus: dict[str, DisclosureEntry], q: str
) -> None:
    for sort in ("relevance", "-published_at"):
        response = client.get(LOG, params={"q": q, "sort": sort, "count": "true"})
        assert response.status_code in (200, 400), response.text
        if response.status_code == 400:
            assert response.headers["content-type"] == PROBLEM
        else:
            for item in response.json()["items"]:
                assert "<script>" not in item["highlight"]


def test_five_kilobytes_of_query_is_a_4xx(client: TestClient) -> None:
    response = client.get(LOG, params={"q": "facial recognition " * 270})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    "q",
    [
        "debate",  # a public interest factor for disclosure
        "criminals capacity",  # one against
        "supersede",  # the balance
        "zeppelin",  # harm
        '"information rights"',  # the signatory's role
    ],
)
def test_full_text_covers_the_reasoning_of_each_citation(client: TestClient, q: str) -> None:
    with new_session(write=True) as session:
        key = make_key(session)
    request = create_request(client, key)
    citations = hertfordshire_response_body()["citations"]
    citations[1]["harm"] = "Confirming would help a zeppelin of offenders evade detection."
    add_response(client, key, request["id"], citations=citations)
    entry = publish_request(client, key, request["id"])
    found = client.get("/v1/disclosure-log", params={"q": q}).json()["items"]
    assert [item["id"] for item in found] == [entry["id"]]
    assert "<mark>" in found[0]["highlight"]
