from typing import Any

import orjson
import pytest
from factories import (
    REQUESTER,
    add_response,
    auth,
    create_request,
    hertfordshire_request_body,
    hertfordshire_response_body,
    make_key,
    publish,
)
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Role

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


def events(client: TestClient, secret: str, **params: Any) -> list[dict[str, Any]]:
    response = client.get("/v1/audit", params={"limit": 100, **params}, headers=auth(secret))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_every_write_is_audited(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    client.patch(
        f"/v1/requests/{request['id']}", json={"status": "in_progress"}, headers=auth(admin)
    )
    response = add_response(client, admin, request["id"])
    client.patch(f"/v1/responses/{response['id']}", json={"text": "Fixed"}, headers=auth(admin))
    entry = publish(client, admin, request["id"])
    url = f"/v1/disclosure-log/{entry['id']}"
    client.patch(url, json={"title": "New title"}, headers=auth(admin))
    client.post(f"{url}/withdraw", json={"reason": "Error"}, headers=auth(admin))
    answer = hertfordshire_response_body(responded_on="2020-01-20")
    line = orjson.dumps(
        {
            "force": "kent",
            "reference": "K1",
            "title": "t",
            "received_on": "2020-01-02",
            "request": {"text": "t", "questions": hertfordshire_request_body()["questions"]},
            "responses": [answer],
        }
    )
    client.post("/v1/import", content=line, headers=auth(admin))
    found = events(client, admin)
    assert [(e["action"], e["entity_type"]) for e in reversed(found)] == [
        ("key.create", "key"),
        ("request.create", "request"),
        ("request.update", "request"),
        ("response.create", "response"),
        ("response.update", "response"),
        ("entry.publish", "entry"),
        ("entry.update", "entry"),
        ("entry.withdraw", "entry"),
        ("import", "import"),
    ]
    assert all(e["key_name"] == "admin-0" and e["key_id"] == 1 for e in found[:-1])
    by_action = {e["action"]: e for e in found}
    update = by_action["request.update"]
    assert update["entity_id"] == str(request["id"])
    assert update["before"]["status"] == "received"
    assert update["after"]["status"] == "in_progress"
    # The audit log is admin-only, so it keeps the requester.
    assert by_action["request.create"]["after"]["requester"] == REQUESTER
    assert by_action["response.update"]["before"]["text"] != "Fixed"
    assert by_action["response.update"]["after"]["text"] == "Fixed"
    assert by_action["entry.update"]["after"]["title"] == "New title"
    assert by_action["entry.withdraw"]["after"]["withdrawal_reason"] == "Error"
    assert by_action["import"]["after"] == {"created": 1, "updated": 0, "unchanged": 0}


def test_a_refused_write_leaves_no_audit_row(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    bad = hertfordshire_response_body(outcome="refused", citations=[])
    response = client.post(f"/v1/requests/{request['id']}/responses", json=bad, headers=auth(admin))
    assert response.status_code == 422
    assert [e["action"] for e in events(client, admin)] == ["request.create", "key.create"]


def test_the_audit_log_is_for_admins(client: TestClient, session: Session, admin: str) -> None:
    editor = make_key(session, Role.EDITOR, ["hertfordshire"])
    forbidden = client.get("/v1/audit", headers=auth(editor))
    assert forbidden.status_code == 403
    assert forbidden.headers["content-type"] == PROBLEM
    anonymous = client.get("/v1/audit")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


def test_audit_pages_and_filters(client: TestClient, admin: str) -> None:
    for n in range(5):
        create_request(client, admin, reference=f"A{n}")
    seen: list[int] = []
    params: dict[str, Any] = {"limit": 2, "count": "true"}
    while True:
        page = client.get("/v1/audit", params=params, headers=auth(admin)).json()
        assert page["total"] == 6
        seen += [e["id"] for e in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert seen == [6, 5, 4, 3, 2, 1]
    only = events(client, admin, action="request.create", entity_id="3")
    assert [(e["action"], e["entity_id"]) for e in only] == [("request.create", "3")]
    assert events(client, admin, key="nobody") == []
    assert len(events(client, admin, entity_type="request")) == 5
    bad = client.get("/v1/audit", params={"cursor": "garbage"}, headers=auth(admin))
    assert bad.status_code == 400
    assert bad.headers["content-type"] == PROBLEM
