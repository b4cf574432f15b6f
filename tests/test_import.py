import codecs
import json
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import census
import httpx
import orjson
import pytest
from factories import (
    auth,
    change_feed,
    hertfordshire_request_body,
    hertfordshire_response_body,
    make_key,
    stored_document,
    stored_entry,
    visible_entry_ids,
)
from fastapi.testclient import TestClient
from instances import serve_in_thread
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from app import inputs
from app.db import new_session, utcnow
from app.entries import schemas as entries_schemas
from app.errors import Forbidden, InvalidInput, PayloadTooLarge, RuleViolation
from app.foi_requests.service import today
from app.imports.service import Stage, import_entries, lines_of
from app.inputs import may_hold_not_text, not_text
from app.keys.schemas import Actor
from app.models import AuditEvent, DisclosureEntry, FoiRequest, FoiResponse, Role, Topic
from app.round_robins import similarity

PROBLEM = "application/problem+json"
SYSTEM = Actor.system("test")


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


def entry_document(**changes: Any) -> dict[str, Any]:
    request = hertfordshire_request_body()
    reference = changes.get("reference", request["reference"])
    document: dict[str, Any] = {
        "force": request["force"],
        "law": "FOIA",
        "reference": request["reference"],
        # An alias of each reference's own: within a force an alias names one request.
        "aliases": ["HC/2018/2892" if reference == request["reference"] else f"HC/{reference}"],
        "title": request["title"],
        "topics": request["topics"],
        "received_on": request["received_on"],
        "published_at": "2018-06-27T09:00:00Z",
        "request": {"text": request["text"], "questions": request["questions"]},
        "responses": [hertfordshire_response_body()],
        # Output-only fields: derived again on import, whatever they say.
        "id": 12345,
        "due_on": "2001-01-01",
        "responded_on": "2001-01-01",
        "responded_within_deadline": False,
        "outcome": "disclosed_in_full",
        "exemptions": ["foia-s21"],
        "updated_at": "2001-01-01T00:00:00Z",
        "status": "published",
    }
    document.update(changes)
    return document


def ndjson(*documents: dict[str, Any]) -> bytes:
    return b"\n".join(orjson.dumps(d) for d in documents) + b"\n"


def post(client: TestClient, key: str, body: bytes | Iterator[bytes]) -> Any:
    headers = {**auth(key), "Content-Type": "application/x-ndjson"}
    return client.post("/v1/import", content=body, headers=headers)


def counts() -> tuple[int, int, int, int]:
    with new_session() as session:
        return tuple(  # type: ignore[return-value]
            session.exec(select(func.count()).select_from(model)).one()
            for model in (FoiRequest, FoiResponse, DisclosureEntry, Topic)
        )


def test_import_creates_published_entries(client: TestClient, admin: str) -> None:
    met = entry_document(
        force="metropolitan",
        reference="01.FOI.22.022487",
        aliases=[],
        published_at=None,
        responses=[
            hertfordshire_response_body(
                outcome="refused",
                answers=[],
                citations=[{"exemption": "foia-s22", "provision": "22(1)"}],
            )
        ],
    )
    response = post(client, admin, ndjson(entry_document(), met))
    assert response.status_code == 200, response.text
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
    first, second = sorted(visible_entry_ids())  # type: ignore[type-var]
    assert first is not None
    assert second is not None
    herts = stored_document(first)
    assert herts["published_at"] == "2018-06-27T09:00:00Z"
    assert herts["due_on"] == "2018-06-26"
    assert herts["responded_on"] == "2018-06-26"
    assert herts["responded_within_deadline"] is True
    assert herts["outcome"] == "neither_confirm_nor_deny"
    assert herts["exemptions"] == ["foia-s24", "foia-s31"]
    assert herts["id"] == first
    assert herts["aliases"] == ["HC/2018/2892"]
    assert herts["topics"] == ["biometrics", "facial-recognition"]
    assert stored_document(second)["published_at"] > "2026"
    assert stored_document(second)["exemptions"] == ["foia-s22"]
    # Both ask Hertfordshire's request: a round-robin, linked once the import is in.
    published = [(first, "published"), (second, "published")]
    assert change_feed() == [*published, (first, "updated"), (second, "updated")]
    with new_session() as session:
        request = session.exec(select(FoiRequest).where(FoiRequest.id == 1)).one()
        assert request.requester_name is None
        assert request.status == "responded"


