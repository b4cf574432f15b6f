"""The text inside a PDF (pypdf), a DOCX, XLSX, ODT or ODS (lxml) or a text file, with the
limits and errors every reader of uploaded documents shares. Letters are drafted from what a
letter says (`pdf_text`, `docx_text`); attachments are checked for personal data before they
are published, so for them every text a reader of the file can find is read (`package_text`,
`pdf_text(everything=True)`). An unreadable, encrypted or damaged file is a 422 and one past a
limit a 413, each naming what is wrong; whatever the libraries raise on a broken file is the
file's fault, never a server error.

pypdf and lxml are imported when a document arrives: loading them costs every process 0.1 s
and 0.8 s at start (python -X importtime, under load), most never use them."""

import contextlib
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from app.errors import InvalidInput, PayloadTooLarge

if TYPE_CHECKING:
    from pypdf import PdfReader

# Text past this is refused rather than published unread by the privacy check.
MAX_TEXT_CHARS = 5_000_000
# Pages of a PDF: bounds the work a file of countless empty pages asks for.
MAX_PDF_PAGES = 5_000
# The page content a PDF's text is read from, decoded, over all its pages: a stream drawn on
# several pages, or a form drawn several times, counts each time, as pypdf parses it each time
# (a 7 KB file drawing 4 MB of `() Tj` on each of 3 pages took 18 s). pypdf parses ~1 MB of it
# a second and reads dense text at 1.9 MB a second; a page of dense text is ~5 KB, a page of a
# table ~50 KB. A module constant, not a setting: it bounds the work, not a policy.
MAX_PDF_CONTENT_BYTES = 8 * 1024 * 1024
# The operators pypdf acts on, which may cost more than parsing them (3 s a MB of bare `'`):
# dense text has ~45 a KB, so 8 MB of it ~370,000. With the bytes above (and pypdf's own token
# limits), the costliest crafted PDF found takes ~5 s.
MAX_PDF_OPERATIONS = 500_000
# Revisions of a PDF (each incremental update keeps the file before it, and is read too).
MAX_PDF_REVISIONS = 20
# What a zipped document may unpack to, against zip bombs.
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
# The XML inside it, whatever its parts are named: read as a stream, ~0.2 s a MB of `<w:p/>`.
MAX_XML_BYTES = 50 * 1024 * 1024
_CHUNK = 64 * 1024

Loc = Sequence[str | int]


def unreadable(detail: str, loc: Loc) -> InvalidInput:
    return InvalidInput(detail, errors=[{"loc": list(loc), "msg": detail}])


def _too_long(kind: str) -> PayloadTooLarge:
    return PayloadTooLarge(f"the {kind} holds more than {MAX_TEXT_CHARS} characters of text")


@contextlib.contextmanager
def _damaged_as_422(kind: str, loc: Loc) -> Iterator[None]:
    """Whatever a reading library raises on a damaged file (pypdf its own errors, ValueError,
    KeyError, zlib.error, RecursionError...; zipfile, zlib and lxml theirs) is a 422 naming the
    kind; this module's own 4xx pass through."""
    try:
        yield
    except (InvalidInput, PayloadTooLarge):
        raise
    except Exception as exc:
        raise unreadable(
            f"the {kind} is damaged and cannot be read ({type(exc).__name__})", loc
        ) from None


def _joined(texts: list[str], kind: str, separator: str = "\n") -> str:
    """The texts as one, NULs dropped (PostgreSQL stores none), within MAX_TEXT_CHARS."""
    text = separator.join(texts).replace("\x00", "")
    if len(text) > MAX_TEXT_CHARS:
        raise _too_long(kind)
    return text


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


