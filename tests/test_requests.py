from datetime import date, timedelta
from typing import Any

import pytest
from factories import (
    REQUESTER,
    auth,
    create_request,
    hertfordshire_request_body,
    hertfordshire_response_body,
    make_key,
    publish,
)
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import deadlines
from app.foi_requests.service import today
from app.models import Role

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


def rule_of(response: Any) -> tuple[str, list[Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    return body["rule"], body["errors"][0]["loc"]


def test_create_computes_due_date_and_keeps_the_requester(client: TestClient, admin: str) -> None:
    response = client.post("/v1/requests", json=hertfordshire_request_body(), headers=auth(admin))
    assert response.status_code == 201
    body = response.json()
    assert body["due_on"] == "2018-06-26"
    assert body["status"] == "received"
    assert body["overdue"] is True
    assert body["responded_within_deadline"] is None
    assert body["requester"] == REQUESTER
    assert body["topics"] == ["biometrics", "facial-recognition"]
    assert [q["number"] for q in body["questions"]][:3] == ["1", "2", "3"]
    assert response.headers["location"] == f"/v1/requests/{body['id']}"
    assert response.headers["etag"] == f'W/"request-{body["id"]}-v1"'
    assert response.headers["cache-control"] == "no-store"
    again = client.get(f"/v1/requests/{body['id']}", headers=auth(admin))
    assert again.json() == body


def test_a_reference_is_unique_per_force_ignoring_case_and_spaces(
    client: TestClient, admin: str
) -> None:
    first = create_request(client, admin)
    clash = client.post(
        "/v1/requests",
        json=hertfordshire_request_body(reference="foi 2018/02892"),
        headers=auth(admin),
    )
    assert clash.status_code == 409
    assert clash.headers["content-type"] == PROBLEM
    url = f"/v1/requests/{first['id']}"
    assert clash.json()["existing"] == url
    assert clash.headers["link"] == f'<{url}>; rel="existing"'
    # The reference as stored, not as sent, with the link in the detail too.
    assert clash.json()["reference"] == "FOI2018/02892"
    assert f"'FOI2018/02892' ({url})" in clash.json()["detail"]
    other_force = client.post(
        "/v1/requests", json=hertfordshire_request_body(force="kent"), headers=auth(admin)
    )
    assert other_force.status_code == 201


@pytest.mark.parametrize(
    ("changes", "rule", "loc"),
    [
        ({"force": "atlantis"}, "force-unknown", ["body", "force"]),
        (
            {"questions": [{"number": "1", "text": "a"}, {"number": "1", "text": "b"}]},
            "question-number-unique",
            ["body", "questions", 1, "number"],
        ),
        ({"topics": ["!!!"]}, "topic-slug", ["body", "topics", 0]),
    ],
)
def test_create_rules(
    client: TestClient, admin: str, changes: dict[str, Any], rule: str, loc: list[Any]
) -> None:
    response = client.post(
        "/v1/requests", json=hertfordshire_request_body(**changes), headers=auth(admin)
    )
    assert rule_of(response) == (rule, loc)


def test_malformed_bodies_are_422_not_500(client: TestClient, admin: str) -> None:
    for body in (
        hertfordshire_request_body(received_on="29/05/2018"),
        hertfordshire_request_body(unknown_field=1),
        hertfordshire_request_body(title=""),
        hertfordshire_request_body(questions=[{"number": "1", "text": "x"}] * 201),
    ):
        response = client.post("/v1/requests", json=body, headers=auth(admin))
        assert response.status_code == 422
        assert response.json()["errors"]


def patch(
    client: TestClient, key: str, request_id: int, body: dict[str, Any], if_match: str = "*"
) -> Any:
    headers = {**auth(key), "If-Match": if_match}
    return client.patch(f"/v1/requests/{request_id}", json=body, headers=headers)


def test_a_request_is_not_received_in_the_future(client: TestClient, admin: str) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    body = hertfordshire_request_body(received_on=tomorrow)
    created = client.post("/v1/requests", json=body, headers=auth(admin))
    assert rule_of(created) == ("received-date", ["body", "received_on"])
    assert create_request(client, admin, received_on=today().isoformat())["id"]


def test_clarification_restarts_the_clock(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    waiting = patch(client, admin, request["id"], {"status": "awaiting_clarification"})
    assert waiting.json()["status"] == "awaiting_clarification"
    assert waiting.json()["overdue"] is False
    clarified = patch(client, admin, request["id"], {"clarification_received_on": "2018-06-04"})
    assert clarified.status_code == 200
    expected = deadlines.due_on(
        date(2018, 5, 29), "FOIA", clarification_received_on=date(2018, 6, 4)
    )
    assert clarified.json()["due_on"] == expected.isoformat() == "2018-07-02"
    # The clock runs again: the request waits on no one, and is overdue past its new date.
    assert (clarified.json()["status"], clarified.json()["overdue"]) == ("received", True)
    listed = client.get("/v1/requests", params={"overdue": "true"}, headers=auth(admin))
    assert [r["id"] for r in listed.json()["items"]] == [request["id"]]
    early = patch(client, admin, request["id"], {"clarification_received_on": "2018-05-01"})
    assert rule_of(early) == ("clarification-date", ["body", "clarification_received_on"])
    cleared = patch(client, admin, request["id"], {"clarification_received_on": None})
    assert cleared.json()["due_on"] == "2018-06-26"


def test_extension_is_at_most_twenty_more_working_days(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    latest = deadlines.latest_extension(date(2018, 6, 26), "FOIA")
    assert latest is not None
    ok = patch(client, admin, request["id"], {"extended_due_on": latest.isoformat()})
    assert ok.status_code == 200
    assert ok.json()["extended_due_on"] == latest.isoformat()
    too_late = patch(
        client, admin, request["id"], {"extended_due_on": (latest + timedelta(days=1)).isoformat()}
    )
    assert rule_of(too_late) == ("extension-limit", ["body", "extended_due_on"])
    before_due = patch(client, admin, request["id"], {"extended_due_on": "2018-06-20"})
    assert rule_of(before_due)[0] == "extension-limit"


def test_foisa_has_no_extension(client: TestClient, admin: str) -> None:
    request = create_request(client, admin, force="police-scotland", reference="IM-FOI-2021-0942")
    response = patch(client, admin, request["id"], {"extended_due_on": "2018-07-10"})
    assert rule_of(response) == ("extension-not-available", ["body", "extended_due_on"])


def test_patch_honours_if_match(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    tag = f'W/"request-{request["id"]}-v1"'
    first = patch(client, admin, request["id"], {"status": "in_progress"}, if_match=tag)
    assert first.status_code == 200
    assert first.headers["etag"] == f'W/"request-{request["id"]}-v2"'
    stale = client.patch(
        f"/v1/requests/{request['id']}",
        json={"status": "closed"},
        headers={**auth(admin), "If-Match": tag},
    )
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    assert client.get(f"/v1/requests/{request['id']}", headers=auth(admin)).json()["status"] == (
        "in_progress"
    )


def test_patch_changes_text_questions_topics_and_requester(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    response = patch(
        client,
        admin,
        request["id"],
        {
            "text": "New text",
            "questions": [{"number": "1", "text": "Only one"}],
            "topics": ["Live Facial Recognition"],
            "requester": None,
        },
    )
    body = response.json()
    assert body["text"] == "New text"
    assert body["questions"] == [{"number": "1", "text": "Only one"}]
    assert body["topics"] == ["live-facial-recognition"]
    assert body["requester"] is None
    assert body["version"] == 2


def test_removing_a_question_a_response_answers_is_refused(client: TestClient, admin: str) -> None:
    from factories import add_response

    request = create_request(client, admin)
    add_response(client, admin, request["id"])
    response = patch(client, admin, request["id"], {"questions": [{"number": "1", "text": "x"}]})
    assert rule_of(response) == ("question-unknown", ["body", "questions"])
    assert "11" in response.json()["detail"]


def received(days_ago: int) -> str:
    return (today() - timedelta(days=days_ago)).isoformat()


def test_list_filters_overdue_and_due_before(client: TestClient, admin: str) -> None:
    from factories import add_response

    old = create_request(client, admin, reference="OLD", received_on=received(90))
    answered = create_request(client, admin, reference="ANSWERED", received_on=received(90))
    add_response(client, admin, answered["id"], responded_on=received(60))
    fresh = create_request(client, admin, reference="FRESH", received_on=received(0))
    paused = create_request(client, admin, reference="PAUSED", received_on=received(90))
    patch(client, admin, paused["id"], {"status": "awaiting_clarification"})

    def refs(**params: Any) -> list[str]:
        response = client.get("/v1/requests", params=params, headers=auth(admin))
        assert response.status_code == 200, response.text
        return [item["reference"] for item in response.json()["items"]]

    assert refs(overdue="true") == ["OLD"]
    assert set(refs(overdue="false")) == {"ANSWERED", "FRESH", "PAUSED"}
    assert "FRESH" not in refs(due_before=received(-1))
    assert refs(due_before=received(-40)) == refs()
    assert refs(status="awaiting_clarification") == ["PAUSED"]
    assert refs(status=["received", "responded"], overdue="true") == ["OLD"]
    items = client.get("/v1/requests", headers=auth(admin)).json()["items"]
    assert {i["reference"]: i["overdue"] for i in items} == {
        "OLD": True,
        "ANSWERED": False,
        "FRESH": False,
        "PAUSED": False,
    }
    assert all(i["requester"] == REQUESTER for i in items)
    assert [old["id"], fresh["id"]] == [1, 3]


def test_list_pages_each_request_once(client: TestClient, admin: str) -> None:
    for n in range(7):
        create_request(client, admin, reference=f"R{n}", received_on=received(n % 3))
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 3, "count": "true"}
    while True:
        response = client.get("/v1/requests", params=params, headers=auth(admin))
        page = response.json()
        assert page["total"] == 7
        seen += [item["id"] for item in page["items"]]
        if page["next_cursor"] is None:
            assert "link" not in response.headers
            break
        assert 'rel="next"' in response.headers["link"]
        params["cursor"] = page["next_cursor"]
    assert sorted(seen) == list(range(1, 8))
    dues = [client.get(f"/v1/requests/{i}", headers=auth(admin)).json()["due_on"] for i in seen]
    assert dues == sorted(dues)


@pytest.mark.parametrize(
    "params",
    [{"force": "atlantis"}, {"status": "lost"}, {"cursor": "not-a-cursor"}, {"limit": 0}],
)
def test_list_rejects_unknown_values(
    client: TestClient, admin: str, params: dict[str, Any]
) -> None:
    response = client.get("/v1/requests", params=params, headers=auth(admin))
    assert response.status_code in (400, 422)
    assert response.headers["content-type"] == PROBLEM


def test_keys_are_needed(client: TestClient, session: Session, admin: str) -> None:
    from app.keys import service as keys

    for headers in ({}, {"Authorization": "Bearer foilog_wrong"}, {"Authorization": "Basic x"}):
        response = client.get("/v1/requests", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["content-type"] == PROBLEM
    assert client.post("/v1/requests", json=hertfordshire_request_body()).status_code == 401
    keys.revoke(session, "admin-0")
    assert client.get("/v1/requests", headers=auth(admin)).status_code == 401


def test_an_editor_sees_and_writes_only_its_forces(
    client: TestClient, session: Session, admin: str
) -> None:
    editor = make_key(session, Role.EDITOR, ["hertfordshire"])
    met = create_request(client, admin, force="metropolitan", reference="01.FOI.22.022487")
    herts = create_request(client, editor)
    refused = client.post(
        "/v1/requests",
        json=hertfordshire_request_body(force="metropolitan", reference="X"),
        headers=auth(editor),
    )
    assert refused.status_code == 403
    listed = client.get("/v1/requests", headers=auth(editor)).json()["items"]
    assert [item["id"] for item in listed] == [herts["id"]]
    assert (
        client.get(
            "/v1/requests", params={"force": "metropolitan"}, headers=auth(editor)
        ).status_code
        == 403
    )
    # Another force's request is answered as unknown: its existence is private too.
    assert client.get(f"/v1/requests/{met['id']}", headers=auth(editor)).status_code == 403
    assert patch(client, editor, met["id"], {"status": "closed"}).status_code == 403
    assert client.get(f"/v1/requests/{herts['id']}", headers=auth(editor)).status_code == 200
    everything = client.get("/v1/requests", headers=auth(admin)).json()["items"]
    assert len(everything) == 2


def test_a_reference_taken_by_a_concurrent_writer_is_409(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pre-check can miss a request another process commits an instant later; the unique
    index on (force, reference_key) still holds, and the answer is the same 409."""
    from app.errors import Conflict
    from app.foi_requests import service
    from app.foi_requests.schemas import RequestCreate
    from app.keys.schemas import Actor

    actor = Actor.system("test")
    body = RequestCreate.model_validate(hertfordshire_request_body())
    first = service.create_request(session, body, actor=actor)
    real_find = service.find
    calls: list[str] = []

    def find_misses_once(*args: Any) -> Any:
        calls.append("find")
        return None if len(calls) == 1 else real_find(*args)

    monkeypatch.setattr(service, "find", find_misses_once)
    with pytest.raises(Conflict) as caught:
        service.create_request(session, body, actor=actor)
    assert caught.value.extra["existing"] == f"/v1/requests/{first.id}"
    assert calls == ["find", "find"]


@pytest.mark.parametrize("status", ["responded", "under_review"])
def test_a_request_is_answered_only_once_it_has_a_response(
    client: TestClient, admin: str, status: str
) -> None:
    request = create_request(client, admin)
    refused = patch(client, admin, request["id"], {"status": status})
    assert rule_of(refused) == ("status-unanswered", ["body", "status"])
    add_response = client.post(
        f"/v1/requests/{request['id']}/responses",
        json=hertfordshire_response_body(),
        headers=auth(admin),
    )
    assert add_response.status_code == 201, add_response.text
    assert patch(client, admin, request["id"], {"status": status}).json()["status"] == status


def test_an_answered_request_is_not_withdrawn(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    assert patch(client, admin, request["id"], {"status": "withdrawn"}).status_code == 200
    assert patch(client, admin, request["id"], {"status": "in_progress"}).status_code == 200
    client.post(
        f"/v1/requests/{request['id']}/responses",
        json=hertfordshire_response_body(),
        headers=auth(admin),
    )
    answered = patch(client, admin, request["id"], {"status": "withdrawn"})
    assert rule_of(answered) == ("withdrawn-answered", ["body", "status"])
    assert "disclosure-log" not in answered.json()["detail"]
    entry = publish(client, admin, request["id"])
    published = patch(client, admin, request["id"], {"status": "withdrawn"})
    assert rule_of(published) == ("withdrawn-answered", ["body", "status"])
    url = f"/v1/disclosure-log/{entry['id']}/withdraw"
    assert url in published.json()["detail"]
    # The force withdraws the entry, not the request: the request stays answered.
    assert client.post(url, json={"reason": "Published in error"}, headers=auth(admin)).is_success
    stored = client.get(f"/v1/requests/{request['id']}", headers=auth(admin)).json()
    assert (stored["status"], len(stored["responses"])) == ("responded", 1)