def test_import_upserts_by_force_and_reference(client: TestClient, admin: str) -> None:
    post(client, admin, ndjson(entry_document()))
    review = hertfordshire_response_body(kind="internal_review", responded_on="2018-08-01")
    changed = entry_document(
        reference="foi2018/02892",
        title="Facial recognition",
        responses=[hertfordshire_response_body(), review],
    )
    response = post(client, admin, ndjson(changed))
    assert response.json() == {"created": 0, "updated": 1, "unchanged": 0}
    document = stored_document(1)
    assert document["title"] == "Facial recognition"
    assert [r["kind"] for r in document["responses"]] == ["initial", "internal_review"]
    assert counts()[:3] == (1, 2, 1)
    assert change_feed() == [(1, "published"), (1, "updated")]


def test_an_export_imports_unchanged(client: TestClient, admin: str) -> None:
    post(client, admin, ndjson(entry_document()))
    exported = stored_document(1)
    announced = change_feed()
    response = post(client, admin, orjson.dumps(exported))
    # Nothing to change: nothing written, no new version, nothing announced.
    assert response.json() == {"created": 0, "updated": 0, "unchanged": 1}
    assert stored_document(1) == exported
    assert stored_entry(1).version == 1
    assert change_feed() == announced
    changed = orjson.dumps({**exported, "title": "Another title"})
    assert post(client, admin, changed).json() == {"created": 0, "updated": 1, "unchanged": 0}
    assert stored_entry(1).version == 2


@pytest.mark.parametrize(
    ("line", "loc", "rule"),
    [
        (
            entry_document(responses=[hertfordshire_response_body(outcome="lost")]),
            ["line", 3, "responses", 0, "outcome"],
            None,
        ),
        (
            entry_document(
                responses=[
                    hertfordshire_response_body(
                        citations=[{"exemption": "foisa-s35", "provision": "35", "ncnd": True}]
                    )
                ]
            ),
            ["line", 3, "responses", 0, "citations", 0, "exemption"],
            "exemption-law",
        ),
        (
            entry_document(
                responses=[
                    hertfordshire_response_body(
                        citations=[
                            {"exemption": "foia-s24", "provision": "24(2)", "ncnd": True},
                            {"exemption": "foia-s31", "provision": "31(1)(a)", "ncnd": True},
                        ]
                    )
                ]
            ),
            ["line", 3, "responses", 0, "citations", 1, "provision"],
            "ncnd-provision",
        ),
        (
            entry_document(
                force="police-scotland",
                law="FOISA",
                responses=[
                    hertfordshire_response_body(
                        citations=[{"exemption": "foisa-s35", "provision": "35(1)", "ncnd": True}]
                    )
                ],
            ),
            ["line", 3, "responses", 0, "citations", 0, "ncnd"],
            "ncnd-provision",
        ),
        (
            entry_document(
                responses=[
                    hertfordshire_response_body(),
                    hertfordshire_response_body(responded_on="2018-07-10"),
                ]
            ),
            ["line", 3, "responses", 1, "kind"],
            "initial-unique",
        ),
        (entry_document(law="FOISA"), ["line", 3, "law"], "law-mismatch"),
        (entry_document(force="atlantis"), ["line", 3, "force"], "force-unknown"),
        (entry_document(published_at="2018-06-27T09:00:00"), ["line", 3, "published_at"], None),
        # Past the calendar once in UTC: these were 500s (OverflowError converting to UTC).
        (
            entry_document(published_at="9999-12-31T23:59:59-14:00"),
            ["line", 3, "published_at"],
            None,
        ),
        (
            entry_document(published_at="0001-01-01T00:00:00+14:00"),
            ["line", 3, "published_at"],
            None,
        ),
        (entry_document(title="Drones\u000b"), ["line", 3, "title"], None),
        (
            entry_document(request={"text": "a\u0002b", "questions": []}),
            ["line", 3, "request", "text"],
            None,
        ),
        (entry_document(surprise=1), ["line", 3, "surprise"], None),
    ],
)
def test_a_bad_line_writes_nothing(
    client: TestClient, admin: str, line: dict[str, Any], loc: list[Any], rule: str | None
) -> None:
    good = [entry_document(reference=f"GOOD-{n}", topics=[f"topic-{n}"]) for n in range(2)]
    response = post(client, admin, ndjson(*good, line))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["errors"][0]["loc"] == loc
    assert body.get("rule") == rule
    assert counts() == (0, 0, 0, 0)
    assert change_feed() == []