# ---------------------------------------------------------------------------------------------
# DOCX, XLSX, ODT and ODS: zipped XML, read as a stream of parser events, never as a tree (a
# tree costs ten times the XML; python-docx, which built an object per paragraph, took 23 s and
# 600 MB for 10 MB of `<w:p/>`). Lines come from elements, by local name: a paragraph or heading
# (WordprocessingML, DrawingML, OpenDocument), a shared string and a sheet's page header or
# footer is a line; a table or sheet row is a line of its cells. A header's or footer's `&`
# codes (`&C`, `&"Arial,Bold"`, `&12`) are layout, read as spaces.
_HEADER_FOOTER = frozenset(
    {"oddHeader", "oddFooter", "evenHeader", "evenFooter", "firstHeader", "firstFooter"}
)
_ROLES = {
    **dict.fromkeys(("p", "h", "si", *_HEADER_FOOTER), "line"),
    **dict.fromkeys(("tc", "table-cell", "c"), "cell"),
    **dict.fromkeys(("tr", "table-row", "row"), "row"),
}
_HEADER_CODE = re.compile(r'&&|&(?:"[^"]*"|K[0-9A-Fa-f]{6}|K\d\d[+-]\d{3}|\d+|[A-Za-z])')
# Empty elements that stand for white space.
_SPACES = {"tab": "\t", "ptab": "\t", "s": " ", "br": "\n", "cr": "\n", "line-break": "\n"}
# What a letter's body does not say: tracked deletions and field codes.
_NOT_SAID = frozenset({"delText", "delInstrText", "instrText"})
# Properties the writing program fills in, never a person: its name and version, counts,
# flags. Search would find "Microsoft Office Word" in every document Word wrote.
_BY_PROGRAM = frozenset(
    {"Application", "AppVersion", "DocSecurity", "TotalTime", "Pages", "Words", "Characters"}
    | {"CharactersWithSpaces", "Lines", "Paragraphs", "ScaleCrop", "LinksUpToDate", "SharedDoc"}
    | {"HyperlinksChanged", "generator", "CreatorTool", "Producer"}
)
# Attributes whose values a reader is shown: wherever they stand (the authors of tracked
# changes and comments, alternative text of pictures, links' tips, a cell's input and error
# messages, OpenDocument's values as shown and links), and on some elements only (sheet names,
# defined names, bookmarks; content controls' names, form fields' defaults, help and choices).
# The other attributes are layout and references (style and font names, ids), which search
# would then find in every file.
_SHOWN = frozenset(
    {"author", "descr", "title", "tooltip", "display", "prompt", "promptTitle", "error"}
    | {"errorTitle", "string-value", "href"}
)
_SHOWN_ON: Mapping[str, frozenset[str]] = {
    "name": frozenset({"sheet", "definedName", "table", "bookmarkStart", "bookmark-start"}),
    "val": frozenset({"alias", "tag", "default", "helpText", "statusText", "listEntry"}),
}
# An Office package's main part, when its relationships do not name it.
_MAIN_PART = {"DOCX": "word/document.xml", "XLSX": "xl/workbook.xml"}


