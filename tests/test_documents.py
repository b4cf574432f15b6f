"""PDF and DOCX text: one reader (app.documents) for attachments and letters, so both read the
same text and refuse an unreadable, encrypted or oversized file with the same 4xx problem."""

import io
import zipfile
from collections.abc import Callable
from importlib import resources
from typing import Any

import attachment_files as files
import pytest
from factories import add_response, auth, create_request, make_key
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlmodel import Session, col

from app import documents
from app.db import new_session
from app.letters import service as letters
from app.models import Attachment

Send = Callable[[bytes], Any]
SEEDS = resources.files("app.letters") / "seeds"
# What the core PDF fonts cannot draw, as a typewriter would write it.
LATIN1 = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
    | {"\u2026": "..."}
)


def _pdf(*pages: str, password: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF(orientation="landscape", format="A3")  # a seed letter's longest line unwrapped
    pdf.set_font("Helvetica", size=7)
    for text in pages:
        pdf.add_page()
        for line in text.translate(LATIN1).split("\n"):
            pdf.multi_cell(0, 5, line or " ", new_x="LMARGIN", new_y="NEXT")
    data = bytes(pdf.output())
    if password is None:
        return data
    import pypdf

    writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(data)))
    writer.encrypt(password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _docx(text: str, row: tuple[str, str] | None = None) -> bytes:
    """Each line a paragraph; then a row of a merged cell and another, when given."""
    import docx

    document = docx.Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    if row:
        table = document.add_table(rows=1, cols=3)
        table.cell(0, 0).merge(table.cell(0, 1)).text = row[0]
        table.cell(0, 2).text = row[1]
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


@pytest.fixture(params=["attachment", "letter"])
def send(request: pytest.FixtureRequest, client: TestClient, session: Session) -> Send:
    """Send a file the way one of the reader's users takes it; the response comes back."""
    key = make_key(session)
    if request.param == "letter":
        return lambda data: client.post(
            "/v1/letters/extract",
            params={"force": "kent"},
            content=data,
            headers={**auth(key), "Content-Type": "application/octet-stream"},
        )
    response_id = add_response(client, key, create_request(client, key)["id"])["id"]
    return lambda data: client.post(
        f"/v1/responses/{response_id}/attachments",
        files={"file": ("annex", data, "application/octet-stream")},
        headers=auth(key),
    )


def _problem(response: Any, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    detail = response.json()["detail"]
    for word in words:
        assert word in detail


def test_an_encrypted_pdf_is_422(send: Send) -> None:
    _problem(send(_pdf("Annex A", password="secret")), 422, "PDF", "encrypted")


@pytest.mark.parametrize("data", [files.pdf()[:200], b"%PDF-1.4\n1 0 obj <<>> garbage"])
def test_a_damaged_pdf_is_422(send: Send, data: bytes) -> None:
    _problem(send(data), 422, "PDF", "damaged")


def test_a_damaged_docx_is_422(send: Send) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<not-a-document")
    _problem(send(buffer.getvalue()), 422, "DOCX", "damaged")


def test_text_past_the_limit_is_413(send: Send, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_TEXT_CHARS", 100)
    _problem(send(_pdf("a" * 60, "b" * 60)), 413, "PDF", "100 characters")
    _problem(send(_docx("a" * 101)), 413, "DOCX", "100 characters")


def test_pages_past_the_limit_are_413(send: Send, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "MAX_PDF_PAGES", 2)
    _problem(send(_pdf("one", "two", "three")), 413, "PDF", "2 pages")


def test_a_docx_unpacking_past_the_limits_is_413(
    send: Send, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _docx("Annex B " * 2000)
    monkeypatch.setattr(documents, "MAX_XML_BYTES", 10_000)
    _problem(send(data), 413, "DOCX", "XML", "10000 bytes")
    monkeypatch.setattr(documents, "MAX_UNPACKED_BYTES", 10_000)
    _problem(send(data), 413, "unpacks", "10000 bytes")


def test_both_users_read_the_same_text(client: TestClient, session: Session) -> None:
    """An attachment stores what a letter is drafted from, first, then what else a reader of
    the file is shown (its properties, for the privacy check)."""
    data = _docx("Annex B: the policy\n\nsee the table", ("Name", "Rank"))
    text = documents.docx_text(io.BytesIO(data), loc=())
    assert text == "Annex B: the policy\n\nsee the table\nName Rank"
    key = make_key(session)
    response_id = add_response(client, key, create_request(client, key)["id"])["id"]
    created = client.post(
        f"/v1/responses/{response_id}/attachments",
        files={"file": ("annex.docx", data, "application/octet-stream")},
        headers=auth(key),
    )
    assert created.status_code == 201, created.text
    with new_session() as check:
        stored = check.scalar(select(col(Attachment.text)))
    assert stored is not None
    assert stored.startswith(text + "\n")


@pytest.mark.parametrize(
    ("seed", "force"),
    [
        ("hertfordshire-FOI2018-02892.txt", "hertfordshire"),
        ("metropolitan-01.FOI.22.022487.txt", "metropolitan"),
    ],
)
@pytest.mark.parametrize(
    ("media_type", "render"),
    [
        ("application/pdf", lambda text: _pdf(text)),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _docx),
    ],
)
def test_each_seed_letter_drafts_alike_as_pdf_docx_and_text(
    seed: str, force: str, media_type: str, render: Callable[[str], bytes]
) -> None:
    text = (SEEDS / seed).read_text(encoding="utf-8")
    as_text = letters.extract(
        text.encode(), media_type="text/plain", force=force, max_bytes=10_000_000
    ).entry
    rendered = letters.extract(
        render(text), media_type=media_type, force=force, max_bytes=10_000_000
    ).entry
    for field in ("reference", "received_on"):
        assert rendered.get(field) == as_text.get(field), field
    # A PDF's lines wrap where its page ends, so the request's text differs by line breaks.
    numbers = [[q["number"] for q in e["request"]["questions"]] for e in (rendered, as_text)]
    assert numbers[0] == numbers[1] != []
    for field in ("kind", "responded_on", "outcome", "citations", "signatory"):
        assert rendered["responses"][0].get(field) == as_text["responses"][0].get(field), field
