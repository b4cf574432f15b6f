import json
from datetime import timedelta
from importlib.resources import files

from fastapi.testclient import TestClient
from log_factories import publish, withdraw
from sqlmodel import Session

from app.db import utcnow

PROBLEM = "application/problem+json"


def test_every_force_of_the_reference_data_is_served(client: TestClient) -> None:
    expected = json.loads((files("app") / "reference" / "forces.json").read_text("utf-8"))
    response = client.get("/v1/forces")
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 48
    assert {f["id"] for f in items} == {f["id"] for f in expected}
    scotland = next(f for f in items if f["id"] == "police-scotland")
    assert scotland["law"] == "FOISA"
    assert all(f["entry_count"] == 0 for f in items)


def test_a_forces_entry_count_is_its_entries_public_now(
    client: TestClient, session: Session
) -> None:
    """A force's entry_count is its published entries: not one scheduled for later, nor one
    withdrawn (from the tally, which counts both until they are subtracted)."""
    for _ in range(3):
        publish(session, force="kent")
    publish(session, force="essex")
    publish(session, force="kent", published_at=utcnow() + timedelta(days=3))
    withdraw(session, publish(session, force="essex"))
    withdraw(session, publish(session, force="surrey"))  # its only entry
    counts = {f["id"]: f["entry_count"] for f in client.get("/v1/forces").json()["items"]}
    assert (counts["kent"], counts["essex"], sum(counts.values())) == (3, 1, 4)
    assert client.get("/v1/forces/kent").json()["entry_count"] == 3
    assert client.get("/v1/forces/essex").json()["entry_count"] == 1
    for force in ("surrey", "hertfordshire"):
        assert client.get(f"/v1/forces/{force}").json()["entry_count"] == 0


def test_one_force_and_an_unknown_one(client: TestClient) -> None:
    herts = client.get("/v1/forces/hertfordshire")
    assert herts.status_code == 200
    assert herts.json()["name"] == "Hertfordshire Constabulary"
    missing = client.get("/v1/forces/atlantis")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert "atlantis" in missing.json()["detail"]


def test_exemption_catalogue_by_law(client: TestClient) -> None:
    everything = client.get("/v1/exemptions").json()["items"]
    assert len(everything) == 61
    foisa = client.get("/v1/exemptions", params={"law": "FOISA"}).json()["items"]
    assert foisa
    assert all(e["law"] == "FOISA" for e in foisa)
    assert len(foisa) < len(everything)
    s31 = next(e for e in everything if e["id"] == "foia-s31")
    assert s31["ncnd_subsection"] == "31(3)"
    assert s31["kind"] == "qualified"
    assert set(s31) == {"id", "law", "section", "heading", "kind", "test", "ncnd_subsection"}


def test_unknown_law_is_a_400_naming_it(client: TestClient) -> None:
    response = client.get("/v1/exemptions", params={"law": "GDPR"})
    assert response.status_code == 400
    assert "'GDPR'" in response.json()["detail"]


def test_one_exemption_with_counts(client: TestClient) -> None:
    response = client.get("/v1/exemptions/foia-s24")
    assert response.status_code == 200
    body = response.json()
    assert body["heading"] == "National security"
    assert body["entry_count"] == 0
    assert body["entry_count_by_force"] == {}
    assert client.get("/v1/exemptions/foia-s99").status_code == 404


def test_topics_start_empty(client: TestClient) -> None:
    assert client.get("/v1/topics").json() == {"items": []}


def test_topics_count_their_entries_public_now(client: TestClient, session: Session) -> None:
    """A topic lists with its published entries; a topic only a scheduled or a withdrawn
    entry has stays private."""
    publish(session, topics=["Drones", "fleet"])
    publish(session, force="kent", topics=["drones"])
    publish(session, topics=["drones", "embargoed"], published_at=utcnow() + timedelta(days=3))
    withdraw(session, publish(session, topics=["fleet", "retracted"]))
    items = client.get("/v1/topics").json()["items"]
    assert items == [
        {"slug": "drones", "label": "Drones", "entry_count": 2},
        {"slug": "fleet", "label": "Fleet", "entry_count": 1},
    ]
