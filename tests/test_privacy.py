from typing import Any

import pytest
from factories import (
    REQUESTER,
    add_response,
    auth,
    create_request,
    hertfordshire_response_body,
    make_key,
    stored_document,
    stored_entry,
)
from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlmodel import Session, col, select

from app.db import new_session
from app.entries.schemas import EntryDocument, Tombstone
from app.foi_requests.schemas import RequestInternal, RequestSummary
from app.models import AuditEvent

PRIVATE_FIELDS = {"requester", "requester_name", "requester_email", "requester_address"}


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


def acknowledged(action: str) -> list[object]:
    """What each audit event of `action`, oldest first, records as published despite the
    warning (a refused write records no event)."""
    with new_session() as session:
        events = session.exec(
            select(AuditEvent).where(col(AuditEvent.action) == action).order_by(col(AuditEvent.id))
        ).all()
    return [(event.after or {}).get("privacy_warning_acknowledged") for event in events]


def fields(model: type[BaseModel]) -> set[str]:
    names = set(model.model_fields)
    for field in model.model_fields.values():
        annotation = field.annotation
        for inner in getattr(annotation, "__args__", (annotation,)):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                names |= fields(inner)
    return names


def test_only_internal_schemas_carry_the_requester() -> None:
    for public in (EntryDocument, Tombstone):
        assert not fields(public) & PRIVATE_FIELDS
    for internal in (RequestInternal, RequestSummary):
        assert "requester" in fields(internal)


def publish_call(client: TestClient, key: str, request_id: int, **body: Any) -> Any:
    return client.post(
        "/v1/disclosure-log", json={"request_id": request_id, **body}, headers=auth(key)
    )


def test_publishing_text_that_names_the_requester_is_refused(
    client: TestClient, admin: str
) -> None:
    request = create_request(
        client,
        admin,
        text="Dear Sir, I am JANE   marlow, writing about facial recognition.",
        questions=[
            {"number": "1", "text": "Is there a database?"},
            {"number": "2", "text": "Reply to Jane.Marlow@Example.org please"},
        ],
    )
    add_response(
        client,
        admin,
        request["id"],
        citations=[],
        outcome="not_held",
        answers=[{"questions": ["1"], "text": "Dear Ms Jane Marlow, no information is held."}],
    )
    refused = publish_call(client, admin, request["id"], title="For jane marlow")
    assert refused.status_code == 422
    body = refused.json()
    assert body["rule"] == "privacy-requester-named"
    assert [error["loc"] for error in body["errors"]] == [
        ["title"],
        ["request", "text"],
        ["request", "questions", 1, "text"],
        ["responses", 0, "answers", 0, "text"],
    ]
    assert "request.questions.1.text" in body["detail"]
    assert (
        client.get(f"/v1/requests/{request['id']}", headers=auth(admin)).json()["entry_id"] is None
    )


def test_an_acknowledged_warning_publishes_and_is_audited(client: TestClient, admin: str) -> None:
    request = create_request(client, admin, text="From Jane Marlow")
    add_response(client, admin, request["id"])
    response = publish_call(client, admin, request["id"], acknowledge_privacy_warning=True)
    assert response.status_code == 201
    assert acknowledged("entry.publish") == [[["request", "text"]]]


def test_names_match_whole_words_only(client: TestClient, admin: str) -> None:
    request = create_request(
        client,
        admin,
        requester={"name": "Ann Lee", "email": None},
        text="The annual report by Ann Leeson; planned leeway.",
    )
    add_response(client, admin, request["id"])
    assert publish_call(client, admin, request["id"]).status_code == 201


