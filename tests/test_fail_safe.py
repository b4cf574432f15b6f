"""Start and fail safe: no serving an unmigrated database; a database out of reach (down, cut
mid-request, no connection free) is a 503 with Retry-After, and the next request after it
recovers is served without a restart."""

import asyncio
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import _throwaway_postgres
from factories import auth, create_request, make_key
from fastapi.testclient import TestClient
from instances import ROOT, _free_port
from log_factories import publish
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlmodel import Session
from test_faults import until

from app import db
from app.errors import ReadsBusy
from app.foi_requests import service as requests
from app.health import router as health
from app.read_turns import Turns

PROBLEM = "application/problem+json"


@pytest.fixture
def empty_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the same kind as the suite's, with no table in it."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    yield from _throwaway_postgres(database_url)


def _serve(database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FOILOG_DATABASE_URL": database_url}
    command = [sys.executable, "-m", "app.cli", "serve", "--port", str(_free_port())]
    # Were it to start, it would serve until the timeout, and the test fails on that.
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_serve_refuses_an_unmigrated_database(empty_database_url: str) -> None:
    result = _serve(empty_database_url)
    assert result.returncode != 0
    assert "foilog db upgrade" in result.stderr


def test_serve_refuses_a_database_out_of_reach() -> None:
    result = _serve(f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/foilog")
    assert result.returncode != 0
    assert "cannot be reached" in result.stderr


def _is_503(response: Any) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["status"] == 503


def _unreachable(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        return db.make_engine("sqlite:////nonexistent-directory/foilog.db")
    url = make_url(database_url).set(port=_free_port())
    return db.make_engine(url.render_as_string(hide_password=False))


def test_a_database_out_of_reach_is_a_503_then_served_again(
    client: TestClient, session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(session)
    session.commit()
    down = _unreachable(database_url)
    with monkeypatch.context() as patched:
        patched.setattr(db, "get_engine", lambda: down)
        patched.setattr(db, "get_read_engine", lambda: down)
        _is_503(client.get("/v1/disclosure-log"))
        _is_503(client.get("/v1/forces/hertfordshire"))
        _is_503(client.get("/v1/requests", headers=auth(key)))
        _is_503(client.post("/v1/requests", json={}, headers=auth(key)))
    down.dispose()
    assert client.get("/v1/disclosure-log").status_code == 200
    assert client.get("/v1/requests", headers=auth(key)).status_code == 200


def test_readiness_with_the_database_out_of_reach_is_a_503_to_retry(
    client: TestClient, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = _unreachable(database_url)
    with monkeypatch.context() as patched:
        patched.setattr(health, "get_engine", lambda: down)
        _is_503(client.get("/readyz"))
    down.dispose()
    assert client.get("/readyz").status_code == 200


def test_no_connection_free_in_time_is_a_503(
    client: TestClient, session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(session)
    session.commit()
    busy = create_engine(database_url, pool_size=1, max_overflow=0, pool_timeout=0.2)
    with busy.connect(), monkeypatch.context() as patched:
        patched.setattr(db, "get_engine", lambda: busy)
        _is_503(client.get("/v1/requests", headers=auth(key)))
    busy.dispose()
    assert client.get("/v1/requests", headers=auth(key)).status_code == 200


def test_a_read_kept_waiting_for_its_turn_is_a_503_while_writes_go_on(
    client: TestClient, session: Session, configure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(session)
    session.commit()
    configure(db_pool_timeout=0.2)
    # One turn, that lasts as long as its read: the test's read holds it.
    turns = Turns(1, lease_s=60)
    monkeypatch.setattr(db, "read_turns", lambda: turns)
    with db.public_session():
        for url in ("/v1/disclosure-log", "/v1/forces", "/v1/disclosure-log.csv"):
            response = client.get(url)
            _is_503(response)
            assert response.json()["type"].endswith(":reads-busy"), url
        page = client.get("/disclosure-log")
        assert page.status_code == 503, page.text
        assert page.headers["content-type"].startswith("text/html")
        assert int(page.headers["retry-after"]) > 0
        # Writes and keyed reads do not queue behind public reads.
        created = create_request(client, key)
        assert client.get(f"/v1/requests/{created['id']}", headers=auth(key)).is_success
    assert client.get("/v1/disclosure-log").status_code == 200


def test_a_public_read_starts_its_turn_only_once_a_running_write_request_ends(
    client: TestClient, session: Session, configure: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = make_key(session)
    session.commit()
    configure(db_pool_timeout=0.2)
    turns = Turns(1, lease_s=60, write_lease_s=60)  # a turn free, and a write that goes first
    monkeypatch.setattr(db, "read_turns", lambda: turns)

    def in_thread() -> int:
        with db.public_session() as session:
            return int(session.execute(text("SELECT 1")).scalar_one())

    async def on_loop() -> int:
        async with db.public_session_on_loop() as session:
            return int(session.execute(text("SELECT 1")).scalar_one())

    reads = (in_thread, lambda: asyncio.run(on_loop()))
    refused = []
    create = requests.create_request

    def creating(*args: Any, **kwargs: Any) -> Any:
        # Inside a write request: no public read starts, in a thread or on a loop.
        for read in reads:
            with pytest.raises(ReadsBusy):
                read()
            refused.append(read)
        return create(*args, **kwargs)

    monkeypatch.setattr(requests, "create_request", creating)
    create_request(client, key)
    assert refused == list(reads)
    assert [read() for read in reads] == [1, 1]
    # A keyed read is no write: public reads go on beside it.
    assert client.get("/v1/requests", headers=auth(key)).status_code == 200
    assert [read() for read in reads] == [1, 1]


def test_a_connection_cut_mid_request_is_a_503_and_the_next_is_served(
    client: TestClient, session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What a PostgreSQL restart does to a request in flight: the server ends its backend."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a server process to end is PostgreSQL's; SQLite runs in the process")
    key = make_key(session)
    session.commit()
    request = create_request(client, key)
    listed = requests.list_requests

    def cut(session: Session, **options: Any) -> Any:
        session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return listed(session, **options)

    with monkeypatch.context() as patched:
        patched.setattr(requests, "list_requests", cut)
        _is_503(client.get("/v1/requests", headers=auth(key)))
    # Every pooled connection of the app ended at once, as a restart does.
    session.close()
    _end_every_other_session()
    served = client.get("/v1/requests", headers=auth(key))
    assert served.status_code == 200
    assert [item["id"] for item in served.json()["items"]] == [request["id"]]
    assert client.get("/v1/disclosure-log").status_code == 200


def _end_every_other_session() -> None:
    """End every session of the database but the one asking, as a restart does, and wait
    until the server has let them go (in autocommit: a transaction reads pg_stat_activity
    once)."""
    with db.get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
        others = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        until(lambda: connection.execute(others).scalar_one() == 0, "the ended sessions to go", 5)


def test_pooled_connections_the_server_ended_are_replaced_unseen(
    client: TestClient, session: Session, database_url: str
) -> None:
    """Idle pooled connections that a restart ended are never handed to a request: the pool
    sees their sockets closed and opens new ones, so nobody gets an error for them."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a server process to end is PostgreSQL's; SQLite runs in the process")
    key = make_key(session)
    session.commit()
    session.close()
    # Both pools hold an idle connection now: the keyed one and the public reads'.
    assert client.get("/v1/requests", headers=auth(key)).status_code == 200
    assert client.get("/v1/disclosure-log").status_code == 200
    _end_every_other_session()
    assert client.get("/v1/requests", headers=auth(key)).status_code == 200
    assert client.get("/v1/disclosure-log").status_code == 200


@pytest.mark.parametrize("params", [{"q": "vehicles"}, {"q": "vehicles", "sort": "-published_at"}])
def test_a_connection_cut_during_a_search_is_a_503(
    client: TestClient, session: Session, database_url: str, params: dict[str, str]
) -> None:
    """A search's statement is the one a restart ends: what runs after it on the dead
    connection (PostgreSQL resets a setting) must not hide that the database went away."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a server process to end is PostgreSQL's; SQLite runs in the process")
    publish(session)
    killer = create_engine(database_url)

    def cut(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "@@" in statement:
            with killer.connect() as other:
                other.execute(
                    text("SELECT pg_terminate_backend(:pid)"),
                    {"pid": cursor.connection.info.backend_pid},
                )

    engines = {db.get_engine(), db.get_read_engine()}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", cut)
    try:
        _is_503(client.get("/v1/disclosure-log", params=params))
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", cut)
        killer.dispose()
    assert client.get("/v1/disclosure-log", params=params).status_code == 200


def test_a_refused_cors_preflight_is_a_problem(client: TestClient) -> None:
    asked = {"Origin": "https://example.org", "Access-Control-Request-Method": "DELETE"}
    refused = client.options("/v1/disclosure-log", headers=asked)
    assert refused.status_code == 400
    assert refused.headers["content-type"] == PROBLEM
    assert "DELETE" not in refused.headers["access-control-allow-methods"]
    assert "method" in refused.json()["detail"]
    allowed = client.options(
        "/v1/disclosure-log", headers={**asked, "Access-Control-Request-Method": "GET"}
    )
    assert allowed.status_code == 200


@pytest.mark.parametrize(
    ("method", "url"), [("GET", "/v1/nowhere"), ("DELETE", "/v1/forces"), ("PUT", "/healthz")]
)
def test_what_starlette_answers_is_a_problem_too(client: TestClient, method: str, url: str) -> None:
    response = client.request(method, url)
    assert response.status_code in {404, 405}
    assert response.headers["content-type"] == PROBLEM