class _Reading:
    """What one document's parts have given so far, held to the document's limits."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.chars = 0
        self.xml_bytes = 0
        self.shown: dict[str, None] = {}  # attribute values, each once, in order
        self.relationships: list[tuple[str, str]] = []  # (type, target) of a package's parts
        self.locals: dict[str, str] = {}

    def keep(self, text: str) -> str:
        self.chars += len(text)
        if self.chars > MAX_TEXT_CHARS:
            raise _too_long(self.kind)
        return text

    def show(self, value: str) -> None:
        if value.strip() and value not in self.shown:
            self.shown[self.keep(value)] = None


class _Lines:
    """An lxml parser target: one XML part's lines, built as the parser reads it. A frame is an
    open line, cell or row and what it holds so far; the part itself is a column of lines.
    `letter`: only what a letter's body says, without the attributes."""

    def __init__(self, reading: _Reading, *, letter: bool) -> None:
        self.reading = reading
        self.letter = letter
        self.frames: list[tuple[str, list[str]]] = [("cell", [])]
        self.loose: list[str] = []  # text outside any line, kept once its element ends
        self.unsaid = 0

    def _local(self, name: str) -> str:
        # Parts repeat a few names millions of times: each is split once.
        local = self.reading.locals.get(name)
        if local is None:
            local = self.reading.locals[name] = name.rpartition("}")[2]
        return local

    def _settle(self) -> None:
        if self.loose:
            text = "".join(self.loose)
            self.loose.clear()
            if text.strip():
                self.frames[-1][1].append(self.reading.keep(text))

    def start(self, tag: str, attrib: Mapping[str, str]) -> None:
        local = self._local(tag)
        if self.frames[-1][0] != "line":
            self._settle()
        if role := _ROLES.get(local):
            self.frames.append((role, []))
        elif local in _SPACES:
            self.data(_SPACES[local])
        elif local in _BY_PROGRAM or (local in _NOT_SAID and self.letter):
            self.unsaid += 1
        elif local == "Relationship":
            target = attrib.get("Target", "")
            self.reading.relationships.append((attrib.get("Type", ""), target))
            if attrib.get("TargetMode") == "External" and not self.letter:  # a link's address
                self.reading.show(target)
        if attrib and not self.letter:
            for qualified, value in attrib.items():
                name = self._local(qualified)
                # XMP metadata may be written as attributes of its rdf:Description.
                xmp = local == "Description" and name not in _BY_PROGRAM and name != "about"
                if xmp or name in _SHOWN or local in _SHOWN_ON.get(name, ()):
                    self.reading.show(value)

    def end(self, tag: str) -> None:
        local = self._local(tag)
        if local not in _ROLES:
            if local in _BY_PROGRAM or (local in _NOT_SAID and self.letter):
                self.unsaid -= 1
            if self.frames[-1][0] != "line":
                self._settle()
            return
        role, held = self.frames[-1]
        if role != "line":
            self._settle()
        self.frames.pop()
        if role == "line":
            text = "".join(held)
            if local in _HEADER_FOOTER:
                text = _HEADER_CODE.sub(lambda code: "&" if code[0] == "&&" else " ", text)
        else:
            text = ("\n" if role == "cell" else " ").join(held)
        outer, holds = self.frames[-1]
        holds.append(f"\n{text}\n" if outer == "line" else text)
        self.reading.keep("\n")  # a line of nothing still costs one

    def data(self, text: str) -> None:
        if self.unsaid:
            return
        if self.frames[-1][0] == "line":
            self.frames[-1][1].append(self.reading.keep(text))
        else:
            self.loose.append(text)

    def close(self) -> list[str]:
        self._settle()
        return self.frames[0][1]


def _xml_lines(chunks: Iterable[bytes], reading: _Reading, *, letter: bool) -> list[str]:
    """The lines of one XML document, fed to lxml a chunk at a time, its bytes counted against
    MAX_XML_BYTES as they come. Internal entities are expanded (a name hidden in one is still
    read; libxml2 refuses a document that would amplify past its limit, the billion laughs) and
    nothing is fetched: an external entity is undefined, and the document refused as damaged."""
    from lxml import etree

    target = _Lines(reading, letter=letter)
    parser = etree.XMLParser(target=target, resolve_entities="internal", no_network=True)
    for chunk in chunks:
        reading.xml_bytes += len(chunk)
        if reading.xml_bytes > MAX_XML_BYTES:
            raise PayloadTooLarge(
                f"the {reading.kind}'s XML unpacks to more than {MAX_XML_BYTES} bytes"
            )
        parser.feed(chunk)
    lines: list[str] = parser.close()
    return lines


def _part_lines(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, reading: _Reading, *, letter: bool
) -> list[str] | None:
    """A part's lines, or None when it is not XML (an image, an embedded binary): told from its
    first bytes, never from its name, so that every XML part counts against MAX_XML_BYTES."""
    with archive.open(member) as stream:
        head = stream.read(_CHUNK)
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<") and not head.startswith(
            (b"\xff\xfe", b"\xfe\xff")
        ):
            return None
        return _xml_lines(_following(head, stream), reading, letter=letter)


