"""What a hostile client sends, at every door: each write route's fields, import lines and raw
bodies, every public query parameter and path. Whatever arrives is a 2xx or a 4xx
problem+json naming what is wrong, never a 5xx; a refused write leaves nothing behind; the Atom
feed stays well-formed XML after every write that was accepted."""

import copy
import json
import os
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import census
import httpx
import orjson
import pytest
from factories import (
    Client,
    add_response,
    auth,
    create_request,
    hertfordshire_request_body,
    hertfordshire_response_body,
    make_key,
    publish,
)
from fastapi.testclient import TestClient
from instances import serve_cli
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from app.db import new_session

PROBLEM = "application/problem+json"
# Characters no text field may hold: C0 controls but tab, line feed and carriage return; lone
# surrogates; the two non-characters U+FFFE and U+FFFF.
NOT_TEXT = [
    *(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"),
    "\ud800",
    "\udfff",
    "\ufffe",
    "\uffff",
]
# Odd, but text: accepted where the length fits, and published as it is.
ODD_TEXT = [
    "",
    " ",
    "\t",
    "\r\n",
    "\u200b",
    "\u202e",
    "\u00a0",
    "\ufeff",
    "\u0085",
    "\x7f",
    "\x9b",
    "🚓 police 🚨",
    "\U0001d54f",
    "ﬁre",
    "Z̵̢a̴l̷g̸o̶",
    "<script>alert(1)</script>",
    "]]><x/>",
    "&amp; & &#0; &#x1; &#xFFFE;",
    "<![CDATA[",
    "<mark>forged</mark>",
    "'; DROP TABLE foi_request; --",
    "1' OR '1'='1",
    "%00 %0b",
    "%s %n {0} {{",
    "\\",
    "null",
    "../../etc/passwd",
    "a" * 501,
    "x" * 200_001,
]
WRONG_TYPES: list[Any] = [None, 0, -1, 2**63, 1e308, True, [], {}, ["a"], {"a": 1}]
DATES: list[Any] = [
    "9999-12-31",
    "0001-01-01",
    "2018-02-30",
    "2018-13-01",
    "2018-6-1",
    "20180601",
    "2018-06-01T00:00:00",
    "today",
    "",
    "1999-12-31",
    "2100-01-01",
    "+2018-06-01",
    20180601,
]
TIMESTAMPS: list[Any] = [
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+14:00",
    "2018-06-27T09:00:00",
    "2018-06-27T09:00:00+25:00",
    "2018-06-27T24:00:00Z",
    "1999-12-31T23:59:59Z",
    "3000-01-01T00:00:00Z",
    "1e10",
    "NaN",
    1e308,
]
TEXT_VALUES = NOT_TEXT + ODD_TEXT + WRONG_TYPES
# What the fields beyond each route's main text fields are tried with.
SAMPLE: list[Any] = [
    "\x00",
    "\x02",
    "\x03",
    "\x0b",
    "\x1b",
    "\ud800",
    "\uffff",
    "",
    "\u202e",
    "🚓 police 🚨",
    "<mark>forged</mark>",
    "]]><x/>",
    "'; DROP TABLE foi_request; --",
    "a" * 501,
    None,
    2**63,
    [],
    {"a": 1},
]

TRIED, FAILED = "hostile inputs tried", "hostile inputs answered 5xx"


def _state() -> tuple[Any, ...]:
    """Row counts of every table, and what each write changes on the rows it keeps."""
    tables = SQLModel.metadata.sorted_tables
    columns = [select(func.count()).select_from(t).scalar_subquery() for t in tables]
    for table in tables:
        if "version" in table.c:
            columns.append(select(func.sum(table.c.version)).scalar_subquery())
        if "document" in table.c:
            columns.append(select(func.sum(func.length(table.c.document))).scalar_subquery())
    with new_session() as session:
        return tuple(session.execute(select(*columns)).one())


def _atom_is_well_formed(client: TestClient) -> None:
    feed = client.get("/v1/disclosure-log.atom")
    assert feed.status_code == 200
    ElementTree.fromstring(feed.content)


def _set(body: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    target: Any = changed
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return changed


class Door:
    """One route, tried with many bodies; counts what it answered and checks each answer."""

    def __init__(self, client: TestClient, name: str, key: str = "") -> None:
        self.client = client
        self.name = name
        self.key = key
        self.failures: list[str] = []

    def json(self, method: str, url: str) -> Callable[[Any], Any]:
        """Sends a body as JSON with every non-ASCII character escaped, lone surrogates too."""

        def send(body: Any) -> Any:
            headers = {**auth(self.key), "content-type": "application/json"}
            return self.client.request(method, url, content=json.dumps(body), headers=headers)

        return send

    def check(
        self, response: Any, what: str, *, refused_at: tuple[Any, ...] | None, minimum: int = 2
    ) -> None:
        census.add(TRIED)
        status = response.status_code
        if status >= 500:
            census.add(FAILED)
            self.failures.append(f"{what}: {status} {response.text[:200]}")
            return
        if status >= 400 and response.headers.get("content-type") != PROBLEM:
            self.failures.append(f"{what}: {status} as {response.headers.get('content-type')}")
        if refused_at is not None:
            self._named(response, what, refused_at, minimum)

    def _named(self, response: Any, what: str, refused_at: tuple[Any, ...], minimum: int) -> None:
        """The answer is a 4xx naming the field: a 400's detail names it, or one of a 422's
        errors is at the field or the list or object holding it (at least `minimum` long)."""
        if response.status_code == 400:
            if str(refused_at[-1]) not in response.json()["detail"]:
                self.failures.append(f"{what}: 400 does not name {refused_at[-1]}")
            return
        if response.status_code != 422:
            self.failures.append(f"{what}: {response.status_code}, expected 422")
            return
        locs = [tuple(error["loc"]) for error in response.json()["errors"]]
        if not any(refused_at[: len(loc)] == loc and len(loc) >= minimum for loc in locs):
            self.failures.append(f"{what}: 422 names {locs}, not {refused_at}")

    def write(
        self,
        send: Callable[[Any], Any],
        base: dict[str, Any],
        fields: dict[tuple[str | int, ...], list[Any]],
        *,
        where: Callable[[tuple[str | int, ...]], tuple[Any, ...]] = lambda path: ("body", *path),
    ) -> None:
        for path, values in fields.items():
            for value in values:
                what = f"{self.name} {'.'.join(map(str, path))}={value!r:.40}"
                before = _state()
                response = send(_set(base, path, value))
                rejected = isinstance(value, str) and value in NOT_TEXT
                at = where(path)
                self.check(
                    response,
                    what,
                    refused_at=at if rejected else None,
                    minimum=len(at) - len(path) + 1,
                )
                if response.status_code >= 400:
                    if _state() != before:
                        self.failures.append(f"{what}: a refused write changed the database")
                else:
                    _atom_is_well_formed(self.client)

    def done(self) -> None:
        print(f"{self.name}: {census.counts[TRIED]} inputs so far, {census.counts[FAILED]} 5xx")
        assert not self.failures, "\n".join(self.failures[:30])


@pytest.fixture
def client(database_url: str, tmp_path: Path) -> Iterator[Client]:
    """The app in process; with FOILOG_TEST_REAL_SERVER=1 (scripts/hostile_census.py), a real
    `foilog serve` of two workers on the test database, over the network."""
    if not os.environ.get("FOILOG_TEST_REAL_SERVER"):
        from app.main import create_app

        with TestClient(create_app(), raise_server_exceptions=False) as client:
            yield client
        return
    # Idle connections are kept longer than the tests pause between requests.
    with (
        serve_cli(
            database_url, tmp_path / "serve.log", args=["--timeout-keep-alive", "60"]
        ) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        yield client


@pytest.fixture
def admin(session: Session) -> str:
    key = make_key(session)
    session.commit()
    return key


@pytest.fixture
def published(client: TestClient, admin: str) -> dict[str, Any]:
    request = create_request(client, admin)
    response = add_response(client, admin, request["id"])
    entry = publish(client, admin, request["id"])
    return {"request": request, "response": response, "entry": entry}


def _numbered() -> Iterator[str]:
    number = 0
    while True:
        number += 1
        yield f"HOSTILE/{number}"


REQUEST_TEXT_FIELDS: list[tuple[str | int, ...]] = [
    ("force",),
    ("reference",),
    ("aliases", 0),
    ("title",),
    ("text",),
    ("topics", 0),
    ("questions", 0, "number"),
    ("questions", 0, "text"),
    ("requester", "name"),
    ("requester", "email"),
    ("requester", "address"),
    ("requester", "category"),
]


def test_creating_requests(client: TestClient, admin: str) -> None:
    door = Door(client, "POST /v1/requests", admin)
    references = _numbered()
    post = door.json("POST", "/v1/requests")

    def send(body: dict[str, Any]) -> Any:
        if body["reference"] == "FRESH":
            body["reference"] = next(references)
        if body["aliases"] == ["A"]:
            body["aliases"] = [f"{body['reference']}-A"]  # an alias names one request
        return post(body)

    base = hertfordshire_request_body(reference="FRESH", aliases=["A"])
    fields: dict[tuple[str | int, ...], list[Any]] = dict.fromkeys(REQUEST_TEXT_FIELDS, SAMPLE)
    fields[("title",)] = TEXT_VALUES
    fields[("received_on",)] = DATES + WRONG_TYPES
    fields[("questions",)] = [[{"number": "1", "text": "a"}] * 2, "x", [None]]
    door.write(send, base, fields)
    for raw in (
        b"",
        b"{",
        b"[]",
        b"null",
        b"[" * 100_000,
        b"{" * 5000,
        b"\xff\xfe\x00",
        b'"\\ud800"',
    ):
        response = client.post(
            "/v1/requests",
            content=raw,
            headers={**auth(admin), "content-type": "application/json"},
        )
        door.check(response, f"raw {raw[:20]!r}", refused_at=None)
    door.done()


def test_changing_a_published_request(
    client: TestClient, admin: str, published: dict[str, Any]
) -> None:
    door = Door(client, "PATCH /v1/requests/{id}", admin)
    questions = hertfordshire_request_body()["questions"]
    send = door.json("PATCH", f"/v1/requests/{published['request']['id']}")

    fields: dict[tuple[str | int, ...], list[Any]] = {
        ("title",): TEXT_VALUES,
        ("text",): SAMPLE,
        ("status",): SAMPLE,
        ("aliases",): [[v] for v in SAMPLE],
        ("topics",): [[v] for v in SAMPLE],
        ("clarification_received_on",): DATES + WRONG_TYPES,
        ("extended_due_on",): DATES + WRONG_TYPES,
    }
    for path, values in fields.items():
        door.write(send, {str(path[0]): "x"}, {path: values})
    question_bodies: dict[tuple[str | int, ...], list[Any]] = {("questions", 0, "text"): SAMPLE}
    door.write(send, {"questions": questions}, question_bodies)
    door.done()


RESPONSE_TEXT_FIELDS: list[tuple[str | int, ...]] = [
    ("text",),
    ("kind",),
    ("outcome",),
    ("answers", 0, "text"),
    ("answers", 0, "questions", 0),
    ("citations", 0, "exemption"),
    ("citations", 0, "provision"),
    ("citations", 0, "public_interest", "for", 0),
    ("citations", 0, "public_interest", "against", 0),
    ("citations", 0, "public_interest", "balance"),
    ("citations", 0, "harm"),
    ("signatory", "name"),
    ("signatory", "role"),
]


def test_adding_and_correcting_responses(
    client: TestClient, admin: str, published: dict[str, Any]
) -> None:
    request = create_request(client, admin, reference="HOSTILE/RESPONSES")
    base = hertfordshire_response_body()
    base["citations"][0]["harm"] = "Harm."
    fields: dict[tuple[str | int, ...], list[Any]] = dict.fromkeys(RESPONSE_TEXT_FIELDS, SAMPLE)
    fields[("text",)] = TEXT_VALUES
    fields[("responded_on",)] = DATES + WRONG_TYPES
    door = Door(client, "POST /v1/requests/{id}/responses", admin)
    door.write(door.json("POST", f"/v1/requests/{request['id']}/responses"), base, fields)
    door.done()
    door = Door(client, "PATCH /v1/responses/{id}", admin)
    corrections = {
        path: SAMPLE
        for path in RESPONSE_TEXT_FIELDS
        if path[0] in ("text", "signatory") or path[-1] in ("balance", "harm")
    }
    door.write(
        door.json("PATCH", f"/v1/responses/{published['response']['id']}"), base, corrections
    )
    door.done()


def test_publishing_changing_and_withdrawing_entries(
    client: TestClient, admin: str, published: dict[str, Any]
) -> None:
    request = create_request(client, admin, reference="HOSTILE/PUBLISH")
    add_response(client, admin, request["id"])
    door = Door(client, "POST /v1/disclosure-log", admin)
    door.write(
        door.json("POST", "/v1/disclosure-log"),
        {"request_id": request["id"], "title": "t", "topics": ["t"], "publish_at": None},
        {
            ("title",): SAMPLE,
            ("topics", 0): SAMPLE,
            ("publish_at",): TIMESTAMPS + WRONG_TYPES,
            ("request_id",): [*WRONG_TYPES, "1", 2**31],
        },
    )
    door.done()
    entry_id = published["entry"]["id"]
    door = Door(client, "PATCH /v1/disclosure-log/{id}", admin)
    door.write(
        door.json("PATCH", f"/v1/disclosure-log/{entry_id}"),
        {"title": "t", "topics": ["t"]},
        {("title",): TEXT_VALUES, ("topics", 0): SAMPLE},
    )
    door.done()
    door = Door(client, "POST /v1/disclosure-log/{id}/withdraw", admin)
    door.write(
        door.json("POST", f"/v1/disclosure-log/{entry_id}/withdraw"),
        {"reason": "r"},
        {("reason",): SAMPLE},
    )
    door.done()


IMPORT_FIELDS: list[tuple[str | int, ...]] = [
    ("reference",),
    ("title",),
    ("topics", 0),
    ("request", "questions", 0, "text"),
    ("responses", 0, "citations", 0, "public_interest", "balance"),
    ("responses", 0, "signatory", "name"),
]


def test_importing(client: TestClient, admin: str, published: dict[str, Any]) -> None:
    document = client.get(f"/v1/disclosure-log/{published['entry']['id']}").json()
    document = {**document, "reference": "FRESH", "aliases": ["A"]}
    references = _numbered()

    def send(line: dict[str, Any]) -> Any:
        if line["reference"] == "FRESH":
            line["reference"] = next(references)
        if line["aliases"] == ["A"]:
            line["aliases"] = [f"{line['reference']}-A"]  # an alias names one request
        body = orjson.dumps(document) + b"\n" + orjson.dumps(line)
        return client.post(
            "/v1/import",
            content=body,
            headers={**auth(admin), "content-type": "application/x-ndjson"},
        )

    door = Door(client, "POST /v1/import")
    # orjson writes no lone surrogate; the raw bodies below send one escaped.
    encodable = [v for v in SAMPLE if not (isinstance(v, str) and "\ud800" <= v <= "\udfff")]
    fields: dict[tuple[str | int, ...], list[Any]] = dict.fromkeys(IMPORT_FIELDS, encodable)
    fields[("published_at",)] = TIMESTAMPS + WRONG_TYPES
    fields[("received_on",)] = DATES + WRONG_TYPES
    door.write(send, document, fields, where=lambda path: ("line", 2, *path))
    for raw in (
        b"\xff\xfe\n",
        b"{}\n",
        b"\n\n\n",
        b"[" * 100_000,
        b'{"title": "\x0b"}',
        b'{"title": "\\ud800"}',
        b"\xef\xbb\xbf" + orjson.dumps(document),
    ):
        response = client.post(
            "/v1/import",
            content=raw,
            headers={**auth(admin), "content-type": "application/x-ndjson"},
        )
        door.check(response, f"raw {raw[:20]!r}", refused_at=None)
    door.done()


QUERY_VALUES: list[str] = [
    *(v for v in NOT_TEXT if not "\ud800" <= v <= "\udfff"),
    *(v for v in ODD_TEXT if len(v) < 10_000),
    *(str(v) for v in DATES + TIMESTAMPS),
    "-1",
    "0",
    "101",
    "1e9",
    "99999999999999999999",
    "true",
    "%",
    "*",
    '"',
    "a" * 6000,
    "\ud800".encode("utf-8", "surrogatepass").decode("latin-1"),
]
LOG_PARAMETERS = [
    "q",
    "force",
    "topic",
    "outcome",
    "exemption",
    "law",
    "reference",
    "received_from",
    "received_to",
    "published_from",
    "published_to",
    "sort",
    "limit",
    "cursor",
    "count",
]
# Each public list and the parameters it reads; the few values below go to every one.
PUBLIC_GETS: dict[str, list[str]] = {
    "/v1/disclosure-log.atom": LOG_PARAMETERS,
    "/v1/disclosure-log.ndjson": LOG_PARAMETERS,
    "/v1/disclosure-log.csv": LOG_PARAMETERS,
    "/v1/stats": LOG_PARAMETERS,
    "/v1/changes": ["since", "limit"],
    "/v1/exemptions": ["law"],
    "/v1/topics": ["x"],
    "/v1/forces": ["x"],
}
FEW = [
    "\x00",
    "\x0b",
    "\x1f",
    "\ufffe",
    "",
    "a" * 6000,
    "9999-12-31",
    "0001-01-01T00:00:00+14:00",
    "-1",
    "99999999999999999999",
    "%",
    "<x>",
]
PATHS = [
    "/v1/disclosure-log/{}",
    "/v1/forces/{}",
    "/v1/forces/hertfordshire/references/{}",
    "/v1/exemptions/{}",
]


def _get(door: Door, url: str, params: dict[str, str], value: str, name: str) -> None:
    response = door.client.get(url, params=params)
    rejected = value in NOT_TEXT
    what = f"GET {url} {name}={value!r:.40}"
    door.check(response, what, refused_at=("query", name) if rejected else None)


def test_public_query_parameters_and_paths(
    client: TestClient, admin: str, published: dict[str, Any]
) -> None:
    door = Door(client, "public GETs")
    for name in LOG_PARAMETERS:
        for value in QUERY_VALUES if name in ("q", "force", "cursor") else FEW:
            _get(door, "/v1/disclosure-log", {name: value}, value, name)
    for url, names in PUBLIC_GETS.items():
        for name in names:
            for value in FEW:
                _get(door, url, {name: value}, value, name)
    for template in PATHS:
        for value in [*FEW, "..", "%2e%2e", "999999999999999999999", "0"]:
            path = template.format(value if value == "%2e%2e" else quote(value, safe=""))
            response = client.get(path)
            door.check(response, f"GET {path!r:.60}", refused_at=None)
            if value in NOT_TEXT and response.status_code != 400:
                door.failures.append(f"GET {path!r:.60}: {response.status_code}, expected 400")
    door.done()


def test_keyed_query_parameters(client: TestClient, admin: str, published: dict[str, Any]) -> None:
    door = Door(client, "keyed GETs")
    lists = {
        "/v1/requests": ["force", "status", "overdue", "due_before", "limit", "cursor", "count"],
        "/v1/audit": ["entity_type", "entity_id", "action", "key", "limit", "cursor", "count"],
    }
    for url, names in lists.items():
        for name in names:
            for value in QUERY_VALUES if name in ("force", "action") else FEW:
                response = client.get(url, params={name: value}, headers=auth(admin))
                rejected = value in NOT_TEXT
                what = f"GET {url} {name}={value!r:.40}"
                door.check(response, what, refused_at=("query", name) if rejected else None)
    door.done()


def test_highlights_mark_only_matches(client: TestClient, admin: str) -> None:
    """The engines mark matches with U+0002 and U+0003; text holding them is refused at every
    door, so no stored text forges a mark, and markup in stored text is escaped."""
    for field in ("title", "text"):
        body = hertfordshire_request_body(**{field: "\x02forged\x03 recognition"})
        refused = client.post("/v1/requests", json=body, headers=auth(admin))
        assert refused.status_code == 422
    request = create_request(client, admin, title="<mark>forged</mark> recognition")
    add_response(client, admin, request["id"])
    publish(client, admin, request["id"])
    hits = client.get("/v1/disclosure-log", params={"q": "forged"}).json()["items"]
    assert hits
    highlight = hits[0]["highlight"]
    # The excerpt keeps the stored markup, escaped: the only markup left is the marks around
    # matches.
    assert "<" not in highlight.replace("<mark>", "").replace("</mark>", "")
    marked = highlight.split("<mark>")[1:]
    assert marked
    assert all(part.split("</mark>")[0].lower().startswith("forged") for part in marked)
    _atom_is_well_formed(client)
