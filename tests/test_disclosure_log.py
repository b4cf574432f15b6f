"""The public log: filters, single entries, reference lookup, and the user stories."""

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from log_factories import (
    REQUESTER_EMAIL,
    REQUESTER_NAME,
    Cite,
    hertfordshire,
    publish,
    withdraw,
)
from sqlmodel import Session

from app.db import utcnow
from app.models import DisclosureEntry

PROBLEM = "application/problem+json"
LOG = "/v1/disclosure-log"


def ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def log(session: Session) -> dict[str, DisclosureEntry]:
    """A small log over three forces with different outcomes, exemptions, topics and dates."""
    return {
        "herts": hertfordshire(session),
        "met_vehicles": publish(
            session,
            force="metropolitan",
            reference="01.FOI.22.022487",
            aliases=["MPS-22487"],
            title="Vehicle fleet",
            topics=["vehicles"],
            received_on=date(2022, 3, 1),
            published_at=datetime(2022, 4, 1, tzinfo=UTC),
        ),
        "met_withheld": publish(
            session,
            force="metropolitan",
            title="Future publication of crime statistics",
            outcome="refused",
            citations=[Cite("foia-s22", "22(1)")],
            topics=["statistics"],
            received_on=date(2022, 6, 1),
            published_at=datetime(2022, 7, 1, tzinfo=UTC),
        ),
        "scotland": publish(
            session,
            force="police-scotland",
            title="Use of drones",
            outcome="not_held",
            topics=["drones"],
            received_on=date(2021, 1, 5),
            published_at=datetime(2021, 2, 1, tzinfo=UTC),
        ),
        "herts_drones": publish(
            session,
            force="hertfordshire",
            title="Drone deployments",
            outcome="neither_confirm_nor_deny",
            citations=[Cite("foia-s24", "24(2)", True)],
            topics=["drones"],
            received_on=date(2023, 2, 1),
            published_at=datetime(2023, 3, 1, tzinfo=UTC),
        ),
    }


def test_newest_first_by_default_with_documents(
    client: TestClient, log: dict[str, DisclosureEntry]
) -> None:
    response = client.get(LOG)
    body = response.json()
    expected = sorted(log.values(), key=lambda e: e.published_at, reverse=True)
    assert ids(response) == [e.id for e in expected]
    assert body["next_cursor"] is None
    assert "total" not in body
    herts = next(i for i in body["items"] if i["reference"] == "FOI2018/02892")
    assert herts["force"] == "hertfordshire"
    assert herts["exemptions"] == ["foia-s24", "foia-s31"]
    assert herts["topics"] == ["facial-recognition", "biometrics"]
    assert "highlight" not in herts