def test_text_added_after_publishing_is_checked_too(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    response = add_response(client, admin, request["id"])
    entry = publish_call(client, admin, request["id"]).json()
    review = hertfordshire_response_body(
        kind="internal_review", text=f"Review for {REQUESTER['email']}"
    )
    url = f"/v1/requests/{request['id']}/responses"
    refused = client.post(url, json=review, headers=auth(admin))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["responses", 1, "text"]
    # Each refusal says how this write acknowledges the warning: here in the query, as the
    # body is the response; an entry's own change takes it in its body.
    assert "send ?acknowledge_privacy_warning=true" in refused.json()["detail"]
    assert len(stored_document(entry["id"])["responses"]) == 1
    renamed = client.patch(
        f"/v1/disclosure-log/{entry['id']}",
        json={"title": "Jane Marlow's request"},
        headers=auth(admin),
    )
    assert renamed.json()["rule"] == "privacy-requester-named"
    assert '"acknowledge_privacy_warning": true in the body' in renamed.json()["detail"]
    patched = client.patch(
        f"/v1/requests/{request['id']}", json={"text": "jane marlow asks"}, headers=auth(admin)
    )
    assert patched.json()["errors"][0]["loc"] == ["request", "text"]
    assert "send ?acknowledge_privacy_warning=true" in patched.json()["detail"]
    corrected = client.patch(
        f"/v1/responses/{response['id']}", json={"text": "Jane Marlow"}, headers=auth(admin)
    )
    assert corrected.status_code == 422
    assert "send ?acknowledge_privacy_warning=true" in corrected.json()["detail"]
    accepted = client.post(
        url, params={"acknowledge_privacy_warning": "true"}, json=review, headers=auth(admin)
    )
    assert accepted.status_code == 201
    assert stored_entry(entry["id"]).version == 2


def test_a_requester_set_on_a_published_request_is_looked_for_in_the_entry(
    client: TestClient, admin: str
) -> None:
    request = create_request(
        client, admin, requester=None, text="A letter from Alan Smithwick about ocelots."
    )
    add_response(client, admin, request["id"])
    entry = publish_call(client, admin, request["id"]).json()
    url = f"/v1/requests/{request['id']}"
    named = {"requester": {"name": "Alan Smithwick", "email": "as@example.com"}}
    refused = client.patch(url, json=named, headers=auth(admin))
    assert refused.status_code == 422
    assert refused.json()["rule"] == "privacy-requester-named"
    assert [error["loc"] for error in refused.json()["errors"]] == [["request", "text"]]
    stored = client.get(url, headers=auth(admin)).json()
    assert stored["requester"] is None
    other = {"requester": {"name": "Beatrix Kiddo", "email": "bk@example.com"}}
    assert client.patch(url, json=other, headers=auth(admin)).status_code == 200
    accepted = client.patch(
        url,
        params={"acknowledge_privacy_warning": "true"},
        json=named,
        headers=auth(admin),
    )
    assert accepted.status_code == 200
    # The requester is not in the entry: the entry is not rewritten, nothing is announced.
    assert stored_entry(entry["id"]).version == 1
    assert acknowledged("request.update")[-1] == [["request", "text"]]


def test_a_withdrawal_reason_naming_the_requester_is_refused(
    client: TestClient, admin: str
) -> None:
    request = create_request(client, admin)
    add_response(client, admin, request["id"])
    entry = publish_call(client, admin, request["id"]).json()
    url = f"/v1/disclosure-log/{entry['id']}/withdraw"
    reason = f"Published in error: it names {REQUESTER['name']} ({REQUESTER['email']})"
    refused = client.post(url, json={"reason": reason}, headers=auth(admin))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["body", "reason"]
    assert client.get(f"/v1/disclosure-log/{entry['id']}").status_code == 200
    withdrawn = client.post(
        url, json={"reason": reason, "acknowledge_privacy_warning": True}, headers=auth(admin)
    )
    assert withdrawn.status_code == 200
    assert client.get(f"/v1/disclosure-log/{entry['id']}").status_code == 410
    assert acknowledged("entry.withdraw") == [[["reason"]]]


def test_a_requester_set_after_withdrawal_is_looked_for_in_the_reason(
    client: TestClient, admin: str
) -> None:
    request = create_request(client, admin, requester=None)
    add_response(client, admin, request["id"])
    entry = publish_call(client, admin, request["id"]).json()
    reason = "Withdrawn at the request of Alan Smithwick"
    withdrawn = client.post(
        f"/v1/disclosure-log/{entry['id']}/withdraw", json={"reason": reason}, headers=auth(admin)
    )
    assert withdrawn.status_code == 200
    url = f"/v1/requests/{request['id']}"
    named = {"requester": {"name": "Alan Smithwick", "email": "as@example.com"}}
    refused = client.patch(url, json=named, headers=auth(admin))
    assert refused.status_code == 422
    assert refused.json()["rule"] == "privacy-requester-named"
    assert [error["loc"] for error in refused.json()["errors"]] == [["withdrawal_reason"]]
    assert client.get(url, headers=auth(admin)).json()["requester"] is None
    other = {"requester": {"name": "Beatrix Kiddo", "email": "bk@example.com"}}
    assert client.patch(url, json=other, headers=auth(admin)).status_code == 200
    accepted = client.patch(
        url, params={"acknowledge_privacy_warning": "true"}, json=named, headers=auth(admin)
    )
    assert accepted.status_code == 200
    assert client.get(f"/v1/disclosure-log/{entry['id']}").status_code == 410
    assert acknowledged("request.update")[-1] == [["withdrawal_reason"]]


def test_an_unpublished_request_may_name_its_requester(client: TestClient, admin: str) -> None:
    request = create_request(client, admin)
    response = client.patch(
        f"/v1/requests/{request['id']}", json={"text": "From Jane Marlow"}, headers=auth(admin)
    )
    assert response.status_code == 200
