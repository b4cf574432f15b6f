"""POST /v1/letters/extract: every kind of letter in, a draft out; bad uploads are 4xx."""

import io
import os
import zipfile
from collections.abc import Iterator
from importlib import resources

import pytest
from attachment_files import letter_pdf
from factories import auth, make_key
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import get_settings
from app.models import Role

URL = "/v1/letters/extract"
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
HERTS = (resources.files("app.letters") / "seeds" / "hertfordshire-FOI2018-02892.txt").read_bytes()
LETTER = b"""Our Ref: FOI 2024/0101
Date: 3 May 2024

Dear Mr Jonathan Pilkington,

Your request was received on 5 April 2024. You asked:

1. How many drones does the force own?
2. What did they cost?

I have today decided to disclose the requested information.
1. The force owns 12 drones.
2. They cost \xc2\xa3120,000. Mr Pilkington may wish to see our annual report.

Yours sincerely

Ann Reed
Disclosure Officer
"""


@pytest.fixture
def key(session: Session) -> str:
    return make_key(session)


def _docx(text: str) -> bytes:
    from docx import Document

    document = Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _post(client: TestClient, key: str, body: bytes, media_type: str, force: str = "kent") -> dict:  # type: ignore[type-arg]
    response = client.post(
        URL,
        params={"force": force},
        content=body,
        headers={**auth(key), "Content-Type": media_type},
    )
    assert response.status_code == 200, response.text
    result: dict = response.json()  # type: ignore[type-arg]
    return result


@pytest.mark.parametrize(
    ("media_type", "make"),
    [
        ("text/plain", lambda t: t.encode()),
        (
            "text/html",
            lambda t: f"<html><body><p>{t.replace(chr(10), '</p><p>')}</p></body></html>".encode(),
        ),
        ("application/pdf", letter_pdf),
        (DOCX, _docx),
        ("application/octet-stream", letter_pdf),
    ],
)
def test_each_kind_of_letter_gives_the_same_draft(
    client: TestClient, key: str, media_type: str, make: object
) -> None:
    text = LETTER.decode()
    result = _post(client, key, make(text), media_type)  # type: ignore[operator]
    entry = result["entry"]
    assert (entry["force"], entry["reference"], entry["received_on"]) == (
        "kent",
        "FOI 2024/0101",
        "2024-04-05",
    )
    [response] = entry["responses"]
    assert (response["responded_on"], response["outcome"]) == ("2024-05-03", "disclosed_in_full")
    assert [q["number"] for q in entry["request"]["questions"]] == ["1", "2"]
    assert [a["questions"] for a in response["answers"]] == [["1"], ["2"]]
    assert response["signatory"] == {"name": "Ann Reed", "role": "Disclosure Officer"}
    for field in ("id", "law", "due_on", "responded_within_deadline", "exemptions", "status"):
        assert field not in entry
    assert 0.0 <= min(result["confidence"].values()) <= max(result["confidence"].values()) <= 1.0


def test_the_requester_is_reported_never_drafted(client: TestClient, key: str) -> None:
    result = _post(client, key, LETTER, "text/plain")
    assert "Pilkington" not in str(result["entry"])
    assert any("Pilkington" in warning for warning in result["warnings"])


def test_multipart_file_part(client: TestClient, key: str) -> None:
    response = client.post(
        URL,
        params={"force": "hertfordshire"},
        files={"file": ("letter.pdf", letter_pdf(HERTS.decode().replace("\u2013", "-")), PDF)},
        headers=auth(key),
    )
    assert response.status_code == 200, response.text
    assert response.json()["entry"]["reference"] == "FOI2018/02892"
    missing = client.post(
        URL,
        params={"force": "kent"},
        files={"other": ("a.txt", b"x", "text/plain")},
        headers=auth(key),
    )
    assert missing.status_code == 422
    assert missing.headers["content-type"] == "application/problem+json"


def test_control_characters_never_pass_through(client: TestClient, key: str) -> None:
    dirty = LETTER.replace(b"How many drones", b"How many\x07 dr\x1bones")
    result = _post(client, key, dirty, "text/plain")
    text = str(result["entry"])
    assert "\x07" not in text
    assert "\x1b" not in text
    assert result["entry"]["request"]["questions"][0]["text"].startswith("How many drones")
    assert any("control characters" in w for w in result["warnings"])


