"""Within a force a reference or alias names one request (README, "References"): every write
that would give a name to a second request is refused, whichever door it comes through and
however writers race; names two requests shared before migration 0027 still answer a lookup,
listing both."""

from typing import Any

import orjson
import pytest
from alembic import command
from factories import add_response, auth, create_request, hertfordshire_request_body, make_key
from factories import publish as publish_request
from fastapi.testclient import TestClient
from log_factories import publish, withdraw
from sqlalchemy import text
from sqlmodel import Session, select
from test_import import SYSTEM, entry_document

from app import migrate
from app.db import get_engine, new_session
from app.errors import RuleViolation
from app.foi_requests import service as requests
from app.foi_requests.schemas import RequestCreate
from app.imports import service as imports
from app.imports.service import import_entries
from app.keys.schemas import Actor
from app.models import DisclosureEntry, FoiRequest

PROBLEM = "application/problem+json"
SHARED = "SHARED-ALIAS-9"


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


def refusal(response: Any) -> tuple[str, list[Any], str]:
    """A 422's rule, the field it names and the request it points at."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert response.headers["link"] == f'<{body["existing"]}>; rel="existing"'
    return body["rule"], body["errors"][0]["loc"], body["existing"]


def new(client: TestClient, key: str, reference: str, **changes: Any) -> Any:
    body = hertfordshire_request_body(reference=reference, **changes)
    return client.post("/v1/requests", json=body, headers=auth(key))


def names() -> list[tuple[str, str, int, bool]]:
    """Every request's names, as request_reference holds them."""
    with new_session() as session:
        rows = session.execute(
            text(
                "SELECT force_id, reference_key, request_id, shared FROM request_reference "
                "ORDER BY force_id, reference_key, request_id"
            )
        )
        return [(force, key, request_id, bool(shared)) for force, key, request_id, shared in rows]


def test_a_second_request_may_not_take_an_alias(client: TestClient, admin: str) -> None:
    first = create_request(client, admin, reference="FOI/1", aliases=[SHARED])
    url = f"/v1/requests/{first['id']}"
    # However it is cased and spaced, and wherever it stands among the aliases.
    second = new(client, admin, "FOI/2", aliases=["OLD/2", "Shared -alias-9"])
    assert refusal(second) == ("reference-taken", ["body", "aliases", 1], url)
    detail = second.json()["detail"]
    assert f"'Shared -alias-9' is already an alias of request 'FOI/1' ({url})" in detail
    # Nothing of the refused request was kept, its other alias included.
    assert names() == [
        ("hertfordshire", "foi/1", first["id"], False),
        ("hertfordshire", "shared-alias-9", first["id"], False),
    ]
    assert new(client, admin, "FOI/2", aliases=["OLD/2"]).status_code == 201
    # Names are the force's own: another force may use the same.
    assert new(client, admin, "FOI/1", aliases=[SHARED], force="kent").status_code == 201


def test_a_reference_may_not_be_another_requests_alias_nor_the_other_way(
    client: TestClient, admin: str
) -> None:
    first = create_request(client, admin, reference="FOI/1", aliases=[SHARED])
    url = f"/v1/requests/{first['id']}"
    as_reference = new(client, admin, "Shared-Alias-9")
    assert refusal(as_reference) == ("reference-taken", ["body", "reference"], url)
    as_alias = new(client, admin, "FOI/2", aliases=["foi /1"])
    assert refusal(as_alias) == ("reference-taken", ["body", "aliases", 0], url)
    assert "is already the reference of request 'FOI/1'" in as_alias.json()["detail"]
    # The same reference again is still the 409 that points at the request it names.
    assert new(client, admin, "foi/1").status_code == 409
    # A request's own reference among its aliases names it alone.
    assert new(client, admin, "FOI/3", aliases=["foi 3", "FOI/3b"]).status_code == 201


def test_a_patch_may_not_take_an_alias_and_frees_those_it_drops(
    client: TestClient, admin: str
) -> None:
    first = create_request(client, admin, reference="FOI/1", aliases=[SHARED, "OLD/1"])
    second = create_request(client, admin, reference="FOI/2")
    patch = {**auth(admin), "If-Match": "*"}
    taken = client.patch(
        f"/v1/requests/{second['id']}", json={"aliases": ["x", SHARED]}, headers=patch
    )
    url = f"/v1/requests/{first['id']}"
    assert refusal(taken) == ("reference-taken", ["body", "aliases", 1], url)
    assert client.get(f"/v1/requests/{second['id']}", headers=auth(admin)).json()["aliases"] == []
    # Keeping its own names is no clash; what it drops, another request may take.
    kept = client.patch(
        f"/v1/requests/{first['id']}", json={"aliases": ["old/1", SHARED]}, headers=patch
    )
    assert kept.status_code == 200, kept.text
    dropped = client.patch(
        f"/v1/requests/{first['id']}", json={"aliases": ["OLD/1"]}, headers=patch
    )
    assert dropped.status_code == 200, dropped.text
    moved = client.patch(f"/v1/requests/{second['id']}", json={"aliases": [SHARED]}, headers=patch)
    assert moved.status_code == 200, moved.text
    assert [(key, request_id) for _, key, request_id, _ in names()] == [
        ("foi/1", first["id"]),
        ("foi/2", second["id"]),
        ("old/1", first["id"]),
        ("shared-alias-9", second["id"]),
    ]


