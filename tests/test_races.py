"""Writers racing for the same new row (a topic's first use, a request's publication) on a
server of two worker processes: one of them creates it, the others use it or are told 409."""

import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from threading import Barrier
from typing import Any

import factories
import httpx
import pytest
from instances import ROOT, Instance, _free_port, _wait_until_ready
from sqlmodel import Session, col, select

from app.db import new_session
from app.models import Topic

WRITERS = 4
ROUNDS = 5


@pytest.fixture
def two_workers(database_url: str, session: Session) -> Iterator[Instance]:
    key = factories.make_key(session)
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.main:app", "--port", str(port), "--workers", "2"],
        cwd=ROOT,
        env={**os.environ, "FOILOG_DATABASE_URL": database_url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    instance = Instance(f"http://127.0.0.1:{port}", key)
    try:
        # Two processes import the app on a busy machine: give them time.
        _wait_until_ready(instance, timeout=90)
        yield instance
    finally:
        process.terminate()
        process.wait(timeout=20)


def _race(instance: Instance, calls: list[tuple[str, dict[str, Any]]]) -> list[httpx.Response]:
    """Sends the calls at once, each from its own connection (so the two workers share them)."""
    start = Barrier(len(calls))

    def send(call: tuple[str, dict[str, Any]]) -> httpx.Response:
        path, body = call
        with httpx.Client(base_url=instance.url, timeout=60) as client:
            start.wait()
            return client.post(path, json=body, headers=factories.auth(instance.key))

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(send, calls))


def test_writers_on_two_workers_create_a_new_topic_at_once(two_workers: Instance) -> None:
    for round_ in range(ROUNDS):
        topic = f"First Use {round_}"
        calls = [
            (
                "/v1/requests",
                factories.hertfordshire_request_body(
                    reference=f"RACE-{round_}-{n}", topics=[topic, "shared-topic"]
                ),
            )
            for n in range(WRITERS)
        ]
        responses = _race(two_workers, calls)
        assert [r.status_code for r in responses] == [201] * WRITERS, [r.text for r in responses]
        assert {tuple(sorted(r.json()["topics"])) for r in responses} == {
            (f"first-use-{round_}", "shared-topic")
        }
    with new_session() as reader:
        slugs = reader.exec(select(Topic.slug).order_by(col(Topic.slug))).all()
    assert slugs == [f"first-use-{n}" for n in range(ROUNDS)] + ["shared-topic"]


def test_writers_on_two_workers_publish_one_request_at_once(two_workers: Instance) -> None:
    with two_workers.client() as client:
        for round_ in range(ROUNDS):
            headers = factories.auth(two_workers.key)
            body = factories.hertfordshire_request_body(reference=f"PUB-{round_}")
            created = client.post("/v1/requests", json=body, headers=headers)
            assert created.status_code == 201, created.text
            request_id = created.json()["id"]
            answered = client.post(
                f"/v1/requests/{request_id}/responses",
                json=factories.hertfordshire_response_body(),
                headers=headers,
            )
            assert answered.status_code == 201, answered.text
            responses = _race(
                two_workers, [("/v1/disclosure-log", {"request_id": request_id})] * WRITERS
            )
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [201] + [409] * (WRITERS - 1), [r.text for r in responses]
            for response in responses:
                if response.status_code == 409:
                    assert response.headers["content-type"] == "application/problem+json"