def _following(head: bytes, stream: IO[bytes]) -> Iterator[bytes]:
    chunk = head
    while chunk:
        yield chunk
        chunk = stream.read(_CHUNK)


def _main_part(archive: zipfile.ZipFile, reading: _Reading, *, letter: bool) -> str:
    """The part a package's content begins in: OpenDocument's content.xml; an Office file's is
    named by the package's relationships (`word/document.xml` as a rule, but any name will do
    for Word, and so for this reader)."""
    if reading.kind not in _MAIN_PART:
        return "content.xml"
    if "_rels/.rels" in archive.namelist():
        _part_lines(archive, archive.getinfo("_rels/.rels"), reading, letter=letter)
    main = next(
        (target for kind, target in reading.relationships if kind.endswith("/officeDocument")),
        _MAIN_PART[reading.kind],
    )
    return main.lstrip("/")


def _package_lines(file: BinaryIO, *, kind: str, loc: Loc, letter: bool) -> str:
    file.seek(0)
    reading = _Reading(kind)
    with _damaged_as_422(kind, loc), zipfile.ZipFile(file) as archive:
        members = archive.infolist()
        # zipfile reads no member past the size it declares, so these sums bound the unpacking.
        if sum(member.file_size for member in members) > MAX_UNPACKED_BYTES:
            raise PayloadTooLarge(f"the {kind} unpacks to more than {MAX_UNPACKED_BYTES} bytes")
        main = archive.getinfo(_main_part(archive, reading, letter=letter))
        lines = _part_lines(archive, main, reading, letter=letter)
        if lines is None:
            raise unreadable(f"the {kind}'s main part {main.filename} is not XML", loc)
        if not letter:
            for member in members:
                if member is not main and member.filename != "_rels/.rels":
                    lines += _part_lines(archive, member, reading, letter=letter) or []
            lines += reading.shown
    return _joined(lines, kind)


def docx_text(file: BinaryIO, *, loc: Loc) -> str:
    """What a letter's body says: each paragraph a line (a table's row a line of its cells),
    tracked insertions in and deletions out, in the order the body has them."""
    return _package_lines(file, kind="DOCX", loc=loc, letter=True)


def package_text(file: BinaryIO, *, kind: str, loc: Loc) -> str:
    """Every text a reader of a DOCX, XLSX, ODT or ODS can find: the text of every XML part
    (the body first; then headers, footers, notes, comments, text boxes, tracked changes both
    ways, field codes, sheets, styles and properties) and the attributes a reader is shown
    (`_SHOWN`: sheet names, authors of changes, alternative text, links...), each a line."""
    return _package_lines(file, kind=kind, loc=loc, letter=False)


# ---------------------------------------------------------------------------------------------
# PDF

# A `Do` (draw an XObject) in page content, with the XObject's name (#xx escapes undone later).
_REGULAR = rb"[^\x00\t\n\x0c\r /\[\]()<>{}%]"  # a character neither white space nor a delimiter
_DO = re.compile(rb"/(" + _REGULAR + rb"*)[\x00\t\n\x0c\r ]*Do(?!" + _REGULAR + rb")")
_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_EOF = re.compile(rb"%%EOF")
# Keys that lead back up a PDF's object graph, or into how it is drawn: not followed when its
# strings are gathered (the pages' text is read from their content).
_NOT_FOLLOWED = frozenset(
    {"/Parent", "/P", "/Prev", "/Last", "/AP", "/Resources", "/DR", "/DA", "/DS", "/Font"}
    | {"/Producer", "/Creator"}  # the programs that wrote it (`_BY_PROGRAM`)
    | {"/Dests"}  # the names of places links lead to, one for every heading in some files
)