def test_broken_json_names_its_line(client: TestClient, admin: str) -> None:
    response = post(client, admin, ndjson(entry_document()) + b"\n{not json\n")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"][:2] == ["line", 3]
    assert "line 3" in response.json()["detail"]
    assert counts() == (0, 0, 0, 0)


def test_a_byte_order_mark_before_the_first_line_is_not_part_of_it(
    client: TestClient, admin: str
) -> None:
    body = ndjson(entry_document(reference="BOM-1"), entry_document(reference="BOM-2"))
    response = post(client, admin, codecs.BOM_UTF8 + body)
    assert response.json() == {"created": 2, "updated": 0, "unchanged": 0}
    # Only before the first line: one before a later line is not JSON.
    later = ndjson(entry_document(reference="BOM-3")) + codecs.BOM_UTF8 + b"{}\n"
    refused = post(client, admin, later)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["loc"][:2] == ["line", 2]


def test_import_streams_the_body(client: TestClient, admin: str) -> None:
    body = ndjson(*(entry_document(reference=f"S-{n}") for n in range(30)))

    def chunks() -> Iterator[bytes]:
        # Chunk boundaries fall inside lines.
        for start in range(0, len(body), 1000):
            yield body[start : start + 1000]

    response = post(client, admin, chunks())
    assert response.json() == {"created": 30, "updated": 0, "unchanged": 0}


def test_import_is_scoped_and_needs_a_key(client: TestClient, session: Session) -> None:
    editor = make_key(session, Role.EDITOR, ["hertfordshire"])
    body = ndjson(entry_document(), entry_document(force="kent"))
    refused = post(client, editor, body)
    assert refused.status_code == 403
    assert "line 2" in refused.json()["detail"]
    assert counts()[0] == 0
    assert client.post("/v1/import", content=body).status_code == 401
    assert post(client, editor, ndjson(entry_document())).json()["created"] == 1


def test_the_service_reports_progress_and_is_audited(session: Session) -> None:
    lines = [orjson.dumps(entry_document(reference=f"P-{n}")) for n in range(250)]
    lines.insert(10, b"   ")
    seen: list[tuple[Stage, int, int | None]] = []
    result = import_entries(
        session, lines, actor=SYSTEM, on_progress=lambda *heard: seen.append(heard)
    )
    assert (result.created, result.updated) == (250, 0)
    # Every line checked before any is written; linking, after the commit, reports last.
    stages = [stage for stage, _, _ in seen]
    assert stages == sorted(stages, key=list(Stage).index)
    checked = [(done, total) for stage, done, total in seen if stage == Stage.CHECKED]
    assert checked == [(100, None), (200, None), (250, 250)]
    written = [(done, total) for stage, done, total in seen if stage == Stage.WRITTEN]
    assert written == [(100, 250), (200, 250), (250, 250)]
    linked = [(done, total) for stage, done, total in seen if stage == Stage.LINKED]
    assert linked == sorted(linked)
    assert linked[-1] == (250, 250)
    assert {total for _, total in linked} == {250}
    event = session.exec(select(AuditEvent).where(col(AuditEvent.action) == "import")).one()
    assert event.key_name == "test"
    assert event.after == {"created": 250, "updated": 0, "unchanged": 0}


