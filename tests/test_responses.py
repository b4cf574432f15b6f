from typing import Any

import pytest
from factories import (
    add_response,
    auth,
    create_request,
    hertfordshire_response_body,
    make_key,
)
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.db import new_session
from app.models import FoiRequest, RequestStatus, Role

NCND_24 = {"exemption": "foia-s24", "provision": "24(2)", "ncnd": True, "questions": ["11"]}


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


@pytest.fixture
def request_id(client: TestClient, admin: str) -> int:
    return int(create_request(client, admin)["id"])


def post(client: TestClient, key: str, request_id: int, **changes: Any) -> Any:
    return client.post(
        f"/v1/requests/{request_id}/responses",
        json=hertfordshire_response_body(**changes),
        headers=auth(key),
    )


def test_a_response_answers_the_request(client: TestClient, admin: str, request_id: int) -> None:
    response = post(client, admin, request_id)
    assert response.status_code == 201
    body = response.json()
    assert body["request_id"] == request_id
    assert [c["provision"] for c in body["citations"]] == ["24(2)", "31(3)"]
    assert body["citations"][0]["public_interest"]["for"]
    assert response.headers["etag"] == f'W/"response-{body["id"]}-v1"'
    assert response.headers["location"] == f"/v1/responses/{body['id']}"
    request = client.get(f"/v1/requests/{request_id}", headers=auth(admin)).json()
    assert request["status"] == "responded"
    assert request["responded_on"] == "2018-06-26"
    assert request["responded_within_deadline"] is True
    assert request["overdue"] is False
    assert request["version"] == 2
    assert [r["id"] for r in request["responses"]] == [body["id"]]


def test_a_late_response_is_not_within_the_deadline(
    client: TestClient, admin: str, request_id: int
) -> None:
    post(client, admin, request_id, responded_on="2018-06-27")
    request = client.get(f"/v1/requests/{request_id}", headers=auth(admin)).json()
    assert request["responded_within_deadline"] is False


def cite(exemption: str, provision: str, ncnd: bool = False) -> dict[str, Any]:
    return {"exemption": exemption, "provision": provision, "ncnd": ncnd, "questions": []}


@pytest.mark.parametrize(
    ("changes", "rule", "loc"),
    [
        (
            {"citations": [cite("foia-s99", "99")]},
            "exemption-unknown",
            ["body", "citations", 0, "exemption"],
        ),
        (
            {"citations": [NCND_24, cite("foisa-s35", "35(1)")]},
            "exemption-law",
            ["body", "citations", 1, "exemption"],
        ),
        (
            {"citations": [NCND_24, cite("foia-s21", "21", ncnd=True)]},
            "ncnd-not-available",
            ["body", "citations", 1, "ncnd"],
        ),
        (
            {"citations": [cite("foia-s24", "24(1)")]},
            "outcome-citations",
            ["body", "citations"],
        ),
        ({"outcome": "refused", "citations": []}, "outcome-citations", ["body", "citations"]),
        (
            {"outcome": "partially_disclosed", "citations": []},
            "outcome-citations",
            ["body", "citations"],
        ),
        ({"outcome": "disclosed_in_full"}, "outcome-citations", ["body", "citations"]),
        ({"responded_on": "2018-05-28"}, "response-date", ["body", "responded_on"]),
        ({"responded_on": "2099-01-01"}, "response-date", ["body", "responded_on"]),
        (
            {"answers": [{"questions": ["11", "99"], "text": "x"}]},
            "question-unknown",
            ["body", "answers", 0, "questions", 1],
        ),
        (
            {"citations": [{**NCND_24, "questions": ["4z"]}]},
            "question-unknown",
            ["body", "citations", 0, "questions", 0],
        ),
    ],
)
def test_consistency_rules(
    client: TestClient,
    admin: str,
    request_id: int,
    changes: dict[str, Any],
    rule: str,
    loc: list[Any],
) -> None:
    response = post(client, admin, request_id, **changes)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["rule"] == rule
    assert body["errors"][0]["loc"] == loc
    request = client.get(f"/v1/requests/{request_id}", headers=auth(admin)).json()
    assert request["responses"] == []
    assert request["status"] == "received"


def test_a_foia_force_may_cite_the_eir(client: TestClient, admin: str, request_id: int) -> None:
    response = post(
        client,
        admin,
        request_id,
        outcome="partially_disclosed",
        citations=[cite("eir-r12-5-b", "12(5)(b)")],
    )
    assert response.status_code == 201


def test_police_scotland_cites_foisa_only(client: TestClient, admin: str) -> None:
    request = create_request(client, admin, force="police-scotland", reference="IM-FOI-2021-0942")
    eir = post(
        client, admin, request["id"], outcome="refused", citations=[cite("eir-r12-5-b", "12(5)(b)")]
    )
    assert eir.json()["rule"] == "exemption-law"
    foia = post(client, admin, request["id"], citations=[NCND_24])
    assert foia.json()["rule"] == "exemption-law"
    foisa = post(
        client,
        admin,
        request["id"],
        citations=[cite("foisa-s18", "18(1)", ncnd=True), cite("foisa-s35", "35(1)(a)", ncnd=True)],
    )
    assert foisa.status_code == 201


