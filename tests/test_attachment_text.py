"""SPEC §6 and §10: the privacy check reads every text a reader of an attachment can find, not
only its body or its pages' text; reading a document is bounded in time and memory whatever
it holds; an upload holds one file."""

import io
import tracemalloc
import zipfile
from collections.abc import Callable
from typing import Any

import attachment_files as files
import pytest
from factories import REQUESTER, add_response, auth, create_request, make_key, publish
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app import documents
from app.attachments.files import inspect
from app.db import new_session
from app.errors import PayloadTooLarge
from app.models import Attachment

Build = Callable[[str], bytes]
HIDDEN: list[tuple[str, str, Build]] = [
    *((f"DOCX {place}", "annex.docx", build) for place, build in files.DOCX_PLACES.items()),
    *((place, name, build) for place, (name, build) in files.OFFICE_PLACES.items()),
    *((f"PDF {place}", "annex.pdf", build) for place, build in files.PDF_PLACES.items()),
]


@pytest.fixture
def admin(session: Session) -> str:
    return make_key(session)


@pytest.fixture
def published(client: TestClient, admin: str) -> int:
    """The response of a published entry: what is attached to it is checked at once."""
    request = create_request(client, admin)
    response = add_response(client, admin, request["id"])
    publish(client, admin, request["id"])
    return int(response["id"])


def upload(client: TestClient, key: str, response_id: int, name: str, data: bytes) -> Any:
    return client.post(
        f"/v1/responses/{response_id}/attachments",
        files={"file": (name, data, "application/octet-stream")},
        headers=auth(key),
    )


def attachments() -> int:
    with new_session() as session:
        return session.scalar(select(func.count()).select_from(Attachment)) or 0


@pytest.mark.parametrize(("place", "name", "build"), HIDDEN, ids=[p for p, _, _ in HIDDEN])
def test_a_requester_named_wherever_a_reader_finds_text_is_refused(
    client: TestClient, admin: str, published: int, place: str, name: str, build: Build
) -> None:
    harmless = upload(client, admin, published, name, build("Figures for the fleet"))
    assert harmless.status_code == 201, harmless.text
    named = upload(client, admin, published, name, build(REQUESTER["name"]))
    assert named.status_code == 422, f"{place}: {named.text}"
    assert named.json()["rule"] == "privacy-requester-named"
    assert named.json()["errors"][0]["loc"] == ["body", "file"]
    assert attachments() == 1


def test_the_body_comes_first_and_layout_is_not_read(client: TestClient, admin: str) -> None:
    """Search indexes an attachment's text from its start: the body first; and neither style
    and font names nor the writing program's properties, which every file has, are read."""
    request = create_request(client, admin)
    response = add_response(client, admin, request["id"])
    data = files.DOCX_PLACES["footer"]("Quadbike servicing")
    assert upload(client, admin, response["id"], "annex.docx", data).status_code == 201
    entry = publish(client, admin, request["id"])
    with new_session() as session:
        text = session.scalars(select(Attachment.text)).one()  # type: ignore[call-overload]
    assert text.startswith("Annex B: the policy\n")
    for word in ("quadbike", "policy"):
        hits = client.get("/v1/disclosure-log", params={"q": word}).json()["items"]
        assert [hit["id"] for hit in hits] == [entry["id"]], word
    for word in ("calibri", "macintosh", "grid"):
        assert client.get("/v1/disclosure-log", params={"q": word}).json()["items"] == [], word


def test_a_letter_is_drafted_from_its_body_only() -> None:
    """A letter's body: insertions read, deletions and field codes not, and nothing outside."""
    for place, first in (("tracked insertion", "Inserted words"), ("tracked deletion", "")):
        data = files.DOCX_PLACES[place]("Inserted words")
        assert documents.docx_text(io.BytesIO(data), loc=()) == f"{first}\nAnnex B: the policy"
    for place in ("header", "core properties", "tracked deletion", "field code"):
        data = files.DOCX_PLACES[place]("Quartermaine")
        assert "Quartermaine" not in documents.docx_text(io.BytesIO(data), loc=()), place
    for place in ("tracked insertion", "nested table", "content control", "text box"):
        data = files.DOCX_PLACES[place]("Quartermaine")
        assert "Quartermaine" in documents.docx_text(io.BytesIO(data), loc=()), place


def test_a_pdf_redacted_by_an_incremental_update_is_read_as_it_was_too() -> None:
    data = files.redacted_by_update("Sent to Zebedee Quartermaine")
    assert documents.pdf_text(io.BytesIO(data), loc=()) == "Annex A"
    assert documents.pdf_text(io.BytesIO(data), loc=(), everything=True) == (
        "Annex A\nSent to Zebedee Quartermaine"
    )