def test_service_errors_are_typed(session: Session) -> None:
    editor = Actor(key_id=None, name="e", role=Role.EDITOR, forces=frozenset({"kent"}))
    with pytest.raises(Forbidden):
        import_entries(session, [orjson.dumps(entry_document())], actor=editor)
    with pytest.raises(InvalidInput):
        import_entries(session, [b"[]"], actor=SYSTEM)
    with pytest.raises(RuleViolation):
        import_entries(session, [orjson.dumps(entry_document(force="x"))], actor=SYSTEM)


def test_lines_are_split_across_chunks_with_a_length_cap() -> None:
    assert list(lines_of([b"ab", b"c\nd", b"e\n\nf"])) == [b"abc", b"de", b"", b"f"]
    with pytest.raises(PayloadTooLarge):
        list(lines_of([b"x" * 10, b"y" * 10], max_line=15))


def test_import_keeps_withdrawals_and_the_requester_private(client: TestClient, admin: str) -> None:
    from factories import add_response, create_request, publish

    request = create_request(client, admin)
    add_response(client, admin, request["id"])
    asked = entry_document()["request"]["questions"]
    named = entry_document(request={"text": "Sent by Jane Marlow", "questions": asked})
    refused = post(client, admin, ndjson(named))
    assert refused.status_code == 422
    assert refused.json()["rule"] == "privacy-requester-named"
    assert refused.json()["errors"][0]["loc"] == ["line", 1, "request", "text"]
    entry = publish(client, admin, request["id"])
    client.post(
        f"/v1/disclosure-log/{entry['id']}/withdraw", json={"reason": "x"}, headers=auth(admin)
    )
    again = post(client, admin, ndjson(entry_document()))
    assert again.status_code == 422
    assert again.json()["rule"] == "entry-withdrawn"
    assert again.json()["errors"][0]["loc"] == ["line", 1, "reference"]


def test_an_import_may_not_hide_a_published_entry_again(client: TestClient, admin: str) -> None:
    # Moved into the future, the entry would vanish from the log while its new content went
    # out on the change feed, to webhooks and in its round-robin.
    created = post(client, admin, ndjson(entry_document()))
    assert created.status_code == 200, created.text
    entry_id = client.get("/v1/disclosure-log").json()["items"][0]["id"]
    feed = client.get("/v1/changes").json()["items"]
    later = (utcnow() + timedelta(days=30)).isoformat()
    hidden = entry_document(title="Secret new title", published_at=later)
    refused = post(client, admin, ndjson(hidden))
    assert refused.status_code == 422
    assert refused.json()["rule"] == "entry-published"
    assert refused.json()["errors"][0]["loc"] == ["line", 1, "published_at"]
    shown = client.get(f"/v1/disclosure-log/{entry_id}")
    assert (shown.status_code, shown.json()["title"]) == (200, entry_document()["title"])
    assert client.get("/v1/changes").json()["items"] == feed
    # One not yet public may be moved to another day, as its source moved it.
    scheduled = entry_document(reference="LATER/1", published_at=later)
    assert post(client, admin, ndjson(scheduled)).status_code == 200
    sooner = (utcnow() + timedelta(days=2)).isoformat()
    moved = post(client, admin, ndjson({**scheduled, "published_at": sooner}))
    assert (moved.status_code, moved.json()["updated"]) == (200, 1)


def test_an_import_line_without_a_response_is_refused(client: TestClient, admin: str) -> None:
    # As publishing through the API is: an entry is the force's answer (SPEC §1).
    refused = post(client, admin, ndjson(entry_document(responses=[])))
    assert refused.status_code == 422
    assert (refused.json()["rule"], refused.json()["errors"][0]["loc"]) == (
        "publish-unanswered",
        ["line", 1, "responses"],
    )
    assert counts() == (0, 0, 0, 0)


