"""Writers racing on a server of two worker processes. For the same new row (a topic's first
use, a request's publication) one of them creates it, the others use it or are told 409. For
the same request (its fields, responses, entry, attachments) they run one after the other,
each reading what the one before committed: a stale If-Match is a 412, a second withdrawal a
410, and the privacy check sees the text it lets out."""

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
from sqlmodel import Session, col, func, select

from app.attachments.service import MAX_PER_RESPONSE
from app.db import new_session
from app.models import Attachment, FoiRequest, Topic

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


# A call: method, path and httpx's keyword arguments (json, files, headers).
Call = tuple[str, str, dict[str, Any]]


def _at_once(instance: Instance, calls: list[Call]) -> list[httpx.Response]:
    """Each call from its own connection, all released together."""
    start = Barrier(len(calls))

    def run(call: Call) -> httpx.Response:
        method, path, arguments = call
        with instance.client() as client:
            start.wait()
            return client.request(method, path, **arguments)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def _published(instance: Instance, reference: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A request with its response, published: (the request with its response's id, the
    entry)."""
    with instance.client() as client:
        request = factories.create_request(client, instance.key, reference=reference)
        request["response_id"] = factories.add_response(client, instance.key, request["id"])["id"]
        return request, factories.publish(client, instance.key, request["id"])


def test_one_if_match_lets_one_writer_through(two_workers: Instance) -> None:
    headers = factories.auth(two_workers.key)
    for round_ in range(ROUNDS):
        request, entry = _published(two_workers, f"IFM-{round_}")
        request_url, entry_url = (
            f"/v1/requests/{request['id']}",
            f"/v1/disclosure-log/{entry['id']}",
        )
        for url, field in ((request_url, "text"), (entry_url, "title")):
            with two_workers.client() as client:
                seen = client.get(url, headers=headers).headers["etag"]
            before = _versions(request["id"], entry["id"])
            calls: list[Call] = [
                (
                    "PATCH",
                    url,
                    {"json": {field: f"{field} {n}"}, "headers": {**headers, "If-Match": seen}},
                )
                for n in range(WRITERS)
            ]
            statuses = sorted(r.status_code for r in _at_once(two_workers, calls))
            assert statuses == [200] + [412] * (WRITERS - 1)
            # One change landed, counted once.
            changed = "request" if url == request_url else "entry"
            assert _versions(request["id"], entry["id"])[changed] == before[changed] + 1


def _versions(request_id: int, entry_id: int) -> dict[str, int]:
    with new_session() as session:
        request = session.get_one(FoiRequest, request_id)
        return {"request": request.version, "entry": factories.stored_entry(entry_id).version}


def test_an_entry_is_withdrawn_once_and_then_left_alone(two_workers: Instance) -> None:
    headers = factories.auth(two_workers.key)
    for round_ in range(ROUNDS):
        _, entry = _published(two_workers, f"WDR-{round_}")
        url = f"/v1/disclosure-log/{entry['id']}"
        withdrawals: list[Call] = [
            ("POST", f"{url}/withdraw", {"json": {"reason": f"Reason {n}"}, "headers": headers})
            for n in range(WRITERS)
        ]
        titles: list[Call] = [
            ("PATCH", url, {"json": {"title": f"Title {n}"}, "headers": headers})
            for n in range(WRITERS)
        ]
        responses = _at_once(two_workers, withdrawals + titles)
        statuses = sorted(r.status_code for r in responses[:WRITERS])
        assert statuses == [200] + [410] * (WRITERS - 1)
        # A title that came after the withdrawal is refused (410), so the withdrawal is last.
        kinds = [kind for entry_id, kind in factories.change_feed() if entry_id == entry["id"]]
        assert kinds[-1] == "withdrawn", kinds
        assert kinds.count("withdrawn") == 1


def test_the_privacy_check_sees_a_response_changed_while_publishing(
    two_workers: Instance,
) -> None:
    headers = factories.auth(two_workers.key)
    named = f"Sent to {factories.REQUESTER['name']} at their address"
    for round_ in range(ROUNDS):
        with two_workers.client() as client:
            request = factories.create_request(client, two_workers.key, reference=f"TOC-{round_}")
            response = factories.add_response(client, two_workers.key, request["id"])
        published, corrected = _at_once(
            two_workers,
            [
                (
                    "POST",
                    "/v1/disclosure-log",
                    {"json": {"request_id": request["id"]}, "headers": headers},
                ),
                (
                    "PATCH",
                    f"/v1/responses/{response['id']}",
                    {"json": {"text": named}, "headers": headers},
                ),
            ],
        )
        # Whichever came second saw the other: the name is never published unchecked.
        assert (published.status_code, corrected.status_code) in ((201, 422), (422, 200)), (
            published.text,
            corrected.text,
        )


def test_attachments_added_at_once_stop_at_the_limit(two_workers: Instance) -> None:
    request, _ = _published(two_workers, "ATT-LIMIT")
    response_id = request["response_id"]
    with new_session() as session:
        session.add_all(
            Attachment(
                response_id=response_id,
                filename=f"f{n}.txt",
                media_type="text/plain",
                size=1,
                sha256="0" * 64,
            )
            for n in range(MAX_PER_RESPONSE - 2)
        )
        session.commit()
    headers = factories.auth(two_workers.key)
    uploads: list[Call] = [
        (
            "POST",
            f"/v1/responses/{response_id}/attachments",
            {
                "files": {"file": (f"new{n}.txt", f"Attachment {n}\n".encode(), "text/plain")},
                "headers": headers,
            },
        )
        for n in range(6)
    ]
    statuses = sorted(r.status_code for r in _at_once(two_workers, uploads))
    assert statuses == [201, 201, 422, 422, 422, 422]
    with new_session() as session:
        stored = select(func.count()).where(col(Attachment.response_id) == response_id)
        assert session.scalar(stored) == MAX_PER_RESPONSE
        last = session.scalar(select(func.max(Attachment.id)))
    removals: list[Call] = [("DELETE", f"/v1/attachments/{last}", {"headers": headers})] * 2
    assert sorted(r.status_code for r in _at_once(two_workers, removals)) == [204, 404]


def test_members_of_one_round_robin_change_their_texts_at_once(two_workers: Instance) -> None:
    # Each edit relinks its entry and rewrites the documents of its group's other members.
    # An edit that wrote its own entry's row before taking the group's locks deadlocked on
    # PostgreSQL against one holding them (one of each pair answered 503).
    forces = ["kent", "essex", "surrey", "sussex", "norfolk", "suffolk"][:WRITERS]
    words = iter(f"word{n}" for n in range(10_000))
    for round_ in range(ROUNDS):
        with two_workers.client() as client:
            members = []
            for force in forces:
                request, entry = _published_copy(client, two_workers.key, force, round_)
                members.append(request["id"])
            assert entry["round_robin"] is not None
            assert entry["round_robin"]["size"] == WRITERS
        edits = [
            (
                "PATCH",
                f"/v1/requests/{request_id}",
                {
                    "json": {"text": " ".join(next(words) for _ in range(40))},
                    "headers": factories.auth(two_workers.key),
                },
            )
            for request_id in members
        ]
        responses = _at_once(two_workers, edits)
        assert [r.status_code for r in responses] == [200] * WRITERS, [r.text for r in responses]


def _published_copy(
    client: httpx.Client, key: str, force: str, round_: int
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One force's copy of the Hertfordshire request, answered and published."""
    request = factories.create_request(client, key, force=force, reference=f"RR-{round_}-{force}")
    factories.add_response(client, key, request["id"])
    return request, factories.publish(client, key, request["id"])


def test_writers_on_two_workers_give_one_alias_at_once(two_workers: Instance) -> None:
    """Requests created with one alias, or patched to take it, at once: one gets it, the others
    are told which request has it (README, "References")."""
    headers = factories.auth(two_workers.key)
    with two_workers.client() as client:
        patched = [
            factories.create_request(client, two_workers.key, reference=f"TAKER-{n}")["id"]
            for n in range(WRITERS)
        ]
    for round_ in range(ROUNDS):
        alias = f"ALIAS-{round_}"
        creates: list[Call] = [
            (
                "POST",
                "/v1/requests",
                {
                    "json": factories.hertfordshire_request_body(
                        reference=f"ALIASED-{round_}-{n}", aliases=[alias]
                    ),
                    "headers": headers,
                },
            )
            for n in range(WRITERS)
        ]
        patches: list[Call] = [
            (
                "PATCH",
                f"/v1/requests/{request_id}",
                {"json": {"aliases": [f"{alias}-B"]}, "headers": headers},
            )
            for request_id in patched
        ]
        for calls in (creates, patches):
            responses = _at_once(two_workers, calls)
            statuses = sorted(r.status_code for r in responses)
            assert statuses[0] in (200, 201), [r.text for r in responses]
            assert statuses[1:] == [422] * (WRITERS - 1), [r.text for r in responses]
            winner = next(r for r in responses if r.status_code < 300).json()["id"]
            for response in responses:
                if response.status_code == 422:
                    assert response.json()["rule"] == "reference-taken"
                    assert response.json()["existing"] == f"/v1/requests/{winner}"
