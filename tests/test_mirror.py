"""scripts/mirror.py keeps a second instance (its own database, its own process) in step with
this one through GET /v1/changes and POST /v1/import only."""

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import factories
import httpx
import orjson
import pytest
from fastapi.testclient import TestClient
from instances import ROOT, Instance, serve
from log_factories import Spec, publish
from sqlmodel import Session
from test_import import entry_document


def _load_mirror() -> ModuleType:
    spec = importlib.util.spec_from_file_location("mirror", ROOT / "scripts" / "mirror.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mirror = _load_mirror()


@pytest.fixture
def target(tmp_path: Path) -> Iterator[tuple[Instance, httpx.Client]]:
    with serve(tmp_path) as instance, instance.client() as client:
        yield instance, client


def by_reference(body: bytes) -> dict[tuple[str, str], dict[str, Any]]:
    documents = (orjson.loads(line) for line in body.splitlines())
    return {
        (d["force"], d["reference"]): {k: v for k, v in d.items() if k not in ("id", "updated_at")}
        for d in documents
    }


def same_log(source: TestClient, copy: httpx.Client) -> bool:
    ours = source.get("/v1/disclosure-log.ndjson").content
    theirs = copy.get("/v1/disclosure-log.ndjson").content
    return by_reference(ours) == by_reference(theirs)


def test_the_mirror_follows_publishes_updates_and_withdrawals(
    client: TestClient,
    session: Session,
    target: tuple[Instance, httpx.Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    instance, copy = target
    monkeypatch.setattr(mirror, "PAGE", 2)  # several pages per catch-up
    key = factories.make_key(session)
    herts = factories.create_request(client, key)
    factories.add_response(client, key, herts["id"])
    entry = factories.publish(client, key, herts["id"])
    for n in range(3):
        publish(session, Spec(force="metropolitan", reference=f"01.FOI.22.0{n}", title=f"T{n}"))

    cursor = mirror.sync(client, copy, instance.key, None)
    assert same_log(client, copy)
    assert len(by_reference(copy.get("/v1/disclosure-log.ndjson").content)) == 4

    review = factories.hertfordshire_response_body(
        kind="internal_review", responded_on="2018-07-20", outcome="partially_disclosed"
    )
    factories.add_response(client, key, herts["id"], **review)
    withdrawn = client.post(
        f"/v1/disclosure-log/{entry['id']}/withdraw",
        json={"reason": "published in error"},
        headers=factories.auth(key),
    )
    assert withdrawn.status_code == 200
    publish(session, Spec(force="metropolitan", reference="01.FOI.22.09", title="Late"))
    assert not same_log(client, copy)

    cursor = mirror.sync(client, copy, instance.key, cursor)
    assert same_log(client, copy)
    gone = copy.get("/v1/forces/hertfordshire/references/FOI2018/02892")
    assert gone.status_code == 410
    assert gone.json()["reason"] == "published in error"
    feed = copy.get("/v1/changes", params={"limit": 100}).json()["items"]
    # The update and the withdrawal both carry the tombstone: the copy is withdrawn once.
    assert [item["change"] for item in feed[-2:]] == ["withdrawn", "published"]
    assert [item["change"] for item in feed].count("withdrawn") == 1

    # Caught up: the same cursor comes back and nothing is applied again.
    assert mirror.sync(client, copy, instance.key, cursor) == cursor
    assert len(copy.get("/v1/changes", params={"limit": 100}).json()["items"]) == len(feed)


def test_a_withdrawal_of_an_entry_never_mirrored_is_skipped(
    client: TestClient, session: Session, target: tuple[Instance, httpx.Client]
) -> None:
    instance, copy = target
    applied = mirror.apply(
        copy,
        instance.key,
        [
            {
                "change": "withdrawn",
                "id": 7,
                "entry": {
                    "id": 7,
                    "status": "withdrawn",
                    "force": "metropolitan",
                    "reference": "01.FOI.22.022487",
                    "reason": "published in error",
                },
            }
        ],
    )
    assert (applied.upserted, applied.withdrawn) == (0, 0)


def test_a_withdrawal_by_a_name_two_entries_share_takes_the_one_it_names(
    client: TestClient, session: Session, target: tuple[Instance, httpx.Client]
) -> None:
    # The target's lookup answers 300 for a reference another entry has as an alias: the
    # mirror stopped there, on every run. It withdraws the entry whose own reference it is.
    instance, copy = target
    own = entry_document(reference="SH/001", aliases=[])
    other = entry_document(reference="SH/002", aliases=["SH/001"])
    published = [{"change": "published", "id": n, "entry": d} for n, d in ((1, own), (2, other))]
    assert mirror.apply(copy, instance.key, published).upserted == 2
    shared = copy.get("/v1/forces/hertfordshire/references/SH/001")
    assert shared.status_code == 300
    ids = {e["reference"]: e["id"] for e in shared.json()["entries"]}
    tombstone = {"status": "withdrawn", "force": "hertfordshire", "reference": "SH/001"}
    gone = [{"change": "withdrawn", "id": 1, "entry": {**tombstone, "reason": "in error"}}]
    assert mirror.apply(copy, instance.key, gone).withdrawn == 1
    assert copy.get(f"/v1/disclosure-log/{ids['SH/001']}").status_code == 410
    assert copy.get(f"/v1/disclosure-log/{ids['SH/002']}").status_code == 200


def test_a_document_the_target_refuses_is_reported_and_the_rest_of_its_page_goes_in(
    client: TestClient, session: Session, target: tuple[Instance, httpx.Client]
) -> None:
    # Data stored before a rule may break it (here two initial responses, initial-unique):
    # refused, its whole page was refused on every run, and the mirror never moved on.
    instance, copy = target
    initial = entry_document()["responses"][0]
    broken = entry_document(reference="OLD/2", aliases=[], responses=[initial, initial])
    documents = [entry_document(reference="OLD/1", aliases=[]), broken]
    documents.append(entry_document(reference="OLD/3", aliases=[]))
    items = [{"change": "published", "id": n, "entry": d} for n, d in enumerate(documents, 1)]
    applied = mirror.apply(copy, instance.key, items)
    assert applied.upserted == 2
    assert len(applied.refused) == 1
    assert applied.refused[0].startswith("hertfordshire OLD/2: ")
    assert "initial response" in applied.refused[0]
    for reference, status in (("OLD/1", 200), ("OLD/2", 404), ("OLD/3", 200)):
        found = copy.get(f"/v1/forces/hertfordshire/references/{reference}")
        assert found.status_code == status, reference