def test_an_import_line_for_a_request_its_requester_withdrew_is_refused(
    client: TestClient, admin: str
) -> None:
    # As a response or a publication through the API is: there is no answer to publish.
    created = client.post("/v1/requests", json=hertfordshire_request_body(), headers=auth(admin))
    assert created.status_code == 201, created.text
    url = f"/v1/requests/{created.json()['id']}"
    withdrawn = client.patch(url, json={"status": "withdrawn"}, headers=auth(admin))
    assert withdrawn.status_code == 200, withdrawn.text
    refused = post(client, admin, ndjson(entry_document()))
    assert refused.status_code == 422, refused.text
    assert (refused.json()["rule"], refused.json()["errors"][0]["loc"]) == (
        "request-withdrawn",
        ["line", 1, "reference"],
    )
    request = client.get(url, headers=auth(admin)).json()
    assert (request["status"], request["responses"]) == ("withdrawn", [])
    assert counts()[1:3] == (0, 0)


def test_a_reference_repeated_in_one_file_is_updated_in_order(session: Session) -> None:
    first = entry_document(title="First version", topics=["cctv"])
    fresh = [entry_document(reference=f"N-{n}", topics=[f"new-topic-{n}"]) for n in range(3)]
    second = entry_document(reference="FOI 2018/02892", title="Second version")
    lines = [orjson.dumps(d) for d in (first, *fresh, second)]
    result = import_entries(session, lines, actor=SYSTEM)
    assert (result.created, result.updated) == (4, 1)
    assert stored_document(1)["title"] == "Second version"
    assert stored_document(1)["reference"] == "FOI 2018/02892"
    assert [doc_id for doc_id, _ in change_feed()] == [1, 2, 3, 4, 1]
    assert [stored_document(n)["topics"] for n in (2, 3, 4)] == [
        ["new-topic-0"],
        ["new-topic-1"],
        ["new-topic-2"],
    ]


def test_a_large_import_refreshes_the_planners_statistics_and_the_visibility_map(
    session: Session, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.imports import service

    monkeypatch.setattr(service, "LARGE", 2)
    lines = [orjson.dumps(entry_document(reference=f"FOI-{n}")) for n in range(2)]
    result = import_entries(session, lines, actor=Actor.system("test"))
    assert result.created == 2
    if database_url.startswith("postgresql"):
        analysed = session.execute(
            text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = 'disclosure_entry'")
        ).scalar_one()
        assert analysed is not None
        # Analysed once the entries were linked: the band keys they stored are counted.
        bands = session.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'round_robin_band'")
        ).scalar_one()
        assert bands == 2 * similarity.BANDS
        # Vacuumed too: every page all-visible, so index-only scans read nothing of the table.
        pages, visible = session.execute(
            text("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'disclosure_entry'")
        ).one()
        assert pages > 0
        assert visible == pages


def test_a_stalled_upload_holds_nothing_others_need(session: Session) -> None:
    """An editor sends one line of an import, chunked, then nothing: other forces' writes and
    the public reads go on as if it were not there, and the import writes nothing."""
    herts = make_key(session, Role.EDITOR, forces=["hertfordshire"])
    met = make_key(session, Role.EDITOR, forces=["metropolitan"])
    line = orjson.dumps(entry_document()) + b"\n"
    with serve_in_thread() as url:
        host, port = url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port))) as stalled:
            stalled.sendall(
                b"POST /v1/import HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
                + b"Authorization: Bearer "
                + herts.encode()
                + b"\r\nTransfer-Encoding: chunked\r\n\r\n"
                + f"{len(line):x}\r\n".encode()
                + line
                + b"\r\n"
            )
            time.sleep(0.5)  # the line is in; the rest never comes
            with httpx.Client(base_url=url, timeout=30) as client:
                started = time.monotonic()
                body = hertfordshire_request_body(force="metropolitan", reference="MET-1")
                created = client.post("/v1/requests", json=body, headers=auth(met))
                assert created.status_code == 201, created.text
                assert client.get("/v1/disclosure-log").status_code == 200
                assert time.monotonic() - started < 3
    census.fault("stalled import", lost=1 - counts()[0])
    assert counts()[:3] == (1, 0, 0)


