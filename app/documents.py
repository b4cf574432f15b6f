"""The text inside a PDF (pypdf), a DOCX (python-docx), an XLSX, ODT or ODS (lxml) or a text
file, with the limits and errors every reader of uploaded documents shares: attachments check
it for personal data before publishing, letters are drafted from it. An unreadable, encrypted
or damaged file is a 422 and one past a limit a 413, each naming what is wrong; whatever the
libraries raise on a broken file is the file's fault, never a server error.

pypdf, python-docx and lxml are imported when a document arrives: loading them costs every
process 0.1 s and 0.8 s at start (python -X importtime, under load), most never use them."""

import re
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import BinaryIO

from app.errors import InvalidInput, PayloadTooLarge

# Text past this is refused rather than published unread by the privacy check.
MAX_TEXT_CHARS = 5_000_000
# Pages of a PDF: bounds the work a file of countless empty pages asks for.
MAX_PDF_PAGES = 5_000
# What a DOCX may unpack to (python-docx holds every part in memory), against zip bombs.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
# Its XML parts, which lxml parses into trees many times their size.
MAX_XML_BYTES = 50 * 1024 * 1024

Loc = Sequence[str | int]


def unreadable(detail: str, loc: Loc) -> InvalidInput:
    return InvalidInput(detail, errors=[{"loc": list(loc), "msg": detail}])


def _too_long(kind: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"the {kind} holds more than {MAX_TEXT_CHARS} characters of text")


@contextmanager
def _damaged_as_422(kind: str, loc: Loc) -> Iterator[None]:
    """Whatever a reading library raises on a damaged file (pypdf its own errors, ValueError,
    KeyError, zlib.error, RecursionError...; zipfile, zlib, lxml and python-docx theirs) is a
    422 naming the kind; this module's own 4xx pass through."""
    try:
        yield
    except (InvalidInput, PayloadTooLarge):
        raise
    except Exception as exc:
        raise unreadable(
            f"the {kind} is damaged and cannot be read ({type(exc).__name__})", loc
        ) from None


def _lines(lines: list[str], kind: str) -> str:
    """The lines as one text, NULs dropped (PostgreSQL stores none), within MAX_TEXT_CHARS."""
    text = "\n".join(lines).replace("\x00", "")
    if len(text) > MAX_TEXT_CHARS:
        raise _too_long(kind)
    return text


def pdf_text(file: BinaryIO, *, loc: Loc) -> str:
    """Each page's text, pages apart by a blank line; NULs dropped (PostgreSQL stores none)."""
    import pypdf

    file.seek(0)
    with _damaged_as_422("PDF", loc):
        reader = pypdf.PdfReader(file)
        if reader.is_encrypted and not reader.decrypt(""):
            raise unreadable("the PDF is encrypted with a password: its text cannot be read", loc)
        pages = reader.pages
        if len(pages) > MAX_PDF_PAGES:
            raise PayloadTooLarge(f"the PDF has more than {MAX_PDF_PAGES} pages")
        texts: list[str] = []
        length = 0
        for page in pages:
            text = page.extract_text() or ""
            length += len(text)
            if length > MAX_TEXT_CHARS:
                raise _too_long("PDF")
            texts.append(text)
    if not texts:
        raise unreadable("the PDF has no pages", loc)
    return "\n\n".join(texts).replace("\x00", "")


def plain_text(file: BinaryIO, *, kind: str) -> str:
    """A UTF-8 text file's content (a byte order mark dropped), checked as UTF-8 already."""
    file.seek(0)
    # A character is at most four bytes: a longer file holds too many.
    data = file.read(MAX_TEXT_CHARS * 4 + 1)
    if len(data) > MAX_TEXT_CHARS * 4:
        raise _too_long(kind)
    text = data.decode("utf-8-sig")
    if len(text) > MAX_TEXT_CHARS:
        raise _too_long(kind)
    return text


def docx_text(file: BinaryIO, *, loc: Loc) -> str:
    """Each paragraph a line, then each table row a line of its cells (a merged cell once)."""
    import docx

    file.seek(0)
    with _damaged_as_422("DOCX", loc):
        with zipfile.ZipFile(file) as archive:
            members = archive.infolist()
        if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
            raise PayloadTooLarge(f"the DOCX unpacks to more than {MAX_UNPACKED_BYTES} bytes")
        xml = (m for m in members if m.filename.endswith((".xml", ".rels")))
        if sum(member.file_size for member in xml) > MAX_XML_BYTES:
            raise PayloadTooLarge(f"the DOCX's XML unpacks to more than {MAX_XML_BYTES} bytes")
        file.seek(0)
        document = docx.Document(file)
        lines = [paragraph.text for paragraph in document.paragraphs]
        for table in document.tables:
            for row in table.rows:
                cells: list[str] = []
                for cell in row.cells:
                    if cell.text not in cells:
                        cells.append(cell.text)
                lines.append(" ".join(cells))
    return _lines(lines, "DOCX")


# Where the text of a spreadsheet or an OpenDocument lies: the members of the archive to read,
# and the elements (by local name) each of which is one line of text.
_OFFICE_TEXT = {
    "XLSX": (re.compile(r"xl/sharedStrings\.xml|xl/worksheets/[^/]+\.xml"), {"si", "is"}),
    "ODT": (re.compile(r"content\.xml"), {"p", "h"}),
    "ODS": (re.compile(r"content\.xml"), {"p", "h"}),
}


def office_text(file: BinaryIO, *, kind: str, loc: Loc) -> str:
    """The text of an XLSX's cells (its shared strings and inline strings) or of an ODT's or
    ODS's paragraphs and headings, each a line, within the limits a DOCX has. Read by lxml with
    internal entities expanded (a name hidden in one is still read; libxml2 refuses a document
    that would amplify past its limit, the billion laughs) and nothing fetched: an external
    entity is undefined, and the document refused as damaged."""
    from lxml import etree

    members, lines_of = _OFFICE_TEXT[kind]
    parser = etree.XMLParser(resolve_entities="internal", no_network=True, huge_tree=False)
    lines: list[str] = []
    file.seek(0)
    with _damaged_as_422(kind, loc), zipfile.ZipFile(file) as archive:
        parts = [m for m in archive.infolist() if members.fullmatch(m.filename)]
        if sum(part.file_size for part in parts) > MAX_XML_BYTES:
            raise PayloadTooLarge(f"the {kind}'s XML unpacks to more than {MAX_XML_BYTES} bytes")
        for part in parts:
            root = etree.fromstring(archive.read(part), parser)
            for element in root.iter():
                if isinstance(element.tag, str) and etree.QName(element).localname in lines_of:
                    lines.append("".join(element.itertext()))
    return _lines(lines, kind)