def test_a_draft_breaking_a_rule_says_which(client: TestClient, key: str) -> None:
    letter = LETTER.replace(
        b"I have today decided to disclose the requested information.",
        b"The force can neither confirm nor deny that it holds this information.",
    )
    result = _post(client, key, letter, "text/plain")
    response = result["entry"]["responses"][0]
    assert (response["outcome"], response["citations"]) == ("neither_confirm_nor_deny", [])
    assert any(w.startswith("rule outcome-citations") for w in result["warnings"])


def test_stores_nothing(client: TestClient, key: str) -> None:
    _post(client, key, HERTS, "text/plain", force="hertfordshire")
    assert client.get("/v1/requests", headers=auth(key)).json()["items"] == []


def _problem(response: object, status: int) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert response.json()["detail"]  # type: ignore[attr-defined]


def test_keys_and_scope(client: TestClient, session: Session) -> None:
    _problem(client.post(URL, params={"force": "kent"}, content=LETTER), 401)
    editor = make_key(session, Role.EDITOR, ["kent"])
    headers = {**auth(editor), "Content-Type": "text/plain"}
    assert (
        client.post(URL, params={"force": "kent"}, content=LETTER, headers=headers).status_code
        == 200
    )
    _problem(client.post(URL, params={"force": "essex"}, content=LETTER, headers=headers), 403)
    _problem(client.post(URL, params={"force": "atlantis"}, content=LETTER, headers=headers), 404)
    _problem(client.post(URL, content=LETTER, headers=headers), 422)


PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)


def _zip(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, "<x/>")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "media_type", "status"),
    [
        (b"", "text/plain", 422),
        (b"   \n\n ", "text/plain", 422),
        (PNG, "application/pdf", 415),
        (PNG, "application/octet-stream", 415),
        (PNG, "text/plain", 415),
        (LETTER, "application/pdf", 415),
        (LETTER, "image/png", 415),
        (letter_pdf("hello"), DOCX, 415),
        (b"%PDF-1.7\n1 0 obj <<>> garbage", "application/pdf", 422),
        (b"%PDF-1.4\n" + os.urandom(3000), "application/pdf", 422),
        (_zip("word/document.xml"), DOCX, 422),
        (_zip("xl/workbook.xml"), DOCX, 415),
        # Damaged (a ZIP that does not open, a DOCX cut short): 422, as README says.
        (b"PK\x03\x04broken zip", DOCX, 422),
        (_docx(LETTER.decode())[:5000], DOCX, 422),
        (_docx(LETTER.decode())[:-30], "application/octet-stream", 422),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "application/msword", 415),
    ],
)
def test_bad_uploads_are_4xx_problems(
    client: TestClient, key: str, body: bytes, media_type: str, status: int
) -> None:
    response = client.post(
        URL,
        params={"force": "kent"},
        content=body,
        headers={**auth(key), "Content-Type": media_type},
    )
    _problem(response, status)


def test_a_pdf_without_a_text_layer_says_no_ocr(client: TestClient, key: str) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(10, 10, 100, 50, style="F")
    response = client.post(
        URL,
        params={"force": "kent"},
        content=bytes(pdf.output()),
        headers={**auth(key), "Content-Type": "application/pdf"},
    )
    _problem(response, 422)
    assert "OCR" in response.json()["detail"] + str(response.json()["errors"])


@pytest.fixture
def small_limit() -> Iterator[None]:
    os.environ["FOILOG_MAX_LETTER_BYTES"] = "2048"
    get_settings.cache_clear()
    yield
    del os.environ["FOILOG_MAX_LETTER_BYTES"]
    get_settings.cache_clear()


def test_a_huge_letter_is_413(client: TestClient, key: str, small_limit: None) -> None:
    body = LETTER * 20
    response = client.post(
        URL,
        params={"force": "kent"},
        content=body,
        headers={**auth(key), "Content-Type": "text/plain"},
    )
    _problem(response, 413)
    multipart = client.post(
        URL,
        params={"force": "kent"},
        files={"file": ("a.txt", body, "text/plain")},
        headers=auth(key),
    )
    _problem(multipart, 413)


def test_no_5xx_on_random_or_mangled_bytes(client: TestClient, key: str) -> None:
    import random

    rng = random.Random(13)
    samples = [letter_pdf(LETTER.decode()), _docx(LETTER.decode()), LETTER]
    for _ in range(40):
        sample = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 30)):
            sample[rng.randrange(len(sample))] = rng.randrange(256)
        for media_type in ("application/octet-stream", "application/pdf", DOCX, "text/html"):
            response = client.post(
                URL,
                params={"force": "kent"},
                content=bytes(sample),
                headers={**auth(key), "Content-Type": media_type},
            )
            assert response.status_code < 500, response.text
