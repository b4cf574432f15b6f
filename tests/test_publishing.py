from datetime import UTC, datetime, timedelta

import pytest
from factories import (
    REQUESTER,
    add_response,
    auth,
    change_feed,
    create_request,
    hertfordshire_request_body,
    hertfordshire_response_body,
    make_key,
    publish,
    published,
    stored_document,
    stored_entry,
    visible_entry_ids,
)
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import new_session
from app.models import FoiRequest, RequestStatus, Role

PROBLEM = "application/problem+json"


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


def test_the_hertfordshire_story(client: TestClient, session: Session, admin: str) -> None:
    """A new FOI team's first day: record the request, answer it, publish it."""
    request = create_request(client, admin)
    assert request["due_on"] == "2018-06-26"
    add_response(client, admin, request["id"])
    response = client.post(
        "/v1/disclosure-log", json={"request_id": request["id"]}, headers=auth(admin)
    )
    assert response.status_code == 201
    entry = response.json()
    assert response.headers["location"] == f"/v1/disclosure-log/{entry['id']}"
    public = client.get(f"/v1/disclosure-log/{entry['id']}")
    assert public.json() == entry
    assert response.headers["etag"] == public.headers["etag"]
    assert entry == stored_document(entry["id"])
    assert entry["due_on"] == "2018-06-26"
    assert entry["responded_on"] == "2018-06-26"
    assert entry["responded_within_deadline"] is True
    assert entry["outcome"] == "neither_confirm_nor_deny"
    assert entry["exemptions"] == ["foia-s24", "foia-s31"]
    assert entry["status"] == "published"
    assert [(c["provision"], c["ncnd"]) for c in entry["responses"][0]["citations"]] == [
        ("24(2)", True),
        ("31(3)", True),
    ]
    assert entry["responses"][0]["citations"][0]["public_interest"]["balance"]
    raw = stored_entry(entry["id"])
    for secret in (*REQUESTER.values(), "requester", "journalist"):
        assert secret.lower() not in public.text.lower()
        assert secret.lower() not in raw.document.lower()
        assert secret.lower() not in raw.search_text.lower()
    assert visible_entry_ids() == [entry["id"]]
    assert change_feed() == [(entry["id"], "published")]
    listed = client.get(f"/v1/requests/{request['id']}", headers=auth(admin)).json()
    assert listed["entry_id"] == entry["id"]


def test_publish_rules(client: TestClient, session: Session, admin: str) -> None:
    request = create_request(client, admin)
    unanswered = client.post(
        "/v1/disclosure-log", json={"request_id": request["id"]}, headers=auth(admin)
    )
    assert unanswered.status_code == 422
    assert unanswered.json()["rule"] == "publish-unanswered"
    add_response(client, admin, request["id"])
    entry = publish(client, admin, request["id"], title="Facial recognition", topics=["CCTV"])
    assert entry["title"] == "Facial recognition"
    assert entry["topics"] == ["cctv"]
    again = client.post(
        "/v1/disclosure-log", json={"request_id": request["id"]}, headers=auth(admin)
    )
    assert again.status_code == 409
    assert again.json()["existing"] == f"/v1/disclosure-log/{entry['id']}"
    assert (
        client.post("/v1/disclosure-log", json={"request_id": 999}, headers=auth(admin)).status_code
        == 404
    )
    naive = client.post(
        "/v1/disclosure-log",
        json={"request_id": request["id"], "publish_at": "2030-01-01T09:00:00"},
        headers=auth(admin),
    )
    assert naive.status_code == 422


