"""A letter's bytes to its text: the type is taken from the bytes, never from the name alone.

PDF and DOCX through `app.documents` (the limits and errors attachments have too), HTML through
the standard library's tolerant `html.parser` (only text is wanted, so no tree-building
dependency), plain text as UTF-8 (or Windows-1252, which many older letters are saved in). No
OCR: a PDF without a text layer is refused with a message that says so."""

import io
import re
import zipfile
from enum import StrEnum
from html.parser import HTMLParser

from app import documents
from app.errors import UnsupportedMediaType

PDF_MEDIA_TYPE = "application/pdf"
DOCX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

LOC = ("body",)


class Kind(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    HTML = "html"
    TEXT = "text"


MEDIA_TYPES: dict[str, Kind] = {
    PDF_MEDIA_TYPE: Kind.PDF,
    DOCX_MEDIA_TYPE: Kind.DOCX,
    "text/html": Kind.HTML,
    "application/xhtml+xml": Kind.HTML,
    "text/plain": Kind.TEXT,
}
# Names a client may send when it does not know the type: the bytes decide.
UNTYPED = {"", "application/octet-stream", "binary/octet-stream"}

_HTML_START = re.compile(
    rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body|meta|title|div|p|table|main|"
    rb"article|section|h[1-6])\b",
    re.I | re.S,
)
# C0 controls other than tab, newline, form feed, CR and escape: rare in text, common in binary.
_BINARY = re.compile(rb"[\x00-\x08\x0e-\x1a\x1c-\x1f]")


def sniff(data: bytes) -> Kind | None:
    """The letter's kind from its first bytes, or None when it is none of the four. A ZIP
    whose contents cannot be listed (cut short, damaged) is taken for a damaged DOCX, the one
    zipped kind a letter may be, so that reading it answers 422 as for any damaged file."""
    head = data[:1024]
    if head.lstrip().startswith(b"%PDF-"):
        return Kind.PDF
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return Kind.DOCX
        return Kind.DOCX if "word/document.xml" in names else None
    sample = data[:8192]
    if data.startswith((b"\xd0\xcf\x11\xe0", b"{\\rtf")):
        return None  # Word 97 and RTF: not read (save the letter as DOCX or PDF)
    if not sample.startswith((b"\xff\xfe", b"\xfe\xff")) and (
        b"\x00" in sample or len(_BINARY.findall(sample)) > len(sample) // 50
    ):
        return None  # a text letter may hold a stray control character, not a stream of them
    if _HTML_START.match(data[:4096]):
        return Kind.HTML
    return Kind.TEXT


def media_kind(media_type: str) -> Kind | None:
    """The kind a Content-Type names (parameters ignored); None when it names none of ours."""
    return MEDIA_TYPES.get(media_type.split(";")[0].strip().lower())


def decide(data: bytes, media_type: str) -> Kind:
    """The kind to read `data` as: the bytes' kind, which a declared type must agree with."""
    declared_name = media_type.split(";")[0].strip().lower()
    found = sniff(data)
    if found is None:
        raise UnsupportedMediaType(
            "the letter is not a PDF, DOCX, HTML or plain-text file (judged from its bytes)"
        )
    if declared_name in UNTYPED:
        return found
    declared = media_kind(declared_name)
    if declared is None:
        raise UnsupportedMediaType(
            f"{declared_name!r} is not a letter type: send application/pdf, {DOCX_MEDIA_TYPE}, "
            "text/html, text/plain or multipart/form-data with a `file` part"
        )
    text_kinds = {Kind.HTML, Kind.TEXT}
    if declared in text_kinds and found in text_kinds:
        # Markup sent as text/plain is still read as text, as the sender asked.
        return declared
    if declared != found:
        raise UnsupportedMediaType(
            f"the body was sent as {declared_name} but its bytes are {found.value.upper()}"
        )
    return found


def text_of(data: bytes, kind: Kind) -> str:
    if kind is Kind.PDF:
        return _pdf_text(data)
    if kind is Kind.DOCX:
        return documents.docx_text(io.BytesIO(data), loc=LOC)
    text = _decode(data)
    return _html_text(text) if kind is Kind.HTML else text


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _pdf_text(data: bytes) -> str:
    text = documents.pdf_text(io.BytesIO(data), loc=LOC)
    if not text.strip():
        raise documents.unreadable(
            "the PDF has no text layer (a scanned image?); foilog does no OCR, so send the "
            "letter as text, DOCX or a PDF with selectable text",
            LOC,
        )
    return text


class _TextCollector(HTMLParser):
    """The text of an HTML page, one line per block element, as a letter typed as text has
    them: consecutive blocks on consecutive lines, an empty block (`<p></p>`) or a second `<br>`
    a blank line, so that an address block stays one block. Scripts and styles dropped."""

    BLOCKS = frozenset(
        [
            "p",
            "div",
            "br",
            "li",
            "tr",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "table",
            "ul",
            "ol",
            "section",
            "article",
            "header",
            "footer",
            "blockquote",
            "pre",
            "dt",
            "dd",
            "address",
            "title",
            "hr",
        ]
    )
    SKIPPED = frozenset({"script", "style", "noscript", "template", "head"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.written = False  # text since the last block began

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self.skipping = 0  # a <head> left open ends here
        elif tag in self.SKIPPED:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag in self.BLOCKS:
            self._line_break()
            self.written = False
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS and tag != "br":
            if self.written:
                self._line_break()
            else:
                self.parts.append("\n")  # an empty block: a blank line
            self.written = True

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(re.sub(r"[ \t\r\n]+", " ", data))
            self.written = self.written or bool(data.strip())

    def _line_break(self) -> None:
        """End the line being written, unless it is ended already (white space aside)."""
        while self.parts and self.parts[-1] != "\n" and not self.parts[-1].strip():
            self.parts.pop()
        if self.parts and self.parts[-1] != "\n":
            self.parts.append("\n")


def _html_text(markup: str) -> str:
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    lines = (line.strip() for line in "".join(collector.parts).split("\n"))
    return "\n".join(lines)