def test_count_is_given_only_when_asked(client: TestClient, log: dict[str, Any]) -> None:
    body = client.get(LOG, params={"count": "true", "limit": 2}).json()
    assert body["total"] == 5
    assert len(body["items"]) == 2
    assert client.get(LOG, params={"force": "metropolitan", "count": "true"}).json()["total"] == 2


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"force": "metropolitan"}, ["met_withheld", "met_vehicles"]),
        (
            {"force": ["metropolitan", "police-scotland"]},
            ["met_withheld", "met_vehicles", "scotland"],
        ),
        ({"topic": "drones"}, ["herts_drones", "scotland"]),
        ({"topic": ["Facial Recognition", "vehicles"]}, ["met_vehicles", "herts"]),
        ({"outcome": "neither_confirm_nor_deny"}, ["herts_drones", "herts"]),
        ({"outcome": ["refused", "not_held"]}, ["met_withheld", "scotland"]),
        ({"exemption": "foia-s31"}, ["herts"]),
        ({"exemption": ["foia-s31", "foia-s22"]}, ["met_withheld", "herts"]),
        ({"law": "FOISA"}, ["scotland"]),
        ({"law": "foia", "force": "police-scotland"}, []),
        ({"reference": "foi 2018/02892"}, ["herts"]),
        ({"reference": ["mps-22487", "FOI2018/02892"]}, ["met_vehicles", "herts"]),
        (
            {"received_from": "2022-03-01", "received_to": "2022-06-01"},
            ["met_withheld", "met_vehicles"],
        ),
        ({"received_to": "2021-01-04"}, ["herts"]),
        ({"published_from": "2022-07-01"}, ["herts_drones", "met_withheld"]),
        ({"published_to": "2021-02-01"}, ["scotland", "herts"]),
        (
            {"published_to": "9999-12-31", "published_from": "0001-01-01"},
            ["herts_drones", "met_withheld", "met_vehicles", "scotland", "herts"],
        ),
        ({"force": "hertfordshire", "topic": "drones", "exemption": "foia-s24"}, ["herts_drones"]),
    ],
)
def test_filters(
    client: TestClient, log: dict[str, DisclosureEntry], params: dict[str, Any], expected: list[str]
) -> None:
    assert ids(client.get(LOG, params=params)) == [log[name].id for name in expected]


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"force": "atlantis"}, "atlantis"),
        ({"force": ["metropolitan", "gotham"]}, "gotham"),
        ({"topic": "no-such-topic"}, "no-such-topic"),
        ({"outcome": "granted"}, "granted"),
        ({"exemption": "foia-s99"}, "foia-s99"),
        ({"law": "GDPR"}, "GDPR"),
        # No entry's law: its force's is FOIA or FOISA (an answer under the EIR cites them).
        ({"law": "eir"}, "exemption"),
        # Found nothing before: an empty reference is no reference, and says so.
        ({"reference": ""}, "reference is empty"),
        ({"reference": ["FOI2018/02892", " "]}, "reference is empty"),
    ],
)
def test_unknown_filter_values_are_400_naming_them(
    client: TestClient, log: dict[str, Any], params: dict[str, Any], named: str
) -> None:
    response = client.get(LOG, params=params)
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    assert named in response.json()["detail"]


def test_topic_of_unpublished_entries_only_is_unknown(client: TestClient, session: Session) -> None:
    publish(session, topics=["secret-project"], published_at=utcnow() + timedelta(days=3))
    response = client.get(LOG, params={"topic": "secret-project"})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "params",
    [
        {"received_from": "2022-13-01"},
        {"published_to": "yesterday"},
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"sort": "title"},
        {"sort": "relevance"},
        {"cursor": "not-a-cursor"},
        {"cursor": "x" * 600},
        {"count": "perhaps"},
        {"force": ["x"] * 51},
    ],
)
def test_malformed_parameters_are_4xx_problems(
    client: TestClient, log: dict[str, Any], params: dict[str, Any]
) -> None:
    response = client.get(LOG, params=params)
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["detail"]


def test_hidden_entries_are_not_listed(client: TestClient, session: Session) -> None:
    shown = publish(session, title="Shown")
    publish(session, title="Scheduled", published_at=utcnow() + timedelta(hours=1))
    withdraw(session, publish(session, title="Withdrawn"))
    assert ids(client.get(LOG)) == [shown.id]
    assert ids(client.get(LOG, params={"q": "scheduled OR withdrawn"})) == []


def test_one_entry_in_full(client: TestClient, log: dict[str, DisclosureEntry]) -> None:
    entry = log["herts"]
    response = client.get(f"{LOG}/{entry.id}")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == entry.id
    assert body["responses"][0]["citations"][1]["provision"] == "31(3)"
    assert body["request"]["questions"][0]["number"] == "1"


@pytest.mark.parametrize(
    "entry_id", ["999999", "0", "-1", "abc", str(2**31), str(2**63 - 1), str(2**70)]
)
def test_unknown_entry_is_4xx(client: TestClient, entry_id: str) -> None:
    response = client.get(f"{LOG}/{entry_id}")
    assert response.status_code in (404, 422)
    assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("spelling", ["{}.0", "0{}", "+{}", " {}", "{}_0", "\u0661"])
def test_an_id_has_one_spelling(
    client: TestClient, log: dict[str, DisclosureEntry], spelling: str
) -> None:
    """`1.0` or `01` would be entry 1 at a second address, cached and mirrored apart."""
    entry_id = log["herts"].id
    for url in (
        f"{LOG}/{spelling.format(entry_id)}",
        f"/disclosure-log/{spelling.format(entry_id)}",
    ):
        response = client.get(url)
        assert response.status_code in (400, 422), url
        assert "digits" in response.text, url