class _PdfWork:
    """What pypdf is let do to read a document's pages, with all its revisions: parse
    MAX_PDF_CONTENT_BYTES of content, counted before any is parsed (each page's content
    streams, each form XObject as often as they draw it: `Do`), and act on
    MAX_PDF_OPERATIONS of the operators parsed (a form drawn many times is parsed each time). A
    page is known by where its content lies in the file: an earlier revision's page that a
    later one shows unchanged is neither counted nor read again."""

    def __init__(self) -> None:
        self.left = MAX_PDF_CONTENT_BYTES
        self.operations = MAX_PDF_OPERATIONS
        self.known: set[frozenset[tuple[int, int, object]]] = set()

    def texts(self, reader: "PdfReader", *, earlier: bool = False) -> Iterator[str]:
        """Each page's text (an earlier revision's pages: those not read already)."""
        pages = []
        for page in reader.pages:
            where: set[tuple[int, int, object]] = set()
            size = self._drawn(reader, page.get("/Contents"), page.get("/Resources"), where, {})
            if earlier and frozenset(where) in self.known:
                continue
            self.known.add(frozenset(where))
            self.left -= size
            pages.append(page)
        if self.left < 0:
            raise PayloadTooLarge(
                f"the PDF's pages draw more than {MAX_PDF_CONTENT_BYTES} bytes of content (a "
                "stream drawn on several pages, or several times, counts each time); split it "
                "into smaller files"
            )
        for page in pages:
            yield page.extract_text(visitor_operand_before=self._operation) or ""

    def _operation(self, *_: object) -> None:
        self.operations -= 1
        if self.operations < 0:
            # Raised again at the next operator where pypdf swallows it (in a form).
            raise PayloadTooLarge(
                f"the PDF's pages draw with more than {MAX_PDF_OPERATIONS} operators; split "
                "it into smaller files"
            )

    def _drawn(
        self,
        reader: "PdfReader",
        contents: Any,
        resources: Any,
        where: set[tuple[int, int, object]],
        forms: dict[int, int],
    ) -> int:
        """The bytes parsed to draw `contents` (a stream or an array of them) with these
        resources, forms included each time they are drawn."""
        from pypdf.generic import ArrayObject, IndirectObject, StreamObject

        streams = list(contents) if isinstance(contents, ArrayObject) else [contents]
        data = b""
        for stream in streams:
            if isinstance(stream, IndirectObject):
                location = reader.xref.get(stream.generation, {}).get(stream.idnum)
                where.add((stream.idnum, stream.generation, location))
            stream = stream.get_object() if stream is not None else None
            if isinstance(stream, StreamObject):
                data += stream.get_data()
        size = len(data)
        uses = Counter(_ESCAPE.sub(lambda m: bytes([int(m[1], 16)]), n) for n in _DO.findall(data))
        if not uses:
            return size
        xobjects = (resources.get_object() or {}).get("/XObject") if resources else None
        xobjects = xobjects.get_object() if xobjects is not None else {}
        for name, count in uses.items():
            # A name not found as pypdf would find it is counted as the costliest form.
            form = xobjects.get("/" + name.decode("utf-8", "replace"))
            drawn = [form] if form is not None else list(xobjects.values())
            costs = [self._form(reader, ref, resources, where, forms) for ref in drawn]
            size += count * max(costs, default=0)
        return size

    def _form(
        self,
        reader: "PdfReader",
        ref: Any,
        resources: Any,
        where: set[tuple[int, int, object]],
        forms: dict[int, int],
    ) -> int:
        form = ref.get_object()
        if form is None or form.get("/Subtype") != "/Form":
            return 0
        if id(form) not in forms:
            forms[id(form)] = 0  # a form that draws itself is drawn once (pypdf skips the cycle)
            forms[id(form)] = self._drawn(
                reader, ref, form.get("/Resources", resources), where, forms
            )
        return forms[id(form)]


