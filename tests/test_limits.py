from collections.abc import Iterator
from typing import Any

import anyio
import orjson
import pytest
from factories import auth, hertfordshire_request_body, make_key
from fastapi.testclient import TestClient
from sqlalchemy import func
from sqlmodel import Session, col, select
from starlette.types import Message, Receive, Scope, Send

from app.config import get_settings
from app.db import new_session
from app.limits import BodyLimitMiddleware
from app.models import AuditEvent, FoiRequest

PROBLEM = "application/problem+json"


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("FOILOG_MAX_BODY_BYTES", "4096")
    monkeypatch.setenv("FOILOG_MAX_IMPORT_BYTES", "8192")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


def too_large(response: Any) -> None:
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 413


def request_count() -> int:
    with new_session() as session:
        return session.exec(select(func.count()).select_from(FoiRequest)).one()


def in_chunks(body: bytes, size: int = 500) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.usefixtures("small_limits")
def test_json_bodies_past_the_limit_are_413(client: TestClient, admin: str) -> None:
    small = hertfordshire_request_body(questions=[])
    assert client.post("/v1/requests", json=small, headers=auth(admin)).status_code == 201
    big = orjson.dumps(hertfordshire_request_body(reference="BIG", text="x" * 5000))
    headers = {**auth(admin), "Content-Type": "application/json"}
    too_large(client.post("/v1/requests", content=big, headers=headers))
    # Without Content-Length (chunked), the bytes are counted as they arrive.
    too_large(client.post("/v1/requests", content=in_chunks(big), headers=headers))
    assert request_count() == 1


@pytest.mark.usefixtures("small_limits")
def test_imports_have_their_own_limit(client: TestClient, admin: str) -> None:
    line = orjson.dumps(
        {
            "force": "kent",
            "reference": "R",
            "title": "t",
            "received_on": "2020-01-01",
            "request": {"text": "x" * 3000},
            "responses": [
                {
                    "kind": "initial",
                    "responded_on": "2020-01-20",
                    "outcome": "not_held",
                    "text": "Not held.",
                }
            ],
        }
    )
    headers = {**auth(admin), "Content-Type": "application/x-ndjson"}
    fits = b"\n".join([line] * 2)
    assert 4096 < len(fits) < 8192
    response = client.post("/v1/import", content=fits, headers=headers)
    assert response.json() == {"created": 1, "updated": 0, "unchanged": 1}
    body = b"\n".join([line] * 20)
    too_large(client.post("/v1/import", content=in_chunks(body), headers=headers))
    too_large(client.post("/v1/import", content=body, headers=headers))
    with new_session() as session:
        imports = session.exec(select(AuditEvent).where(col(AuditEvent.action) == "import"))
        assert len(list(imports)) == 1


@pytest.mark.usefixtures("small_limits")
def test_a_lying_content_length_does_not_help() -> None:
    seen: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            seen.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    messages = [
        {"type": "http.request", "body": b"x" * 3000, "more_body": True},
        {"type": "http.request", "body": b"x" * 3000, "more_body": False},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return messages.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "path": "/v1/requests",
        "headers": [(b"content-length", b"10"), (b"content-type", b"application/json")],
    }
    anyio.run(BodyLimitMiddleware(app), scope, receive, send)
    assert sent[0]["status"] == 413
    assert orjson.loads(sent[1]["body"])["status"] == 413
    assert len(seen) == 1


def test_text_and_list_limits_are_422(client: TestClient, admin: str) -> None:
    for body in (
        hertfordshire_request_body(title="t" * 501),
        hertfordshire_request_body(aliases=["a"] * 21),
        hertfordshire_request_body(topics=["t"] * 51),
        hertfordshire_request_body(reference="r" * 101),
    ):
        response = client.post("/v1/requests", json=body, headers=auth(admin))
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/v1/requests/99999999999999999999", None),
        ("patch", "/v1/requests/4294967296", {}),
        ("post", "/v1/requests/0/responses", {}),
        ("patch", "/v1/disclosure-log/-1", {}),
        ("post", "/v1/disclosure-log", {"request_id": 2**63}),
    ],
)
def test_ids_out_of_range_are_422(
    client: TestClient, admin: str, method: str, url: str, body: dict[str, Any] | None
) -> None:
    response = client.request(method, url, json=body, headers=auth(admin))
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM


def test_dates_outside_the_calendar_are_422(client: TestClient, admin: str) -> None:
    for received_on in ("9999-12-20", "0001-01-01", "1999-12-31"):
        body = hertfordshire_request_body(received_on=received_on)
        response = client.post("/v1/requests", json=body, headers=auth(admin))
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "received_on"]