def test_scheduled_entry_is_404(client: TestClient, session: Session) -> None:
    entry = publish(session, published_at=utcnow() + timedelta(days=1))
    assert client.get(f"{LOG}/{entry.id}").status_code == 404


def test_withdrawn_entry_is_410_with_tombstone(client: TestClient, session: Session) -> None:
    entry = publish(session, reference="FOI/WD/1")
    withdraw(session, entry, "published in error")
    response = client.get(f"{LOG}/{entry.id}")
    assert response.status_code == 410
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == 410
    assert body["id"] == entry.id
    assert body["reason"] == "published in error"
    assert body["withdrawn_at"].startswith(str(utcnow().year))
    assert "responses" not in body
    by_reference = client.get("/v1/forces/metropolitan/references/FOI/WD/1")
    assert by_reference.status_code == 410


@pytest.mark.parametrize(
    "reference", ["FOI2018/02892", "foi2018/02892", "FOI 2018/02892", "FOI2018%2F02892"]
)
def test_reference_lookup_ignores_case_and_spaces(
    client: TestClient, log: dict[str, DisclosureEntry], reference: str
) -> None:
    response = client.get(f"/v1/forces/hertfordshire/references/{reference}")
    assert response.status_code == 200
    assert response.json()["id"] == log["herts"].id
    assert response.headers["etag"]


def test_reference_lookup_by_alias(client: TestClient, log: dict[str, DisclosureEntry]) -> None:
    response = client.get("/v1/forces/metropolitan/references/mps-22487")
    assert response.json()["reference"] == "01.FOI.22.022487"


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/forces/metropolitan/references/FOI2018/02892", 404),
        ("/v1/forces/atlantis/references/FOI2018/02892", 404),
        ("/v1/forces/hertfordshire/references/%20", 404),
        ("/v1/forces/hertfordshire/references/" + "x" * 300, 422),
    ],
)
def test_reference_lookup_misses(
    client: TestClient, log: dict[str, Any], path: str, status: int
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM


def test_requester_never_appears(client: TestClient, log: dict[str, DisclosureEntry]) -> None:
    for response in (
        client.get(LOG),
        client.get(LOG, params={"q": "facial"}),
        client.get(LOG, params={"q": "Marlow"}),
        client.get(f"{LOG}/{log['herts'].id}"),
    ):
        assert REQUESTER_NAME not in response.text
        assert REQUESTER_EMAIL not in response.text
    assert ids(client.get(LOG, params={"q": "Marlow"})) == []


def test_new_user_finds_covert_facial_recognition_answers(
    client: TestClient, log: dict[str, DisclosureEntry], session: Session
) -> None:
    overt = publish(
        session,
        force="hertfordshire",
        title="Facial recognition vans",
        text="Do you use facial recognition vans at football matches?",
    )
    response = client.get(LOG, params={"q": '"facial recognition" -covert'})
    assert ids(response) == [overt.id]
    response = client.get(LOG, params={"q": '"facial recognition" -vans'})
    assert ids(response) == [log["herts"].id]
    assert "<mark>" in response.json()["items"][0]["highlight"]
    both = ids(client.get(LOG, params={"q": '"facial recognition"', "sort": "-published_at"}))
    assert both == [overt.id, log["herts"].id]


def test_new_user_filters_hertfordshire_ncnd_under_section_31(
    client: TestClient, log: dict[str, DisclosureEntry]
) -> None:
    params = {
        "force": "hertfordshire",
        "outcome": "neither_confirm_nor_deny",
        "exemption": "foia-s31",
    }
    response = client.get(LOG, params=params)
    assert ids(response) == [log["herts"].id]
    assert response.json()["items"][0]["title"] == "Facial image database and facial recognition"


def test_new_user_looks_up_foi2018_02892(
    client: TestClient, log: dict[str, DisclosureEntry]
) -> None:
    response = client.get("/v1/forces/hertfordshire/references/FOI2018/02892")
    assert response.status_code == 200
    body = response.json()
    assert body["received_on"] == "2018-05-29"
    assert body["due_on"] == "2018-06-26"
    assert body["outcome"] == "neither_confirm_nor_deny"