def _pdf_strings(roots: Iterable[Any]) -> list[str]:
    """Every text string reachable from these objects (the document's information, outline,
    form fields, annotations), each object once, neither pages nor streams entered."""
    from pypdf.generic import (
        ArrayObject,
        ByteStringObject,
        DictionaryObject,
        IndirectObject,
        StreamObject,
        TextStringObject,
    )

    found: dict[str, None] = {}
    seen: set[tuple[int, int]] = set()
    stack = [root for root in roots if root is not None][::-1]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, StreamObject):
            continue
        if isinstance(obj, DictionaryObject):
            if obj.get("/Type") not in ("/Page", "/Pages"):
                stack += [v for k, v in obj.items() if k not in _NOT_FOLLOWED][::-1]
        elif isinstance(obj, ArrayObject):
            stack += list(obj)[::-1]
        elif isinstance(obj, TextStringObject) and obj.strip():
            found[str(obj)] = None
        elif isinstance(obj, ByteStringObject) and obj.strip():
            found[bytes(obj).decode("latin-1")] = None
    return list(found)


def _pdf_elsewhere(reader: "PdfReader") -> list[str]:
    """The text a reader finds outside the pages: the document information and its XMP
    metadata, bookmarks (the outline), form fields, the pages' annotations (comments, links,
    widgets), embedded files' names and descriptions."""
    root: Any = reader.trailer["/Root"].get_object()
    texts = _pdf_strings(
        [
            reader.trailer.get("/Info"),
            root.get("/Outlines"),
            root.get("/AcroForm"),
            root.get("/Names"),
            *(page.get("/Annots") for page in reader.pages),
        ]
    )
    metadata = root.get("/Metadata")
    if metadata is not None:
        data = metadata.get_object().get_data()
        texts += _xml_lines([data], _Reading("PDF's metadata"), letter=False)
    return texts


def _pdf_reader(file: BinaryIO, loc: Loc) -> "PdfReader":
    import pypdf

    reader = pypdf.PdfReader(file)
    if reader.is_encrypted and not reader.decrypt(""):
        raise unreadable("the PDF is encrypted with a password: its text cannot be read", loc)
    if len(reader.pages) > MAX_PDF_PAGES:
        raise PayloadTooLarge(f"the PDF has more than {MAX_PDF_PAGES} pages")
    return reader


def _pdf_revisions(file: BinaryIO, work: _PdfWork, loc: Loc) -> list[str]:
    """The text of the revisions an incremental update keeps: the file cut at each `%%EOF`
    but the last is the file as it was before that update, which any tool can recover (a name
    "redacted" by an update is still there). An earlier revision that does not read as a PDF
    is read as far as it goes: a reader gets no further."""
    file.seek(0)
    data = file.read()
    ends = [match.end() for match in _EOF.finditer(data)][:-1]
    if len(ends) >= MAX_PDF_REVISIONS:
        raise PayloadTooLarge(
            f"the PDF holds more than {MAX_PDF_REVISIONS} revisions (incremental updates); "
            "save it as a new file"
        )
    texts: list[str] = []
    for end in ends:
        with contextlib.suppress(InvalidInput), _damaged_as_422("PDF", loc):
            reader = _pdf_reader(io.BytesIO(data[:end]), loc)
            texts.extend(work.texts(reader, earlier=True))
            texts += _pdf_elsewhere(reader)
    return texts


def pdf_text(file: BinaryIO, *, loc: Loc, everything: bool = False) -> str:
    """Each page's text, pages apart by a blank line. `everything`: then, each a line, the
    text found outside the pages (`_pdf_elsewhere`) and in earlier revisions
    (`_pdf_revisions`), what is already read left out."""
    file.seek(0)
    work = _PdfWork()
    with _damaged_as_422("PDF", loc):
        reader = _pdf_reader(file, loc)
        texts: list[str] = []
        length = 0
        for text in work.texts(reader):
            length += len(text)
            if length > MAX_TEXT_CHARS:
                raise _too_long("PDF")
            texts.append(text)
        if not texts:
            raise unreadable("the PDF has no pages", loc)
        pages = _joined(texts, "PDF", "\n\n")
        if not everything:
            return pages
        found = set(texts)
        more: list[str] = []
        for text in [*_pdf_elsewhere(reader), *_pdf_revisions(file, work, loc)]:
            if text.strip() and text not in found:
                found.add(text)
                more.append(text)
    return _joined([pages, *more], "PDF")