def test_outcomes_without_citation_rules(client: TestClient, admin: str) -> None:
    for outcome in ("not_held", "advice_only", "disclosed_in_full"):
        request = create_request(client, admin, reference=f"FOI2018/{outcome}")
        response = post(client, admin, request["id"], outcome=outcome, citations=[])
        assert response.status_code == 201, response.text


def test_a_response_to_a_foreign_request_is_403_and_to_an_unknown_one_404(
    client: TestClient, session: Session, admin: str, request_id: int
) -> None:
    editor = make_key(session, Role.EDITOR, ["kent"])
    assert post(client, editor, request_id).status_code == 403
    assert post(client, admin, 999).status_code == 404


def correct(client: TestClient, key: str, response_id: int, body: dict[str, Any], tag: str) -> Any:
    return client.patch(
        f"/v1/responses/{response_id}", json=body, headers={**auth(key), "If-Match": tag}
    )


def test_correcting_a_response(client: TestClient, admin: str, request_id: int) -> None:
    created = add_response(client, admin, request_id)
    tag = f'W/"response-{created["id"]}-v1"'
    fixed = correct(client, admin, created["id"], {"text": "Corrected", "signatory": None}, tag)
    assert fixed.status_code == 200, fixed.text
    assert fixed.json()["text"] == "Corrected"
    assert fixed.json()["signatory"] is None
    assert fixed.json()["citations"] == created["citations"]
    assert fixed.headers["etag"] == f'W/"response-{created["id"]}-v2"'
    stale = correct(client, admin, created["id"], {"text": "Again"}, tag)
    assert stale.status_code == 412
    broken = correct(client, admin, created["id"], {"citations": []}, "*")
    assert broken.json()["rule"] == "outcome-citations"
    now = client.get(f"/v1/requests/{request_id}", headers=auth(admin)).json()["responses"][0]
    assert now["text"] == "Corrected"
    assert now["version"] == 2
    assert correct(client, admin, 999, {"text": "x"}, "*").status_code == 404


def test_a_response_with_if_match_is_added_only_to_the_request_as_read(
    client: TestClient, admin: str, request_id: int
) -> None:
    # The request's ETag, as GET and PATCH give it: a caller that read an older request (its
    # questions since renumbered, say) is told, not obeyed.
    read = client.get(f"/v1/requests/{request_id}", headers=auth(admin)).headers["etag"]
    changed = client.patch(
        f"/v1/requests/{request_id}", json={"status": "in_progress"}, headers=auth(admin)
    )
    assert changed.status_code == 200, changed.text
    body = hertfordshire_response_body()
    stale = client.post(
        f"/v1/requests/{request_id}/responses",
        json=body,
        headers={**auth(admin), "If-Match": read},
    )
    assert (stale.status_code, stale.headers["content-type"]) == (412, "application/problem+json")
    current = changed.headers["etag"]
    added = client.post(
        f"/v1/requests/{request_id}/responses",
        json=body,
        headers={**auth(admin), "If-Match": current},
    )
    assert added.status_code == 201, added.text
    assert (
        len(client.get(f"/v1/requests/{request_id}", headers=auth(admin)).json()["responses"]) == 1
    )


def refused(answer: Any) -> tuple[str, list[Any]]:
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    return answer.json()["rule"], answer.json()["errors"][0]["loc"]


def test_a_withdrawn_request_takes_no_response(
    client: TestClient, admin: str, request_id: int
) -> None:
    url = f"/v1/requests/{request_id}"
    withdrawn = client.patch(url, json={"status": "withdrawn"}, headers=auth(admin))
    assert withdrawn.status_code == 200, withdrawn.text
    answered = post(client, admin, request_id)
    assert refused(answered) == ("request-withdrawn", ["path", "request_id"])
    assert "FOI2018/02892" in answered.json()["detail"]
    request = client.get(url, headers=auth(admin)).json()
    assert (request["status"], request["responses"]) == ("withdrawn", [])
    # Marked withdrawn in error: reopened, it is answered.
    client.patch(url, json={"status": "in_progress"}, headers=auth(admin))
    assert post(client, admin, request_id).status_code == 201


def test_a_response_to_a_request_marked_withdrawn_is_not_corrected(
    client: TestClient, admin: str, request_id: int
) -> None:
    response = add_response(client, admin, request_id)
    # As a request answered and then marked withdrawn before the rules refused it.
    with new_session(write=True) as session:
        session.get_one(FoiRequest, request_id).status = RequestStatus.WITHDRAWN
        session.commit()
    corrected = client.patch(
        f"/v1/responses/{response['id']}", json={"text": "Corrected"}, headers=auth(admin)
    )
    assert refused(corrected) == ("request-withdrawn", ["path", "response_id"])
    stored = client.get(f"/v1/requests/{request_id}", headers=auth(admin)).json()
    assert stored["responses"][0]["text"] == response["text"]