def test_a_withdrawn_request_is_not_published(client: TestClient, admin: str) -> None:
    unanswered = create_request(client, admin)
    url = f"/v1/requests/{unanswered['id']}"
    client.patch(url, json={"status": "withdrawn"}, headers=auth(admin))
    # As a request answered and then marked withdrawn before the rules refused it.
    answered = create_request(client, admin, reference="FOI2018/02893")
    add_response(client, admin, answered["id"])
    with new_session(write=True) as session:
        session.get_one(FoiRequest, answered["id"]).status = RequestStatus.WITHDRAWN
        session.commit()
    for request in (unanswered, answered):
        refused = client.post(
            "/v1/disclosure-log", json={"request_id": request["id"]}, headers=auth(admin)
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["rule"] == "request-withdrawn"
        assert refused.json()["errors"][0]["loc"] == ["body", "request_id"]
    assert visible_entry_ids() == []
    assert change_feed() == []


@pytest.mark.parametrize(
    ("publish_at", "status"),
    [
        ("2001-01-01T09:00:00Z", 422),  # before the request was received
        ("2018-06-25T12:00:00Z", 422),  # the day before its response of 2018-06-26
        ("2018-06-25T22:59:59Z", 422),
        ("2018-06-25T23:00:00Z", 201),  # midnight of the 26th in the UK, in summer time
        ("2018-06-26T09:00:00Z", 201),
    ],
)
def test_an_entry_is_not_published_before_its_response(
    client: TestClient, admin: str, publish_at: str, status: int
) -> None:
    request = create_request(client, admin)
    add_response(client, admin, request["id"])
    published = client.post(
        "/v1/disclosure-log",
        json={"request_id": request["id"], "publish_at": publish_at},
        headers=auth(admin),
    )
    assert published.status_code == status, published.text
    if status == 422:
        assert published.json()["rule"] == "publish-before-response"
        assert published.json()["errors"][0]["loc"] == ["body", "publish_at"]


def test_a_scheduled_entry_stays_hidden(client: TestClient, session: Session, admin: str) -> None:
    request = create_request(client, admin)
    add_response(client, admin, request["id"])
    when = datetime.now(UTC) + timedelta(days=3)
    entry = publish(client, admin, request["id"], publish_at=when.isoformat())
    assert entry["status"] == "scheduled"
    assert datetime.fromisoformat(entry["published_at"]) == when.replace(
        microsecond=when.microsecond
    )
    assert stored_entry(entry["id"]).announced_at is None
    assert visible_entry_ids() == []
    assert change_feed() == []


def test_publishing_is_scoped(client: TestClient, session: Session, admin: str) -> None:
    request = create_request(client, admin)
    add_response(client, admin, request["id"])
    outsider = make_key(session, Role.EDITOR, ["kent"])
    insider = make_key(session, Role.EDITOR, ["hertfordshire"])
    refused = client.post(
        "/v1/disclosure-log", json={"request_id": request["id"]}, headers=auth(outsider)
    )
    assert refused.status_code == 403
    assert client.post("/v1/disclosure-log", json={"request_id": request["id"]}).status_code == 401
    entry = publish(client, insider, request["id"])
    url = f"/v1/disclosure-log/{entry['id']}"
    assert client.patch(url, json={"title": "x"}, headers=auth(outsider)).status_code == 403
    withdraw = client.post(f"{url}/withdraw", json={"reason": "x"}, headers=auth(outsider))
    assert withdraw.status_code == 403
    assert stored_entry(entry["id"]).withdrawn_at is None


def test_an_internal_review_updates_the_entry(
    client: TestClient, session: Session, admin: str
) -> None:
    request, entry = published(client, admin)
    review = hertfordshire_response_body(
        kind="internal_review",
        responded_on="2018-08-01",
        outcome="partially_disclosed",
        citations=[{"exemption": "foia-s31", "provision": "31(1)(a)", "questions": ["12"]}],
    )
    response = client.post(
        f"/v1/requests/{request['id']}/responses", json=review, headers=auth(admin)
    )
    assert response.status_code == 201
    now = stored_document(entry["id"])
    assert now["outcome"] == "partially_disclosed"
    assert now["responded_on"] == "2018-06-26"
    assert now["responded_within_deadline"] is True
    assert [r["kind"] for r in now["responses"]] == ["initial", "internal_review"]
    assert now["updated_at"] > entry["updated_at"]
    assert stored_entry(entry["id"]).version == 2
    assert change_feed() == [(entry["id"], "published"), (entry["id"], "updated")]


def test_corrections_to_the_request_or_response_reach_the_entry(
    client: TestClient, session: Session, admin: str
) -> None:
    request = create_request(client, admin)
    response = add_response(client, admin, request["id"])
    entry = publish(client, admin, request["id"])
    patched = client.patch(
        f"/v1/requests/{request['id']}",
        json={"text": "Revised request text", "title": "Facial recognition", "topics": ["cctv"]},
        headers=auth(admin),
    )
    assert patched.status_code == 200
    now = stored_document(entry["id"])
    assert now["request"]["text"] == "Revised request text"
    assert now["title"] == "Facial recognition"
    assert now["topics"] == ["cctv"]
    fixed = client.patch(
        f"/v1/responses/{response['id']}", json={"text": "Corrected answer"}, headers=auth(admin)
    )
    assert fixed.status_code == 200
    assert stored_document(entry["id"])["responses"][0]["text"] == "Corrected answer"
    assert [kind for _, kind in change_feed()] == ["published", "updated", "updated"]


def test_patching_an_entry(client: TestClient, session: Session, admin: str) -> None:
    request, entry = published(client, admin)
    url = f"/v1/disclosure-log/{entry['id']}"
    tag = client.get(url).headers["etag"]
    changed = client.patch(
        url,
        json={"title": "Facial recognition technology", "topics": ["Live facial recognition"]},
        headers={**auth(admin), "If-Match": tag},
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] not in (tag, None)
    assert changed.headers["etag"] == client.get(url).headers["etag"]
    assert changed.json()["title"] == "Facial recognition technology"
    assert changed.json()["topics"] == ["live-facial-recognition"]
    assert changed.json() == stored_document(entry["id"])
    stale = client.patch(url, json={"title": "Other"}, headers={**auth(admin), "If-Match": tag})
    assert stale.status_code == 412
    assert stale.headers["content-type"] == PROBLEM
    request_now = client.get(f"/v1/requests/{request['id']}", headers=auth(admin)).json()
    assert request_now["title"] == hertfordshire_request_body()["title"]


def test_withdrawing_an_entry(client: TestClient, session: Session, admin: str) -> None:
    request, entry = published(client, admin)
    url = f"/v1/disclosure-log/{entry['id']}"
    assert (
        client.post(f"{url}/withdraw", json={"reason": ""}, headers=auth(admin)).status_code == 422
    )
    withdrawn = client.post(
        f"{url}/withdraw", json={"reason": "Published in error"}, headers=auth(admin)
    )
    assert withdrawn.status_code == 200
    tombstone = withdrawn.json()
    assert tombstone["id"] == entry["id"]
    assert tombstone["status"] == "withdrawn"
    assert tombstone["reason"] == "Published in error"
    assert tombstone["withdrawn_at"]
    assert visible_entry_ids() == []
    assert change_feed() == [(entry["id"], "published"), (entry["id"], "withdrawn")]
    assert stored_entry(entry["id"]).version == 2
    for again in (
        client.post(f"{url}/withdraw", json={"reason": "again"}, headers=auth(admin)),
        client.patch(url, json={"title": "x"}, headers=auth(admin)),
    ):
        assert again.status_code == 410
        assert again.json()["tombstone"]["reason"] == "Published in error"
    # A later change to the request leaves the tombstone as it is.
    client.patch(f"/v1/requests/{request['id']}", json={"text": "later"}, headers=auth(admin))
    assert stored_document(entry["id"])["request"]["text"] != "later"
    assert len(change_feed()) == 2


def test_withdrawing_a_scheduled_entry_announces_nothing(
    client: TestClient, session: Session, admin: str
) -> None:
    request = create_request(client, admin)
    add_response(client, admin, request["id"])
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    entry = publish(client, admin, request["id"], publish_at=later)
    response = client.post(
        f"/v1/disclosure-log/{entry['id']}/withdraw",
        json={"reason": "Too early"},
        headers=auth(admin),
    )
    assert response.status_code == 200
    assert change_feed() == []


def test_only_public_changes_to_a_request_update_its_entry(
    client: TestClient, session: Session, admin: str
) -> None:
    request, entry = published(client, admin)
    url = f"/v1/requests/{request['id']}"
    closed = client.patch(url, json={"status": "closed", "requester": None}, headers=auth(admin))
    assert closed.status_code == 200
    assert stored_entry(entry["id"]).version == 1
    assert change_feed() == [(entry["id"], "published")]


def test_an_empty_patch_changes_nothing(client: TestClient, session: Session, admin: str) -> None:
    request, entry = published(client, admin)
    stored = client.get(f"/v1/requests/{request['id']}", headers=auth(admin)).json()
    audited = len(client.get("/v1/audit", headers=auth(admin)).json()["items"])
    for url, body in (
        (f"/v1/requests/{request['id']}", {}),
        (f"/v1/responses/{stored['responses'][0]['id']}", {}),
        (f"/v1/disclosure-log/{entry['id']}", {"acknowledge_privacy_warning": True}),
    ):
        first = client.patch(url, json=body, headers=auth(admin))
        assert first.status_code == 200, url
        tag = first.headers["etag"]
        again = client.patch(url, json=body, headers={**auth(admin), "If-Match": tag})
        assert (again.status_code, again.headers["etag"]) == (200, tag), url
        stale = client.patch(url, json=body, headers={**auth(admin), "If-Match": '"stale"'})
        assert stale.status_code == 412, url
    after = client.get(f"/v1/requests/{request['id']}", headers=auth(admin)).json()
    assert after["version"] == stored["version"]
    assert after["responses"][0]["version"] == stored["responses"][0]["version"]
    assert stored_entry(entry["id"]).version == 1
    assert change_feed() == [(entry["id"], "published")]
    assert len(client.get("/v1/audit", headers=auth(admin)).json()["items"]) == audited


def test_a_request_title_the_entry_follows_is_privacy_checked(
    client: TestClient, session: Session, admin: str
) -> None:
    request, entry = published(client, admin)
    url = f"/v1/requests/{request['id']}"
    refused = client.patch(url, json={"title": "Jane Marlow asks"}, headers=auth(admin))
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"] == ["title"]
    assert stored_document(entry["id"])["title"] == entry["title"]
