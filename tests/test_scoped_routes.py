"""Every route a key's forces scope answers another force's object exactly as a missing one:
the same status, body and headers, so a key learns nothing of what it may not see."""

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
    "PATCH /v1/disclosure-log/{id} (withdrawn)": (
        "withdrawn",
        lambda c, h, i: c.patch(f"/v1/disclosure-log/{i}", json={"title": "x"}, headers=h),
    ),
}


def _shape(response: Any, object_id: int) -> tuple[int, str, str]:
    """The answer with the id asked for taken out, which alone may differ."""
    text = response.text.replace(str(object_id), "{id}")
    return response.status_code, response.headers["content-type"], text


@pytest.mark.parametrize("route", list(ROUTES))
def test_not_yours_answers_as_not_there(client: TestClient, session: Session, route: str) -> None:
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
    kind, call = ROUTES[route]
    not_yours = call(client, editor, ids[kind])
    not_there = call(client, editor, MISSING)
    assert not_yours.status_code == 404, not_yours.text
    assert _shape(not_yours, ids[kind]) == _shape(not_there, MISSING)
