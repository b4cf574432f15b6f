"""Details a first-time user meets: the calendar a force names, what a list leaves out, how
question numbers are listed, what a 409 points at, which dates a request takes."""

from datetime import date, timedelta
from typing import Any

import pytest
from factories import add_response, auth, create_request, make_key
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import deadlines
from app.foi_requests.service import question_order, today
from app.models import Role


@pytest.fixture
def admin(session: Session) -> str:
    key = make_key(session)
    session.commit()
    return key


def patch(client: TestClient, key: str, request_id: int, body: dict[str, Any]) -> Any:
    return client.patch(f"/v1/requests/{request_id}", json=body, headers=auth(key))


def test_each_force_names_the_calendar_its_deadlines_skip(client: TestClient) -> None:
    forces = client.get("/v1/forces").json()["items"]
    assert {f["holiday_calendar"] for f in forces} == {"united-kingdom", "scotland"}
    for force in forces:
        assert force["holiday_calendar"] == deadlines.HOLIDAY_CALENDARS[force["law"]], force
    psni = client.get("/v1/forces/northern-ireland").json()
    assert psni["holiday_calendar"] == "united-kingdom"
    # A Scottish-only bank holiday (St Andrew's Day, Friday 30 November 2018) stops an
    # English force's clock: the calendar it names is the whole United Kingdom's.
    assert not deadlines.is_working_day(date(2018, 11, 30), "FOIA")


def test_lists_of_the_write_api_leave_out_what_does_not_apply(
    client: TestClient, admin: str
) -> None:
    create_request(client, admin)
    for url in ("/v1/audit", "/v1/requests"):
        body = client.get(url, headers=auth(admin)).json()
        assert set(body) == {"items", "next_cursor"}, url
        counted = client.get(url, params={"count": "true"}, headers=auth(admin)).json()
        assert set(counted) == {"items", "next_cursor", "total"}, url
        assert counted["total"] == len(counted["items"]) >= 1


def test_question_numbers_are_listed_as_people_number_them(client: TestClient, admin: str) -> None:
    numbers = ["10", "2", "4b", "1", "5d(ii)", "3", "5d(iv)", "4a", "5d(i)", "11", "5d(v)"]
    expected = ["1", "2", "3", "4a", "4b", "5d(i)", "5d(ii)", "5d(iv)", "5d(v)", "10", "11"]
    assert sorted(numbers, key=question_order) == expected
    request = create_request(
        client, admin, questions=[{"number": n, "text": f"Question {n}"} for n in numbers]
    )
    body = {
        "kind": "initial",
        "responded_on": "2018-06-26",
        "outcome": "not_held",
        "answers": [{"questions": ["12"], "text": "No."}],
    }
    refused = client.post(f"/v1/requests/{request['id']}/responses", json=body, headers=auth(admin))
    assert refused.status_code == 422
    assert f"(its questions: {', '.join(expected)})" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("day", "why"),
    [
        ("2018-07-07", "a Saturday"),
        ("2018-07-08", "a Sunday"),
        ("2018-07-12", "Battle of the Boyne, Northern Ireland only"),
        ("2018-08-06", "Summer bank holiday, Scotland only"),
        ("2018-08-27", "Summer bank holiday, England, Wales and Northern Ireland"),
    ],
)
def test_an_extended_due_date_is_a_working_day(
    client: TestClient, admin: str, day: str, why: str
) -> None:
    request = create_request(client, admin)
    refused = patch(client, admin, request["id"], {"extended_due_on": day})
    assert refused.status_code == 422, why
    assert refused.json()["rule"] == "extension-working-day"
    assert refused.json()["errors"][0]["loc"] == ["body", "extended_due_on"]
    working = patch(client, admin, request["id"], {"extended_due_on": "2018-07-09"})
    assert working.status_code == 200


def test_clarification_cannot_be_received_in_the_future(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    refused = patch(client, admin, request["id"], {"clarification_received_on": tomorrow})
    assert refused.status_code == 422
    assert refused.json()["rule"] == "clarification-date"
    assert refused.json()["errors"][0]["loc"] == ["body", "clarification_received_on"]
    assert patch(client, admin, request["id"], {"clarification_received_on": today().isoformat()})


def test_a_403_on_a_read_does_not_speak_of_writing(
    client: TestClient, session: Session, admin: str
) -> None:
    editor = make_key(session, Role.EDITOR, ["hertfordshire"])
    session.commit()
    refused = client.get("/v1/requests", params={"force": "metropolitan"}, headers=auth(editor))
    assert refused.status_code == 403
    assert "write" not in refused.json()["detail"]
    assert "metropolitan" in refused.json()["detail"]
    audit = client.get("/v1/audit", headers=auth(editor))
    assert audit.status_code == 403
    assert "write" not in audit.json()["detail"]


def test_a_response_date_out_of_range_is_422(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    add_response(client, admin, request["id"])
    for value in ("9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "1999-12-31T23:00Z"):
        published = client.post(
            "/v1/disclosure-log",
            json={"request_id": request["id"], "publish_at": value},
            headers=auth(admin),
        )
        assert published.status_code == 422, value
        assert published.json()["errors"][0]["loc"] == ["body", "publish_at"]
