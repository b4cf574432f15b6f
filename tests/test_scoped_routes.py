"""Every route a key's forces scope answers another force's object 403 (SPEC §3), naming the
object and not its force, and a missing one 404."""

from collections.abc import Callable
from typing import Any

import pytest
from factories import (
    add_response,
    auth,
    create_request,
    hertfordshire_response_body,
    make_key,
    publish,
)
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.models import Role

MISSING = 999_999
LOG = "/v1/disclosure-log"

Call = Callable[[TestClient, dict[str, str], int], Any]
ROUTES: dict[str, tuple[str, Call]] = {
    "GET /v1/requests/{id}": ("request", lambda c, h, i: c.get(f"/v1/requests/{i}", headers=h)),
    "PATCH /v1/requests/{id}": (
        "request",
        lambda c, h, i: c.patch(f"/v1/requests/{i}", json={"status": "closed"}, headers=h),
    ),
    "POST /v1/requests/{id}/responses": (
        "request",
        lambda c, h, i: c.post(
            f"/v1/requests/{i}/responses", json=hertfordshire_response_body(), headers=h
        ),
    ),
    "PATCH /v1/responses/{id}": (
        "response",
        lambda c, h, i: c.patch(f"/v1/responses/{i}", json={"text": "x"}, headers=h),
    ),
    "POST /v1/disclosure-log": (
        "unpublished",
        lambda c, h, i: c.post("/v1/disclosure-log", json={"request_id": i}, headers=h),
    ),
    "PATCH /v1/disclosure-log/{id}": (
        "entry",
        lambda c, h, i: c.patch(f"/v1/disclosure-log/{i}", json={"title": "x"}, headers=h),
    ),
    "POST /v1/disclosure-log/{id}/withdraw": (
        "entry",
        lambda c, h, i: c.post(f"/v1/disclosure-log/{i}/withdraw", json={"reason": "x"}, headers=h),
    ),
    "POST /v1/responses/{id}/attachments": (
        "response",
        lambda c, h, i: c.post(
            f"/v1/responses/{i}/attachments",
            files={"file": ("b.txt", b"Another annex.", "text/plain")},
            headers=h,
        ),
    ),
    "DELETE /v1/attachments/{id}": (
        "attachment",
        lambda c, h, i: c.delete(f"/v1/attachments/{i}", headers=h),
    ),
    "PATCH /v1/disclosure-log/{id} (withdrawn)": (
        "withdrawn",
        lambda c, h, i: c.patch(f"/v1/disclosure-log/{i}", json={"title": "x"}, headers=h),
    ),
}


@pytest.mark.parametrize("route", list(ROUTES))
def test_not_yours_is_403_and_not_there_404(
    client: TestClient, session: Session, route: str
) -> None:
    admin = make_key(session)
    editor = auth(make_key(session, Role.EDITOR, ["hertfordshire"]))
    session.commit()
    met = {"force": "metropolitan", "reference": "01.FOI.22.022487"}
    unpublished = create_request(client, admin, **met)
    answered = create_request(client, admin, force="metropolitan", reference="MPS-2")
    response = add_response(client, admin, answered["id"])
    entry = publish(client, admin, answered["id"])
    gone = create_request(client, admin, force="metropolitan", reference="MPS-3")
    add_response(client, admin, gone["id"])
    withdrawn = publish(client, admin, gone["id"])
    client.post(
        f"/v1/disclosure-log/{withdrawn['id']}/withdraw", json={"reason": "x"}, headers=auth(admin)
    )
    ids = {
        "request": answered["id"],
        "response": response["id"],
        "unpublished": unpublished["id"],
        "entry": entry["id"],
        "withdrawn": withdrawn["id"],
    }
    attached = client.post(
        f"/v1/responses/{response['id']}/attachments",
        files={"file": ("annex.txt", b"The annex.", "text/plain")},
        headers=auth(admin),
    )
    assert attached.status_code == 201, attached.text
    ids["attachment"] = attached.json()["id"]
    published = client.get(LOG, params={"force": "metropolitan"}).json()["items"]
    kind, call = ROUTES[route]
    not_yours = call(client, editor, ids[kind])
    not_there = call(client, editor, MISSING)
    assert not_yours.status_code == 403, not_yours.text
    assert not_yours.headers["content-type"] == "application/problem+json"
    assert f"{ids[kind]} belongs to a force the key" in not_yours.json()["detail"]
    assert "metropolitan" not in not_yours.text
    assert not_there.status_code == 404, not_there.text
    # Nothing was written for the key that may not write.
    assert client.get(LOG, params={"force": "metropolitan"}).json()["items"] == published
