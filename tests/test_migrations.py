import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import Engine, inspect

from app import migrate
from app.db import get_engine, make_engine
from app.health import router as health


def test_upgrade_twice_changes_nothing(database_url: str) -> None:
    before = migrate.current_revision(get_engine())
    migrate.upgrade(database_url)
    assert migrate.current_revision(get_engine()) == before == migrate.head_revision()


def test_models_and_migrations_agree(database_url: str) -> None:
    # alembic check raises when autogenerate would emit any operation
    command.check(migrate.alembic_config(database_url))


def test_first_revision_creates_every_table(database_url: str) -> None:
    tables = set(inspect(get_engine()).get_table_names())
    assert {"force", "exemption", "foi_request", "disclosure_entry", "entry_change"} <= tables


@pytest.fixture
def engine_of(monkeypatch: pytest.MonkeyPatch) -> Callable[[Engine], None]:
    def use(engine: Engine) -> None:
        monkeypatch.setattr(health, "get_engine", lambda: engine)

    return use


def test_readyz_is_503_on_an_unmigrated_database(
    client: TestClient, tmp_path: Path, engine_of: Callable[[Engine], None]
) -> None:
    empty = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    engine_of(empty)
    response = client.get("/readyz")
    empty.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "foilog db upgrade" in response.json()["detail"]


def test_readyz_is_503_when_the_database_is_unreachable(
    client: TestClient, engine_of: Callable[[Engine], None]
) -> None:
    unreachable = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1")
    engine_of(unreachable)
    response = client.get("/readyz")
    unreachable.dispose()
    assert response.status_code == 503
    assert "unreachable" in response.json()["detail"]
    assert client.get("/healthz").status_code == 200


def test_sqlite_migrations_keep_rows_that_refer_to_a_copied_table(tmp_path: Path) -> None:
    """A table copied by a migration (alembic's batch mode) keeps the rows of tables that refer
    to it: 0013 copied `webhook` and, with foreign keys enforced, the copy's drop of the old
    table deleted every delivery. And once 0022 ran, a deleted webhook's id is not given again."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = migrate.alembic_config(url)
    command.upgrade(config, "0012")
    with sqlite3.connect(tmp_path / "old.db") as old:
        old.execute(
            "INSERT INTO webhook (id, url, events, forces, topics, description, secret, "
            "created_at, cursor, failures) VALUES "
            "(7, 'https://r.example/h', '[]', '[]', '[]', '', 's', '2026-01-01', 0, 0)"
        )
        old.execute(
            "INSERT INTO webhook_delivery (webhook_id, message_id, event, attempted_at, "
            "delivered) VALUES (7, 'msg_7_1', 'entry.published', '2026-01-01', 1)"
        )
    command.upgrade(config, "head")
    with sqlite3.connect(tmp_path / "old.db") as upgraded:
        assert upgraded.execute("SELECT count(*) FROM webhook_delivery").fetchone() == (1,)
        upgraded.execute("PRAGMA foreign_keys=ON")
        upgraded.execute("DELETE FROM webhook WHERE id = 7")
        upgraded.execute(
            "INSERT INTO webhook (url, events, forces, topics, description, secret, created_at, "
            "cursor, failures) VALUES ('https://r.example/h', '[]', '[]', '[]', '', 's', "
            "'2026-01-02', 0, 0)"
        )
        assert upgraded.execute("SELECT id FROM webhook").fetchall() == [(8,)]


def test_0024_gives_stored_documents_the_dates_that_moved_their_due_date(
    client: TestClient, database_url: str
) -> None:
    """Documents stored before 0024 lack the clarification's date and the extended due date;
    the migration appends them as the code now writes them, byte for byte."""
    from factories import add_response, auth, create_request, make_key, publish
    from sqlmodel import Session, select

    from app.models import DisclosureEntry

    with Session(get_engine()) as session:
        key = make_key(session)
    request = create_request(client, key, received_on="2024-03-27")
    dates = {"clarification_received_on": "2024-04-15", "extended_due_on": "2024-06-11"}
    patched = client.patch(
        f"/v1/requests/{request['id']}", json=dates, headers={**auth(key), "If-Match": "*"}
    )
    assert patched.status_code == 200, patched.text
    add_response(client, key, request["id"], responded_on="2024-06-03")
    publish(client, key, request["id"])

    def stored() -> str:
        with Session(get_engine()) as session:
            return session.exec(select(DisclosureEntry.document)).one()

    written = stored()
    config = migrate.alembic_config(database_url)
    command.downgrade(config, "0023")
    before = stored()
    assert '"extended_due_on"' not in before
    assert before.endswith("]}")
    command.upgrade(config, "head")
    assert stored() == written
    assert written.endswith(
        ',"clarification_received_on":"2024-04-15","extended_due_on":"2024-06-11"}'
    )


def test_0025_gives_changes_recorded_before_it_their_entrys_topics(database_url: str) -> None:
    """The topics each change records are what a webhook filtered by topic looks back to when
    an update takes an entry off its topics; changes recorded before 0025 get the entry's."""
    from log_factories import publish
    from sqlmodel import Session, col, select

    from app.models import EntryChange

    def recorded() -> list[tuple[int, object]]:
        with Session(get_engine()) as session:
            query = select(EntryChange.entry_id, EntryChange.topics).order_by(col(EntryChange.seq))
            return [(entry_id, topics) for entry_id, topics in session.exec(query)]

    with Session(get_engine()) as session:
        tagged = publish(session, topics=["drones", "biometrics"], title="Tagged").id
        plain = publish(session, title="Plain").id
    written = recorded()
    assert written == [(tagged, ["biometrics", "drones"]), (plain, [])]
    config = migrate.alembic_config(database_url)
    command.downgrade(config, "0024")
    command.upgrade(config, "head")
    assert recorded() == written