def test_a_pdf_of_more_revisions_than_the_limit_is_413(
    client: TestClient, admin: str, published: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(documents, "MAX_PDF_REVISIONS", 1, raising=False)
    body = upload(client, admin, published, "a.pdf", files.redacted_by_update("Annex"))
    assert body.status_code == 413, body.text
    assert "revisions" in body.json()["detail"]


# ---------------------------------------------------------------------------------------------
# Bounds


def _renamed_main_part(padding: int) -> tuple[bytes, int]:
    """A DOCX whose main part is `word/main.dat` (so named in its relationships, as Word
    allows), padded with white space; and the bytes of its parts named .xml or .rels."""
    data = files.docx_file()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    main = parts.pop("word/document.xml").replace(b"<w:body>", b"<w:body>" + b" " * padding)
    rels = parts.pop("word/_rels/document.xml.rels")
    changes: dict[str, str | bytes] = {
        "word/main.dat": main,
        "word/_rels/main.dat.rels": rels,
        "word/document.xml": b"<x/>",
        "_rels/.rels": parts["_rels/.rels"].replace(b"word/document.xml", b"word/main.dat"),
        "[Content_Types].xml": parts["[Content_Types].xml"].replace(
            b"/word/document.xml", b"/word/main.dat"
        ),
    }
    named = sum(len(c) for n, c in {**parts, **changes}.items() if n.endswith((".xml", ".rels")))
    return files.rezip(data, changes), named


def test_xml_counts_by_what_a_part_is_not_by_its_name(
    client: TestClient, admin: str, published: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    data, named = _renamed_main_part(padding=50_000)
    monkeypatch.setattr(documents, "MAX_XML_BYTES", named + 10_000)
    body = upload(client, admin, published, "annex.docx", data)
    assert body.status_code == 413, body.text
    assert f"XML unpacks to more than {named + 10_000} bytes" in body.json()["detail"]
    assert attachments() == 0


def test_a_docx_of_countless_empty_paragraphs_is_read_in_little_memory() -> None:
    """python-docx made an object of each paragraph: 10 MB of `<w:p/>` took 23 s and 600 MB."""
    data = files.docx_body("<w:p/>" * 300_000)
    tracemalloc.start()
    try:
        text = inspect(io.BytesIO(data), filename="a.docx", content_type=None, max_bytes=2**25).text
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text.startswith("\n" * 300_000 + "Annex B")
    assert peak < 20_000_000


def test_the_content_a_pdf_draws_is_counted_each_time_it_is_drawn(
    client: TestClient, session: Session, published: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A stream shared by pages, or a form drawn many times, is parsed each time: 7 KB of PDF
    drawing 4 MB of `() Tj` on each of 3 pages took 18 s to read."""
    key = make_key(session)
    monkeypatch.setattr(documents, "MAX_PDF_CONTENT_BYTES", 30_000, raising=False)
    page = b"BT /F1 12 Tf 72 720 Td (Annex) Tj ET\n" + b"() Tj\n" * 2_000
    assert upload(client, key, published, "a.pdf", files.drawing(page, pages=2)).status_code == 201
    shared = upload(client, key, published, "b.pdf", files.drawing(page, pages=3))
    form = files.drawing(b"/Fm Do\n" * 4, form=page)
    drawn = upload(client, key, published, "c.pdf", form)
    letter = client.post(
        "/v1/letters/extract",
        params={"force": "hertfordshire"},
        content=files.drawing(page, pages=3),
        headers={**auth(key), "Content-Type": "application/pdf"},
    )
    for refused in (shared, drawn, letter):
        assert refused.status_code == 413, refused.text
        assert "more than 30000 bytes of content" in refused.json()["detail"]


def test_the_operators_a_pdf_draws_with_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_PDF_OPERATIONS", 1_000, raising=False)
    form = b"BT /F1 12 Tf 72 720 Td (Annex) Tj ET\n" + b"() Tj\n" * 100
    few = files.drawing(b"/Fm Do\n" * 5, form=form)
    assert documents.pdf_text(io.BytesIO(few), loc=()).startswith("Annex")
    many = files.drawing(b"/Fm Do\n" * 20, form=form)
    with pytest.raises(PayloadTooLarge, match="more than 1000 operators"):
        documents.pdf_text(io.BytesIO(many), loc=())


def test_an_upload_of_two_files_is_refused_as_a_letter_of_two_is(
    client: TestClient, admin: str, published: int
) -> None:
    two = [
        ("file", ("a.txt", b"The first file.\n", "text/plain")),
        ("file", ("b.txt", b"The second file.\n", "text/plain")),
    ]
    response = client.post(f"/v1/responses/{published}/attachments", files=two, headers=auth(admin))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["loc"] == ["body", "file"]
    assert attachments() == 0
    letter = client.post(
        "/v1/letters/extract", params={"force": "hertfordshire"}, files=two, headers=auth(admin)
    )
    assert letter.status_code == 422
