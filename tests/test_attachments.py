"""SPEC §10 attachments: upload with the type checked from the bytes, storage that a failed
write leaves empty, public serving by visibility, the entry document, search, privacy, the
change feed and the audit log."""

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import attachment_files as files
import orjson
import pytest
from factories import (
    REQUESTER,
    add_response,
    auth,
    change_feed,
    create_request,
    make_key,
    publish,
    stored_document,
)
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session, col

from app import documents
from app.attachments import service
from app.attachments.files import CHUNK, safe_filename
from app.config import get_settings
from app.db import new_session, utcnow
from app.errors import NotFound
from app.models import Attachment, AttachmentChunk, AuditEvent, DisclosureEntry, Role


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


@pytest.fixture
def answered(client: TestClient, admin: str) -> tuple[int, int]:
    """The Hertfordshire request with its response, unpublished: (request id, response id)."""
    request = create_request(client, admin)
    response = add_response(client, admin, request["id"])
    return request["id"], response["id"]


def upload(
    client: TestClient,
    key: str,
    response_id: int,
    name: str,
    data: bytes,
    content_type: str = "application/octet-stream",
    **params: Any,
) -> Any:
    return client.post(
        f"/v1/responses/{response_id}/attachments",
        files={"file": (name, data, content_type)},
        params=params,
        headers=auth(key),
    )


def uploaded(client: TestClient, key: str, response_id: int, name: str, data: bytes) -> Any:
    response = upload(client, key, response_id, name, data)
    assert response.status_code == 201, response.text
    return response.json()


def stored_counts() -> tuple[int, int]:
    with new_session() as session:
        attachments = session.scalar(select(func.count()).select_from(Attachment))
        chunks = session.scalar(select(func.count()).select_from(AttachmentChunk))
    return attachments or 0, chunks or 0


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


@pytest.mark.parametrize(("name", "data", "media_type"), files.EVERY_KIND)
def test_every_accepted_kind_uploads_and_is_served_as_sent(
    client: TestClient,
    admin: str,
    answered: tuple[int, int],
    name: str,
    data: bytes,
    media_type: str,
) -> None:
    request_id, response_id = answered
    created = uploaded(client, admin, response_id, name, data)
    assert created["media_type"] == media_type
    assert created["bytes"] == len(data)
    assert created["sha256"] == hashlib.sha256(data).hexdigest()
    assert created["filename"] == name
    publish(client, admin, request_id)
    served = client.get(f"/v1/attachments/{created['id']}")
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["content-type"].split(";")[0] == media_type
    if "content-encoding" not in served.headers:  # text may come gzipped
        assert served.headers["content-length"] == str(len(data))


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("annex.pdf", files.png(), "application/octet-stream"),  # a PNG named as a PDF
        ("annex.png", files.pdf(), "image/png"),
        ("notes.pdf", files.TXT, "application/pdf"),  # text claiming to be a PDF
        ("fleet.xlsx", files.docx_file(), "application/octet-stream"),  # DOCX named XLSX
        ("fleet.docx", files.docx_file(), "image/png"),  # the Content-Type disagrees
        ("slides.pptx", files.pptx(), "application/octet-stream"),  # not an accepted kind
        ("slides.zip", files.pptx(), "application/zip"),
        ("setup.exe", b"MZ\x90\x00" + b"\x00" * 60, "application/octet-stream"),
        ("page.html", b"<html><script>alert(1)</script></html>", "text/html"),
        ("anim.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "application/octet-stream"),
        ("notes.txt", "caf\xe9 au lait".encode("latin-1"), "text/plain"),  # not UTF-8
        ("notes.txt", b"a line\x00with a NUL\n", "text/plain"),
        ("notes.txt", b"\x1b[31mred\x1b[0m\n", "text/plain"),  # control characters
    ],
)
def test_a_file_whose_bytes_are_not_what_it_claims_is_415(
    client: TestClient,
    admin: str,
    answered: tuple[int, int],
    name: str,
    data: bytes,
    content_type: str,
) -> None:
    body = problem(upload(client, admin, answered[1], name, data, content_type), 415)
    assert body["title"] == "Unsupported media type"
    assert stored_counts() == (0, 0)