def test_a_published_alias_finds_one_entry(client: TestClient, admin: str) -> None:
    first = create_request(client, admin, reference="FOI/1", aliases=[SHARED])
    add_response(client, admin, first["id"])
    entry = publish_request(client, admin, first["id"])
    assert new(client, admin, "FOI/2", aliases=[SHARED]).status_code == 422
    found = client.get(f"/v1/forces/hertfordshire/references/{SHARED.lower()}")
    assert found.status_code == 200
    assert found.json()["id"] == entry["id"]
    listed = client.get("/v1/disclosure-log", params={"reference": SHARED}).json()["items"]
    assert [item["id"] for item in listed] == [entry["id"]]


def test_a_writer_that_takes_a_name_after_the_check_is_stopped_by_the_index(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check can miss a name another process gives its request an instant later; the
    unique index on (force, name) still holds, and the answer is the same 422."""
    actor = Actor.system("test")
    first = requests.create_request(
        session,
        RequestCreate.model_validate(hertfordshire_request_body(aliases=[SHARED])),
        actor=actor,
    )
    real_holders = requests.holders
    calls: list[str] = []

    def misses_once(*args: Any) -> Any:
        calls.append("holders")
        return {} if len(calls) == 1 else real_holders(*args)

    monkeypatch.setattr(requests, "holders", misses_once)
    body = hertfordshire_request_body(reference="FOI/2", aliases=[SHARED])
    with pytest.raises(RuleViolation) as caught:
        requests.create_request(session, RequestCreate.model_validate(body), actor=actor)
    session.rollback()
    assert caught.value.rule == "reference-taken"
    assert caught.value.extra["existing"] == f"/v1/requests/{first.id}"
    assert caught.value.errors == [
        {"loc": ["body", "aliases", 0], "msg": caught.value.detail, "rule": "reference-taken"}
    ]
    assert calls == ["holders", "holders"]
    assert session.exec(select(FoiRequest.reference)).all() == ["FOI2018/02892"]


# Imports


def lines(*documents: dict[str, Any]) -> list[bytes]:
    return [orjson.dumps(document) for document in documents]


def line(reference: str, *aliases: str) -> dict[str, Any]:
    return entry_document(reference=reference, aliases=list(aliases))


def test_an_import_shares_a_name_another_request_has_and_a_lookup_lists_both(
    client: TestClient, admin: str
) -> None:
    """An import reproduces what its source holds (SPEC §7: an export imports into another
    instance unchanged, and a mirror must not stop on a name its source shares): the name is
    shared, not refused, and a lookup by it lists the entries (300) instead of picking one."""
    first = create_request(client, admin, reference="FOI/1", aliases=[SHARED])
    add_response(client, admin, first["id"])
    publish_request(client, admin, first["id"])
    body = b"\n".join(lines(line("FOI/2", "ok", "Shared-Alias-9")))
    headers = {**auth(admin), "Content-Type": "application/x-ndjson"}
    imported = client.post("/v1/import", content=body, headers=headers)
    assert imported.status_code == 200, imported.text
    shared = [(key, shared) for _, key, _, shared in names() if key == "shared-alias-9"]
    assert shared == [("shared-alias-9", True), ("shared-alias-9", True)]
    looked_up = client.get(f"/v1/forces/hertfordshire/references/{SHARED}")
    assert looked_up.status_code == 300, looked_up.text
    assert len(looked_up.json()["entries"]) == 2
    # The write API still refuses a third request the name.
    assert refusal(new(client, admin, "FOI/3", aliases=[SHARED]))[0] == "reference-taken"


@pytest.mark.parametrize("batch", [1, 2, 1000])
def test_lines_of_one_file_giving_one_name_share_it(
    session: Session, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    monkeypatch.setattr(imports, "BATCH", batch)
    file = lines(line("A/1", SHARED), line("A/2"), line("A/3"), line("A/4", SHARED))
    result = import_entries(session, file, actor=SYSTEM)
    assert result.created == 4
    holders = [
        (request_id, shared) for _, key, request_id, shared in names() if key == "shared-alias-9"
    ]
    assert holders == [(1, True), (4, True)]


@pytest.mark.parametrize("batch", [1, 1000])
def test_a_file_may_move_a_name_from_one_request_to_another_in_either_order(
    session: Session, monkeypatch: pytest.MonkeyPatch, batch: int
) -> None:
    """A mirror sends an entry's current document in the order its changes come: the request
    that takes a name may come before the one that drops it."""
    monkeypatch.setattr(imports, "BATCH", batch)
    import_entries(session, lines(line("A/1", SHARED), line("A/2")), actor=SYSTEM)
    moved = lines(line("A/2", SHARED), line("A/1"))
    result = import_entries(session, moved, actor=SYSTEM)
    assert (result.created, result.updated) == (0, 2)
    assert [(key, request_id) for _, key, request_id, _ in names()] == [
        ("a/1", 1),
        ("a/2", 2),
        ("shared-alias-9", 2),
    ]


def test_an_imported_request_has_its_names(session: Session) -> None:
    import_entries(session, lines(line("A/1", "old 1", "OLD1", "a/1")), actor=SYSTEM)
    assert names() == [
        ("hertfordshire", "a/1", 1, False),
        ("hertfordshire", "old1", 1, False),
    ]


# Names shared before migration 0027


def shared_pair(session: Session, **second: Any) -> tuple[int, int]:
    """Two entries stored with one alias, as writes before 0027 could leave them (the log's
    factories write requests without their names)."""
    first = publish(session, reference="FOI/1", aliases=[SHARED]).id
    other = publish(session, **{"reference": "FOI/2", "aliases": [SHARED], **second}).id
    assert first is not None
    assert other is not None
    return first, other


def test_a_name_two_entries_share_is_a_300_listing_both(
    client: TestClient, session: Session
) -> None:
    first, second = shared_pair(session)
    response = client.get(f"/v1/forces/metropolitan/references/{SHARED}")
    assert response.status_code == 300
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 300
    assert body["entries"] == [
        {
            "id": first,
            "reference": "FOI/1",
            "status": "published",
            "url": f"/v1/disclosure-log/{first}",
        },
        {
            "id": second,
            "reference": "FOI/2",
            "status": "published",
            "url": f"/v1/disclosure-log/{second}",
        },
    ]
    assert response.headers["link"] == (
        f'</v1/disclosure-log/{first}>; rel="alternate", '
        f'</v1/disclosure-log/{second}>; rel="alternate"'
    )
    # Each is still found by its own reference, and the filter lists both.
    own = client.get("/v1/forces/metropolitan/references/foi/2")
    assert own.json()["id"] == second
    listed = client.get("/v1/disclosure-log", params={"reference": SHARED}).json()["items"]
    assert sorted(item["id"] for item in listed) == [first, second]


def test_a_reference_another_entry_has_as_an_alias_lists_both(
    client: TestClient, session: Session
) -> None:
    first = publish(session, reference="FOI/1").id
    second = publish(session, reference="FOI/2", aliases=["foi/1"]).id
    response = client.get("/v1/forces/metropolitan/references/FOI/1")
    assert response.status_code == 300
    assert [e["id"] for e in response.json()["entries"]] == [first, second]


def test_a_live_entry_answers_before_a_withdrawn_one_sharing_its_name(
    client: TestClient, session: Session
) -> None:
    first, second = shared_pair(session)
    withdraw(session, session.get_one(DisclosureEntry, first))
    response = client.get(f"/v1/forces/metropolitan/references/{SHARED}")
    assert response.status_code == 200
    assert response.json()["id"] == second
    withdraw(session, session.get_one(DisclosureEntry, second))
    both_gone = client.get(f"/v1/forces/metropolitan/references/{SHARED}")
    assert both_gone.status_code == 300
    assert [e["status"] for e in both_gone.json()["entries"]] == ["withdrawn", "withdrawn"]


def test_0027_keeps_names_shared_before_and_refuses_a_third_request_one(
    client: TestClient, database_url: str
) -> None:
    """Requests stored before 0027 get their names; names two already share are kept, marked
    shared, and the unique index leaves them be. The two keep writing them; no other request
    may take one."""
    config = migrate.alembic_config(database_url)
    command.downgrade(config, "0026")
    with Session(get_engine()) as session:
        shared_pair(session, aliases=[SHARED, "FOI/1", "OLD/2"])
        key = make_key(session)
    command.upgrade(config, "head")
    with Session(get_engine()) as session:
        ids = dict(session.execute(text("SELECT reference, id FROM foi_request")).all())
    one, two = ids["FOI/1"], ids["FOI/2"]
    assert names() == [
        ("metropolitan", "foi/1", one, True),
        ("metropolitan", "foi/1", two, True),
        ("metropolitan", "foi/2", two, False),
        ("metropolitan", "old/2", two, False),
        ("metropolitan", "shared-alias-9", one, True),
        ("metropolitan", "shared-alias-9", two, True),
    ]
    assert client.get(f"/v1/forces/metropolitan/references/{SHARED}").status_code == 300
    patch = {**auth(key), "If-Match": "*"}
    kept = client.patch(
        f"/v1/requests/{two}", json={"aliases": [SHARED, "FOI/1", "OLD/2b"]}, headers=patch
    )
    assert kept.status_code == 200, kept.text
    third = client.post(
        "/v1/requests",
        json=hertfordshire_request_body(force="metropolitan", reference="FOI/3", aliases=[SHARED]),
        headers=auth(key),
    )
    assert refusal(third)[:2] == ("reference-taken", ["body", "aliases", 0])
    command.check(config)  # the models and the migrated schema agree