NOT_TEXT_CHARACTERS = [
    *(chr(c) for c in range(0x20) if chr(c) not in "\t\n\r"),
    *(chr(c) for c in range(0xD800, 0xE000, 0x7F)),
    "\udfff",
    "\ufffe",
    "\uffff",
]


@pytest.mark.parametrize("character", NOT_TEXT_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_way_json_writes_a_character_text_refuses_is_seen_in_the_raw_line(
    character: str,
) -> None:
    """A line the raw scan passes skips the per-field scan: the raw scan must catch every way
    a JSON text can spell each character the field scan refuses, escaped or as UTF-8."""
    assert not_text(character) is not None
    spellings = [json.dumps(character).encode(), f'"\\u{ord(character):04X}"'.encode()]
    if not "\ud800" <= character <= "\udfff":
        spellings += [json.dumps(character, ensure_ascii=False).encode(), orjson.dumps(character)]
    else:
        spellings.append(json.dumps(character, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    for spelling in spellings:
        assert may_hold_not_text(b'{"title": ' + spelling + b"}"), spelling


@pytest.mark.parametrize("byte", [c for c in range(0x20) if chr(c) not in "\t\n\r"])
def test_a_raw_control_byte_is_refused_though_the_raw_scan_passes_it(
    session: Session, byte: int
) -> None:
    line = orjson.dumps(entry_document(title="a b")).replace(b"a b", bytes([0x61, byte, 0x62]))
    assert not may_hold_not_text(line)
    with pytest.raises(InvalidInput) as refused:
        import_entries(session, [line], actor=SYSTEM)
    assert (refused.value.errors or [{}])[0]["loc"][:2] == ["line", 1]
    assert counts() == (0, 0, 0, 0)


def test_a_clean_line_skips_the_per_field_scan_and_a_suspect_one_is_scanned(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned: list[Any] = []
    original = inputs.clean_text

    def counting(value: Any) -> Any:
        scanned.append(value)
        return original(value)

    monkeypatch.setattr(entries_schemas, "clean_text", counting)
    clean = orjson.dumps(entry_document(reference="CLEAN-1", title="Café — 24/7 \\ “quotes”"))
    assert not may_hold_not_text(clean)
    import_entries(session, [clean], actor=SYSTEM)
    assert scanned == []
    suspect = orjson.dumps(entry_document(reference="SUSPECT-1", title="a\tb \u00e9"))
    suspect = suspect.replace("é".encode(), b"\\u00e9")
    import_entries(session, [suspect], actor=SYSTEM)
    assert "a\tb é" in scanned
    with pytest.raises(InvalidInput) as refused:
        import_entries(session, [suspect.replace(b"\\u00e9", b"\\u0007")], actor=SYSTEM)
    assert (refused.value.errors or [{}])[0]["loc"] == ["line", 1, "title"]


def test_a_response_an_import_drops_takes_its_attachments_audited(
    client: TestClient, admin: str
) -> None:
    # Removing a published attachment is audited (SPEC §10), however it goes.
    review = hertfordshire_response_body(kind="internal_review", responded_on="2018-07-20")
    document = entry_document(responses=[hertfordshire_response_body(), review])
    assert post(client, admin, ndjson(document)).status_code == 200
    with new_session() as session:
        response_id = session.exec(
            select(FoiResponse.id).where(col(FoiResponse.kind) == "internal_review")
        ).one()
    uploaded = client.post(
        f"/v1/responses/{response_id}/attachments",
        files={"file": ("review.txt", b"The review upheld the response.", "text/plain")},
        headers=auth(admin),
    )
    assert uploaded.status_code == 201, uploaded.text
    attachment_id = uploaded.json()["id"]
    dropped = post(client, admin, ndjson(entry_document()))
    assert dropped.status_code == 200, dropped.text
    assert client.get(f"/v1/attachments/{attachment_id}").status_code == 404
    with new_session() as session:
        events = session.exec(
            select(AuditEvent).where(col(AuditEvent.action) == "attachment.delete")
        ).all()
    assert [(e.entity_id, (e.before or {}).get("filename"), e.after) for e in events] == [
        (str(attachment_id), "review.txt", None)
    ]


def test_an_export_of_a_clarified_extended_retitled_entry_imports_unchanged(
    client: TestClient, admin: str
) -> None:
    # The document carries what moved the due date, so a mirror derives the same date and
    # verdict (it derived 2024-04-26 and "late" from the receipt alone); the line is the
    # entry's own, so importing it again changes nothing, the request's internal title kept.
    from factories import add_response, create_request, publish

    request = create_request(client, admin, received_on="2024-03-27", title="Internal title")
    dates = {"clarification_received_on": "2024-04-15", "extended_due_on": "2024-06-11"}
    patched = client.patch(
        f"/v1/requests/{request['id']}", json=dates, headers={**auth(admin), "If-Match": "*"}
    )
    assert patched.status_code == 200, patched.text
    add_response(client, admin, request["id"], responded_on="2024-06-03")
    source = publish(client, admin, request["id"], title="Public title")
    assert (source["due_on"], source["responded_within_deadline"]) == ("2024-05-14", True)
    exported = client.get("/v1/disclosure-log.ndjson").content
    feed = client.get("/v1/changes").json()["items"]
    again = post(client, admin, exported)
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 1}
    assert client.get("/v1/changes").json()["items"] == feed
    internal = client.get(f"/v1/requests/{request['id']}", headers=auth(admin)).json()
    assert internal["title"] == "Internal title"
    mirrored = {**orjson.loads(exported), "reference": "MIRROR/1"}
    assert post(client, admin, ndjson(mirrored)).json()["created"] == 1
    copy = client.get("/v1/disclosure-log", params={"reference": "MIRROR/1"}).json()["items"][0]
    for field in ("due_on", "responded_within_deadline", *dates):
        assert copy[field] == source[field], field


def test_an_import_line_is_not_received_in_the_future(client: TestClient, admin: str) -> None:
    tomorrow = (today() + timedelta(days=1)).isoformat()
    refused = post(client, admin, ndjson(entry_document(received_on=tomorrow)))
    assert refused.status_code == 422
    assert (refused.json()["rule"], refused.json()["errors"][0]["loc"]) == (
        "received-date",
        ["line", 1, "received_on"],
    )


def test_what_an_import_replaces_or_publishes_is_audited_entry_by_entry(
    client: TestClient, admin: str
) -> None:
    # SPEC §5: every write audited with its entity, before and after; an import's new entries
    # are counted in its own row, but an entry it rewrites or a request it publishes is not new.
    from factories import add_response, create_request

    assert post(client, admin, ndjson(entry_document())).status_code == 200
    recorded = create_request(client, admin, reference="API/1")
    add_response(client, admin, recorded["id"])
    retitled = entry_document(title="A new title")
    published = entry_document(reference="API/1", title="Published by import")
    assert post(client, admin, ndjson(retitled, published)).json()["updated"] == 2
    with new_session() as session:
        events = session.exec(
            select(AuditEvent)
            .where(col(AuditEvent.action).in_(["entry.update", "entry.publish"]))
            .order_by(col(AuditEvent.id))
        ).all()
    assert [e.action for e in events] == ["entry.update", "entry.publish"]
    assert {e.key_name for e in events} == {"admin-0"}
    update, publish = events
    assert (update.before or {})["title"] == entry_document()["title"]
    assert (update.after or {})["title"] == "A new title"
    assert (publish.before, (publish.after or {})["reference"]) == (None, "API/1")