def test_the_content_type_may_be_generic_and_the_name_may_lack_an_extension(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    created = uploaded(client, admin, answered[1], "Annex A", files.pdf())
    assert created["filename"] == "Annex A.pdf"
    as_excel = upload(
        client, admin, answered[1], "fleet.csv", files.CSV, "application/vnd.ms-excel"
    )
    assert as_excel.status_code == 201
    assert as_excel.json()["media_type"] == "text/csv"


def test_a_file_name_is_cut_to_its_last_part_without_control_characters(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    created = uploaded(
        client, admin, answered[1], "..\\..\\etc/pass\u202ewd\u200b x.pdf", files.pdf()
    )
    assert created["filename"] == "pass wd x.pdf"
    assert safe_filename("a\x07b\r\nc .pdf") == "a b c .pdf"
    assert safe_filename("../" + "n" * 300 + ".pdf") == "n" * 196 + ".pdf"


@pytest.mark.parametrize(
    ("name", "data", "what"),
    [
        ("empty.pdf", b"", "empty"),
        ("cut.pdf", files.pdf()[:200], "PDF"),
        ("cut.docx", files.docx_file()[:5000], "corrupt"),
        ("broken.png", files.png()[:-5] + b"\x00\x00\x00\x00\x00", "PNG"),
        ("cut.png", files.png()[:30], "PNG"),
        ("cut.jpg", files.jpeg()[:-2], "JPEG"),
    ],
)
def test_an_empty_or_corrupt_file_is_422(
    client: TestClient, admin: str, answered: tuple[int, int], name: str, data: bytes, what: str
) -> None:
    body = problem(upload(client, admin, answered[1], name, data), 422)
    assert what in body["detail"]
    assert body["errors"][0]["loc"] == ["body", "file"]
    assert stored_counts() == (0, 0)


@pytest.fixture
def limit_of_4k(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setenv("FOILOG_MAX_ATTACHMENT_BYTES", "4096")
    get_settings.cache_clear()
    yield 4096
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_file_past_the_limit_is_413(
    client: TestClient, admin: str, answered: tuple[int, int], limit_of_4k: int
) -> None:
    just_over = ("x" * 60 + "\n").encode() * (limit_of_4k // 61 + 1)
    assert limit_of_4k < len(just_over) < limit_of_4k + 1024
    body = problem(upload(client, admin, answered[1], "notes.txt", just_over), 413)
    assert "4096" in body["detail"]
    huge = problem(upload(client, admin, answered[1], "notes.txt", b"x\n" * 100_000), 413)
    assert "4096" in huge["detail"]
    assert upload(client, admin, answered[1], "notes.txt", just_over[:4000]).status_code == 201


def test_attachments_are_not_held_to_the_json_body_limit(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    big = ("y" * 99 + "\n").encode() * 20_000  # 2 MB, twice FOILOG_MAX_BODY_BYTES
    assert len(big) > get_settings().max_body_bytes
    assert uploaded(client, admin, answered[1], "big.txt", big)["bytes"] == len(big)


def test_a_failed_upload_leaves_nothing_behind(
    client: TestClient, admin: str, answered: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.attachments.files.CHUNK", 1024)
    monkeypatch.setattr("app.attachments.service.CHUNK", 1024)
    written = []
    real = service._write_bytes

    def fails_midway(session: Session, attachment_id: int, file: Any) -> None:
        real(session, attachment_id, file)
        count = session.scalar(
            select(func.count())
            .select_from(AttachmentChunk)
            .where(
                AttachmentChunk.attachment_id == attachment_id  # type: ignore[arg-type]
            )
        )
        written.append(count)
        raise OSError("the disk filled up")

    monkeypatch.setattr(service, "_write_bytes", fails_midway)
    big = b"z" * 5000 + b"\n"
    assert upload(client, admin, answered[1], "notes.txt", big).status_code == 500
    assert written == [5]  # chunks had been written in the transaction...
    assert stored_counts() == (0, 0)  # ...and went with it
    with new_session() as session:
        actions = session.scalars(select(col(AuditEvent.action))).all()
    assert "attachment.create" not in actions


def test_the_entry_document_lists_attachments_with_their_paths(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    first = uploaded(client, admin, response_id, "annex-a.pdf", files.pdf())
    second = uploaded(client, admin, response_id, "photo.png", files.png())
    entry = publish(client, admin, request_id)
    assert entry["attachments"] == [
        {
            "id": a["id"],
            "response": 0,
            "filename": a["filename"],
            "media_type": a["media_type"],
            "bytes": a["bytes"],
            "sha256": a["sha256"],
            "url": f"/v1/attachments/{a['id']}",
        }
        for a in (first, second)
    ]
    assert (
        client.get(f"/v1/disclosure-log/{entry['id']}").json()["attachments"]
        == (entry["attachments"])
    )


def test_attachments_are_public_only_while_the_entry_is(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    created = uploaded(client, admin, response_id, "annex-a.pdf", files.pdf())
    url = f"/v1/attachments/{created['id']}"
    problem(client.get(url), 404)  # unpublished
    missing = problem(client.get("/v1/attachments/999999"), 404)
    entry = publish(
        client, admin, request_id, publish_at=(utcnow() + timedelta(days=1)).isoformat()
    )
    problem(client.get(url), 404)  # scheduled
    with new_session(write=True) as session:
        stored = session.get_one(DisclosureEntry, entry["id"])
        stored.published_at = utcnow() - timedelta(seconds=1)
        session.commit()
    assert client.get(url).status_code == 200
    withdrawn = client.post(
        f"/v1/disclosure-log/{entry['id']}/withdraw", json={"reason": "error"}, headers=auth(admin)
    )
    assert withdrawn.status_code == 200
    problem(client.get(url), 410)
    assert missing["title"] == "Not found"


def test_downloads_carry_etag_and_safe_headers(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    image = uploaded(client, admin, response_id, "Überwachung «1».png", files.png())
    sheet = uploaded(client, admin, response_id, "fleet.xlsx", files.xlsx())
    pdf = uploaded(client, admin, response_id, "annex.pdf", files.pdf())
    publish(client, admin, request_id)

    served = client.get(f"/v1/attachments/{image['id']}")
    assert served.headers["etag"] == f'"{image["sha256"]}"'
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert "default-src 'none'" in served.headers["content-security-policy"]
    assert served.headers["content-disposition"] == (
        'inline; filename="_berwachung _1_.png"; '
        "filename*=UTF-8''%C3%9Cberwachung%20%C2%AB1%C2%BB.png"
    )
    assert served.headers["cache-control"].startswith("public, max-age=")
    again = client.get(
        f"/v1/attachments/{image['id']}", headers={"If-None-Match": served.headers["etag"]}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == served.headers["etag"]
    other = client.get(f"/v1/attachments/{image['id']}", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200

    download = client.get(f"/v1/attachments/{sheet['id']}", headers={"Accept-Encoding": "gzip"})
    assert download.headers["content-disposition"].startswith('attachment; filename="fleet.xlsx"')
    assert "content-encoding" not in download.headers
    viewed = client.get(f"/v1/attachments/{pdf['id']}")
    assert viewed.headers["content-disposition"].startswith("inline;")
    assert "default-src 'none'" in viewed.headers["content-security-policy"]


def test_a_download_streams_chunk_by_chunk(
    client: TestClient, admin: str, answered: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("app.attachments.service.CHUNK", 1000)
    data = b"".join(f"line {n}\n".encode() for n in range(2000))
    created = uploaded(client, admin, answered[1], "lines.txt", data)
    with new_session() as session:
        chunks = session.scalar(select(func.count()).select_from(AttachmentChunk))
    assert chunks == -(-len(data) // 1000)
    publish(client, admin, answered[0])
    with client.stream("GET", f"/v1/attachments/{created['id']}") as response:
        assert b"".join(response.iter_bytes()) == data


def test_text_inside_pdf_and_docx_is_searchable(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    uploaded(client, admin, response_id, "a.pdf", files.pdf("Armoured Landrover inventory"))
    uploaded(client, admin, response_id, "b.docx", files.docx_file("Helicopter maintenance log"))
    entry = publish(client, admin, request_id)
    for word in ("landrover", "helicopter"):
        hits = client.get("/v1/disclosure-log", params={"q": word}).json()["items"]
        assert [hit["id"] for hit in hits] == [entry["id"]]
    assert client.get("/v1/disclosure-log", params={"q": "zeppelin"}).json()["items"] == []


def test_the_content_of_text_and_csv_files_is_searched_and_checked(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    uploaded(client, admin, response_id, "fleet.csv", b"vehicle,count\r\nquadbike,12\r\n")
    uploaded(client, admin, response_id, "notes.txt", "\ufeffNotes on the hovercraft\n".encode())
    named = f"Contact,{REQUESTER['email']}\r\n".encode()
    uploaded(client, admin, response_id, "contacts.csv", named)
    refused = problem(
        client.post("/v1/disclosure-log", json={"request_id": request_id}, headers=auth(admin)),
        422,
    )
    assert [error["loc"] for error in refused["errors"]] == [["attachments", 2]]
    entry = publish(client, admin, request_id, acknowledge_privacy_warning=True)
    for word in ("quadbike", "hovercraft"):
        hits = client.get("/v1/disclosure-log", params={"q": word}).json()["items"]
        assert [hit["id"] for hit in hits] == [entry["id"]]
    letter = f"Dear {REQUESTER['name']},\nthe figures are attached.\n".encode()
    late = problem(upload(client, admin, response_id, "letter.txt", letter), 422)
    assert late["errors"][0]["loc"] == ["body", "file"]
    assert len(stored_document(entry["id"])["attachments"]) == 3


def test_the_text_of_spreadsheets_and_opendocuments_is_searched_and_checked(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    uploaded(client, admin, response_id, "fleet.xlsx", files.xlsx("Amphibious", "Snowmobile"))
    uploaded(client, admin, response_id, "notes.odt", files.odt("Hovercraft maintenance"))
    uploaded(client, admin, response_id, "names.ods", files.ods(f"Dear {REQUESTER['name']}"))
    refused = problem(
        client.post("/v1/disclosure-log", json={"request_id": request_id}, headers=auth(admin)),
        422,
    )
    assert [error["loc"] for error in refused["errors"]] == [["attachments", 2]]
    entry = publish(client, admin, request_id, acknowledge_privacy_warning=True)
    for word in ("amphibious", "snowmobile", "hovercraft"):
        hits = client.get("/v1/disclosure-log", params={"q": word}).json()["items"]
        assert [hit["id"] for hit in hits] == [entry["id"]], word
    for name, data in (
        ("late.xlsx", files.xlsx(inline=REQUESTER["email"])),
        ("late.odt", files.odt(REQUESTER["name"])),
    ):
        late = problem(upload(client, admin, response_id, name, data), 422)
        assert late["errors"][0]["loc"] == ["body", "file"]


def test_a_spreadsheet_is_read_with_its_internal_entities_and_none_fetched(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    hidden = f'<!DOCTYPE worksheet [<!ENTITY who "{REQUESTER["name"]}">]>'
    named = files.xlsx(inline="Dear &who;", prolog=hidden)
    created = uploaded(client, admin, answered[1], "hidden.xlsx", named)
    with new_session() as session:
        stored = session.get(Attachment, created["id"])
        assert stored is not None
        assert stored.text == f"Dear {REQUESTER['name']}\nFleet"  # the cell, the sheet's name
    assert client.delete(f"/v1/attachments/{created['id']}", headers=auth(admin)).status_code == 204
    fetched = '<!DOCTYPE worksheet [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
    for name, data in (
        ("fetched.xlsx", files.xlsx(inline="&x;", prolog=fetched)),
        ("broken.xlsx", files.xlsx("<unclosed")),
    ):
        body = problem(upload(client, admin, answered[1], name, data), 422)
        assert "the XLSX is damaged" in body["detail"], name
    # A billion laughs: nine levels of ten "lol"s, refused before any is expanded.
    laughs = '<!DOCTYPE worksheet [<!ENTITY a "lol">'
    laughs += "".join(
        f'<!ENTITY {n} "{("&" + p + ";") * 10}">'
        for p, n in zip("abcdefgh", "bcdefghi", strict=True)
    )
    bomb = files.xlsx(inline="&i;", prolog=laughs + "]>")
    problem(upload(client, admin, answered[1], "bomb.xlsx", bomb), 422)
    assert stored_counts() == (0, 0)


def test_a_text_file_past_the_text_limit_is_413(
    client: TestClient, admin: str, answered: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_TEXT_CHARS", 50)
    body = problem(upload(client, admin, answered[1], "notes.txt", b"a line of text\n" * 4), 413)
    assert "text file holds more than 50 characters" in body["detail"]
    problem(upload(client, admin, answered[1], "rows.csv", "é,ü\n".encode() * 100), 413)
    assert stored_counts() == (0, 0)


def test_publishing_an_attachment_that_names_the_requester_is_refused(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    uploaded(client, admin, response_id, "clean.pdf", files.pdf("Nothing personal here"))
    letter = files.pdf(f"Dear {REQUESTER['name']}, please find the figures")
    uploaded(client, admin, response_id, "letter.pdf", letter)
    refused = client.post(
        "/v1/disclosure-log", json={"request_id": request_id}, headers=auth(admin)
    )
    body = problem(refused, 422)
    assert body["rule"] == "privacy-requester-named"
    assert [error["loc"] for error in body["errors"]] == [["attachments", 1]]
    assert "attachments.1" in body["detail"]
    assert client.get("/v1/disclosure-log").json()["items"] == []

    entry = publish(client, admin, request_id, acknowledge_privacy_warning=True)
    with new_session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "entry.publish")  # type: ignore[arg-type]
        ).one()
    assert event.after is not None
    assert event.after["privacy_warning_acknowledged"] == [["attachments", 1]]

    named = files.docx_file(f"Reply to {REQUESTER['email']}")
    late = problem(upload(client, admin, response_id, "reply.docx", named), 422)
    assert late["errors"][0]["loc"] == ["body", "file"]
    by_name = upload(client, admin, response_id, "Jane Marlow reply.txt", files.TXT)
    problem(by_name, 422)
    assert len(stored_document(entry["id"])["attachments"]) == 2
    acknowledged = upload(
        client, admin, response_id, "reply.docx", named, acknowledge_privacy_warning="true"
    )
    assert acknowledged.status_code == 201


def test_adding_and_removing_on_a_published_entry_is_a_change_and_audited(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    draft = uploaded(client, admin, response_id, "draft.txt", files.TXT)
    assert client.delete(f"/v1/attachments/{draft['id']}", headers=auth(admin)).status_code == 204
    assert change_feed() == []  # unpublished: nothing to announce
    entry = publish(client, admin, request_id)
    added = uploaded(client, admin, response_id, "annex.pdf", files.pdf())
    assert [a["id"] for a in stored_document(entry["id"])["attachments"]] == [added["id"]]
    removed = client.delete(f"/v1/attachments/{added['id']}", headers=auth(admin))
    assert removed.status_code == 204
    assert stored_document(entry["id"])["attachments"] == []
    assert stored_counts() == (0, 0)
    assert change_feed() == [
        (entry["id"], "published"),
        (entry["id"], "updated"),
        (entry["id"], "updated"),
    ]
    feed = client.get("/v1/changes").json()["items"]
    assert [item["change"] for item in feed] == ["published", "updated", "updated"]
    problem(client.get(f"/v1/attachments/{added['id']}"), 404)
    problem(client.delete(f"/v1/attachments/{added['id']}", headers=auth(admin)), 404)

    with new_session() as session:
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity_type == "attachment"  # type: ignore[arg-type]
            )
        ).all()
    assert [(e.action, e.entity_id) for e in events] == [
        ("attachment.create", str(draft["id"])),
        ("attachment.delete", str(draft["id"])),
        ("attachment.create", str(added["id"])),
        ("attachment.delete", str(added["id"])),
    ]
    assert events[2].after is not None
    assert events[2].after["sha256"] == added["sha256"]
    assert events[3].before is not None
    assert events[3].after is None


def test_a_withdrawn_entry_takes_no_attachment_changes(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    kept = uploaded(client, admin, response_id, "annex.pdf", files.pdf())
    entry = publish(client, admin, request_id)
    client.post(
        f"/v1/disclosure-log/{entry['id']}/withdraw", json={"reason": "error"}, headers=auth(admin)
    )
    problem(upload(client, admin, response_id, "more.txt", files.TXT), 410)
    problem(client.delete(f"/v1/attachments/{kept['id']}", headers=auth(admin)), 410)


def test_another_forces_attachments_are_403_and_missing_ones_404(
    client: TestClient, session: Session, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    own = uploaded(client, admin, response_id, "annex.pdf", files.pdf())
    editor = make_key(session, Role.EDITOR, forces=["metropolitan"])
    theirs = problem(upload(client, editor, response_id, "x.txt", files.TXT), 403)
    assert "hertfordshire" not in theirs["detail"]
    problem(upload(client, editor, 999999, "x.txt", files.TXT), 404)
    problem(client.delete(f"/v1/attachments/{own['id']}", headers=auth(editor)), 403)
    problem(client.delete("/v1/attachments/999999", headers=auth(editor)), 404)
    listed = client.get(
        "/v1/attachments",
        params={"force": "hertfordshire", "reference": "FOI2018/02892"},
        headers=auth(editor),
    )
    problem(listed, 403)
    mine = client.get(
        "/v1/attachments",
        params={"force": "metropolitan", "reference": "FOI2018/02892"},
        headers=auth(editor),
    )
    problem(mine, 404)
    assert stored_counts()[0] == 1
    herts = make_key(session, Role.EDITOR, forces=["hertfordshire"])
    assert upload(client, herts, response_id, "x.txt", files.TXT).status_code == 201
    problem(upload(client, "not-a-key", response_id, "x.txt", files.TXT), 401)
    assert request_id


def test_a_request_lists_its_attachments_by_response(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    created = uploaded(client, admin, response_id, "annex.pdf", files.pdf())
    listed = client.get(
        "/v1/attachments",
        params={"force": "hertfordshire", "reference": "foi 2018/02892"},
        headers=auth(admin),
    )
    assert listed.status_code == 200
    assert listed.headers["cache-control"] == "no-store"
    body = listed.json()
    assert body["request_id"] == request_id
    [response] = body["responses"]
    assert response["id"] == response_id
    assert [a["id"] for a in response["attachments"]] == [created["id"]]


def test_exports_list_attachments_by_url_and_sha256(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    pdf = uploaded(client, admin, response_id, "annex.pdf", files.pdf())
    png = uploaded(client, admin, response_id, "photo.png", files.png())
    publish(client, admin, request_id)
    [line] = client.get("/v1/disclosure-log.ndjson").content.splitlines()
    listed = orjson.loads(line)["attachments"]
    assert [(a["url"], a["sha256"]) for a in listed] == [
        (pdf["url"], pdf["sha256"]),
        (png["url"], png["sha256"]),
    ]
    [row] = list(csv.DictReader(io.StringIO(client.get("/v1/disclosure-log.csv").text)))
    base = "http://testserver"  # the address reached, FOILOG_BASE_URL being unset
    assert row["attachment_urls"] == f"{base}{pdf['url']};{base}{png['url']}"
    assert row["attachment_sha256s"] == f"{pdf['sha256']};{png['sha256']}"


def test_a_reimport_keeps_the_attachments_and_ignores_the_listed_ones(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    created = uploaded(client, admin, response_id, "annex.pdf", files.pdf())
    entry = publish(client, admin, request_id)
    document = orjson.loads(client.get("/v1/disclosure-log.ndjson").content)
    document["attachments"].append({**document["attachments"][0], "id": 424242})
    document["title"] = "Facial recognition (corrected)"
    imported = client.post(
        "/v1/import",
        content=orjson.dumps(document) + b"\n",
        headers={**auth(admin), "Content-Type": "application/x-ndjson"},
    )
    assert imported.status_code == 200, imported.text
    after = stored_document(entry["id"])
    assert after["title"] == "Facial recognition (corrected)"
    assert [a["id"] for a in after["attachments"]] == [created["id"]]
    assert client.get(f"/v1/attachments/{created['id']}").status_code == 200


def test_publishing_by_import_checks_the_attachments_too(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    letter = files.pdf(f"Dear {REQUESTER['name']}, please find the figures")
    uploaded(client, admin, response_id, "letter.pdf", letter)
    request = client.get(f"/v1/requests/{request_id}", headers=auth(admin)).json()
    internal = ("id", "request_id", "created_at", "updated_at", "version")
    document = {
        "force": "hertfordshire",
        "reference": "FOI2018/02892",
        "title": "Facial image database and facial recognition",
        "received_on": "2018-05-29",
        "request": {"text": request["text"], "questions": request["questions"]},
        "responses": [
            {k: v for k, v in response.items() if k not in internal}
            for response in request["responses"]
        ],
    }
    imported = client.post(
        "/v1/import",
        content=orjson.dumps(document) + b"\n",
        headers={**auth(admin), "Content-Type": "application/x-ndjson"},
    )
    body = problem(imported, 422)
    assert body["rule"] == "privacy-requester-named"
    assert "attachments.0" in body["detail"]
    assert client.get("/v1/disclosure-log").json()["items"] == []


def test_a_removed_attachments_id_names_nothing_again(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    """A mirror keeps `/v1/attachments/{id}`: once removed, that address never serves another
    file (SQLite gave the next upload the removed last row's id)."""
    _, response_id = answered
    removed = uploaded(client, admin, response_id, "first.txt", files.TXT)
    assert client.delete(f"/v1/attachments/{removed['id']}", headers=auth(admin)).status_code == 204
    other = uploaded(client, admin, response_id, "second.txt", b"Another file.\n")
    assert other["id"] > removed["id"]


def test_a_small_text_is_sent_as_it_is_and_a_large_one_gzipped(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    small = uploaded(client, admin, response_id, "small.txt", b"seventeen bytes!\n")
    large = uploaded(client, admin, response_id, "large.txt", b"A line of the log.\n" * 200)
    publish(client, admin, request_id)
    gzip = {"Accept-Encoding": "gzip"}
    plain = client.get(f"/v1/attachments/{small['id']}", headers=gzip)
    assert "content-encoding" not in plain.headers
    assert plain.headers["etag"] == f'"{small["sha256"]}"'
    assert plain.headers["content-length"] == "17"
    packed = client.get(f"/v1/attachments/{large['id']}", headers=gzip)
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.content == b"A line of the log.\n" * 200


def test_a_file_removed_while_it_is_fetched_is_a_404_not_a_short_body(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    request_id, response_id = answered
    created = uploaded(client, admin, response_id, "gone.txt", files.TXT)
    publish(client, admin, request_id)
    found = service.find_public(created["id"], utcnow())
    assert client.delete(f"/v1/attachments/{created['id']}", headers=auth(admin)).status_code == 204
    with pytest.raises(NotFound):
        service.whole(found)


def test_a_file_removed_while_it_is_sent_ends_the_download_cut_short(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    """Past its first chunk a download has begun: a removal then must break the transfer, not
    end it as if the file were whole and shorter."""
    request_id, response_id = answered
    data = b"A line of the annex.\n" * (CHUNK // 8)  # 2.6 MiB: three chunks
    created = uploaded(client, admin, response_id, "annex.txt", data)
    publish(client, admin, request_id)
    before = service.stream(service.find_public(created["id"], utcnow()))
    assert b"".join(before) == data
    chunks = service.stream(service.find_public(created["id"], utcnow()))
    assert next(chunks) == data[:CHUNK]
    assert client.delete(f"/v1/attachments/{created['id']}", headers=auth(admin)).status_code == 204
    with pytest.raises(service.Removed, match=f"after {CHUNK} of {len(data)} bytes"):
        list(chunks)


def test_a_removal_with_if_match_goes_ahead_only_for_those_bytes(
    client: TestClient, admin: str, answered: tuple[int, int]
) -> None:
    # The tag is the download's ETag: a caller that read other bytes is told, not obeyed.
    _, response_id = answered
    created = uploaded(client, admin, response_id, "a.txt", b"The annex, first version.")
    url = f"/v1/attachments/{created['id']}"
    stale = client.delete(url, headers={**auth(admin), "If-Match": '"0000"'})
    problem(stale, 412)
    assert stored_counts() == (1, 1)
    current = client.delete(url, headers={**auth(admin), "If-Match": f'"{created["sha256"]}"'})
    assert current.status_code == 204, current.text
    assert stored_counts() == (0, 0)
