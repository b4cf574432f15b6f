"""What the webhook tests share: settings for a test, a clock to inject, subscribing."""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from factories import auth
from fastapi.testclient import TestClient

from app.db import utcnow
from app.webhooks import dispatcher

EVENTS = ["entry.published", "entry.updated", "entry.withdrawn"]
Configure = Callable[..., None]


class Clock:
    """Time the dispatcher sees, moved by the test instead of waiting."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def to(self, moment: datetime) -> None:
        self.now = max(self.now, moment)


def drain(clock: Callable[[], datetime] = utcnow) -> None:
    """Deliver what is due at `clock`, until a pass finds nothing more."""
    deliveries = dispatcher.Dispatcher(clock)
    while deliveries.hand_out():
        deliveries.settle()


def subscribe(client: TestClient, key: str, url: str, **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/webhooks", json={"url": url, "events": EVENTS, **body}, headers=auth(key)
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def deliveries(client: TestClient, key: str, webhook_id: int) -> list[dict[str, Any]]:
    response = client.get(
        f"/v1/webhooks/{webhook_id}/deliveries", params={"limit": 100}, headers=auth(key)
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def webhook(client: TestClient, key: str, webhook_id: int) -> dict[str, Any]:
    response = client.get(f"/v1/webhooks/{webhook_id}", headers=auth(key))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
