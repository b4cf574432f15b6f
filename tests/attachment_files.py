"""Small real files of every accepted kind, made for the tests."""

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from urllib.parse import quote

import docx
import pypdf
from pypdf.annotations import Text
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    NameObject,
    TextStringObject,
)


def pdf(text: str = "Annex A: the fleet list") -> bytes:
    """A one-page PDF whose page shows `text` in Helvetica, with a correct cross-reference."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return drawing(f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode())


def letter_pdf(text: str) -> bytes:
    """A PDF that lays `text` out as a letter: each line wrapped at the page's margin, as a
    word processor's PDF wraps a long one."""
    from fpdf import FPDF

    document = FPDF()
    document.add_page()
    document.set_font("Helvetica", size=11)
    for line in text.split("\n"):
        document.multi_cell(0, 5, line or " ", new_x="LMARGIN", new_y="NEXT")
    return bytes(document.output())


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def drawing(content: bytes, *, pages: int = 1, form: bytes = b"") -> bytes:
    """A PDF of `pages` pages that all draw one content stream, in which `/Fm Do` draws a form
    XObject of content `form`."""
    fonts = b"/Font << /F1 4 0 R >>"
    resources = b"/Resources << %s /XObject << /Fm 5 0 R >> >>" % fonts
    kids = b" ".join(b"%d 0 R" % (6 + n) for n in range(pages))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        _stream(content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        _stream(
            form, b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << %s >> " % fonts
        ),
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] %s /Contents 3 0 R >>" % resources
    ] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def docx_file(text: str = "Annex B: the policy") -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _zip(members: dict[str, str], *, first: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if first is not None:  # ODF: `mimetype` first and stored, as the format requires
            archive.writestr(first, members.pop(first), compress_type=zipfile.ZIP_STORED)
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


SPREADSHEET = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
ODF_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
ODF_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"


def xlsx(shared: str = "", inline: str = "", prolog: str = "") -> bytes:
    """A workbook whose cells hold `shared` (a shared string, in two runs) and `inline` (an
    inline string); `prolog` goes before the worksheet's root (a DOCTYPE)."""
    half = len(shared) // 2
    strings = f"<si><r><t>{shared[:half]}</t></r><r><t>{shared[half:]}</t></r></si>"
    cell = f'<c r="A2" t="inlineStr"><is><t>{inline}</t></is></c>' if inline else ""
    return _zip(
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.'
            'openxmlformats.org/package/2006/content-types"><Override PartName="/xl/workbook.'
            'xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'sheet.main+xml"/></Types>',
            "_rels/.rels": '<?xml version="1.0"?><Relationships/>',
            "xl/workbook.xml": '<?xml version="1.0"?><workbook><sheets><sheet name="Fleet" '
            'sheetId="1"/></sheets></workbook>',
            "xl/sharedStrings.xml": f'<?xml version="1.0"?><sst xmlns="{SPREADSHEET}">'
            f"{strings if shared else ''}</sst>",
            "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?>{prolog}<worksheet xmlns='
            f'"{SPREADSHEET}"><sheetData><row>{cell}</row></sheetData></worksheet>',
        }
    )


def _odf(mimetype: str, text: str) -> bytes:
    paragraph = f"<text:p>{text[:3]}<text:span>{text[3:]}</text:span></text:p>" if text else ""
    return _zip(
        {
            "mimetype": mimetype,
            "content.xml": f'<?xml version="1.0"?><office:document-content xmlns:office='
            f'"{ODF_OFFICE}" xmlns:text="{ODF_TEXT}"><office:body><office:text>{paragraph}'
            "</office:text></office:body></office:document-content>",
            "META-INF/manifest.xml": '<?xml version="1.0"?><manifest:manifest xmlns:manifest='
            '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"/>',
        },
        first="mimetype",
    )


def odt(text: str = "") -> bytes:
    return _odf("application/vnd.oasis.opendocument.text", text)


def ods(text: str = "") -> bytes:
    return _odf("application/vnd.oasis.opendocument.spreadsheet", text)


def pptx() -> bytes:
    return _zip(
        {
            "[Content_Types].xml": '<?xml version="1.0"?><Types/>',
            "ppt/presentation.xml": '<?xml version="1.0"?><presentation/>',
        }
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data)
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png() -> bytes:
    """A 1x1 grey PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _png_chunk(b"IEND", b"")
    )


def jpeg() -> bytes:
    """A JFIF file: start of image, an APP0 segment, a comment, end of image."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    comment = b"made for the tests"
    return (
        b"\xff\xd8"
        + b"\xff\xe0"
        + struct.pack(">H", len(app0) + 2)
        + app0
        + b"\xff\xfe"
        + struct.pack(">H", len(comment) + 2)
        + comment
        + b"\xff\xd9"
    )


CSV = b"year,vehicles\r\n2021,1204\r\n2022,1187\r\n"
TXT = "Notes on the fleet: 1,187 vehicles, £3.2m.\n".encode()

# (file name, bytes, media type stored) for each accepted kind.
EVERY_KIND = [
    ("annex-a.pdf", pdf(), "application/pdf"),
    (
        "annex-b.docx",
        docx_file(),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("fleet.xlsx", xlsx(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("notes.odt", odt(), "application/vnd.oasis.opendocument.text"),
    ("fleet.ods", ods(), "application/vnd.oasis.opendocument.spreadsheet"),
    ("fleet.csv", CSV, "text/csv"),
    ("notes.txt", TXT, "text/plain"),
    ("photo.png", png(), "image/png"),
    ("photo.jpg", jpeg(), "image/jpeg"),
]


# ---------------------------------------------------------------------------------------------
# Files that hold `text` where a reader of the file finds it outside the body or the pages.

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_WP = "http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing"
_RELATIONSHIPS = "http://schemas.openxmlformats.org/package/2006/relationships"


def rezip(data: bytes, changes: dict[str, str | bytes]) -> bytes:
    """The archive with the named members replaced or added."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(buffer, "w") as archive:
        for member in source.infolist():
            if member.filename not in changes:
                archive.writestr(member, source.read(member))
        for name, content in changes.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def docx_body(snippet: str) -> bytes:
    """A DOCX whose body begins with the WordprocessingML `snippet`."""
    data = docx_file()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        body = archive.read("word/document.xml").decode()
    return rezip(data, {"word/document.xml": body.replace("<w:body>", f"<w:body>{snippet}", 1)})


def _docx_part(name: str, root: str, inner: str) -> bytes:
    return rezip(docx_file(), {name: f"<w:{root} {W}>{inner}</w:{root}>"})


def _run(text: str, element: str = "t") -> str:
    return f"<w:r><w:{element}>{text}</w:{element}></w:r>"


def _core(text: str) -> bytes:
    data = docx_file()
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        core = archive.read("docProps/core.xml").decode()
    return rezip(data, {"docProps/core.xml": core.replace("python-docx", text, 1)})


def _app(text: str) -> bytes:
    app = (
        '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
        f'extended-properties"><Company>{text}</Company></Properties>'
    )
    return rezip(docx_file(), {"docProps/app.xml": app})


def _link(text: str) -> bytes:
    """A link whose address (in the part's relationships) holds `text`, %-escaped."""
    office = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    data = docx_body(
        f'<w:p><w:hyperlink r:id="rId99" xmlns:r="{office}">{_run("the letter")}</w:hyperlink>'
        "</w:p>"
    )
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        rels = archive.read("word/_rels/document.xml.rels").decode()
    link = (
        f'<Relationship Id="rId99" Target="https://example.org/to/{quote(text)}" '
        f'TargetMode="External" Type="{office}/hyperlink"/>'
    )
    rels = rels.replace("</Relationships>", f"{link}</Relationships>")
    return rezip(data, {"word/_rels/document.xml.rels": rels})


DOCX_PLACES = {
    "header": lambda t: _docx_part("word/header1.xml", "hdr", f"<w:p>{_run(t)}</w:p>"),
    "footer": lambda t: _docx_part("word/footer1.xml", "ftr", f"<w:p>{_run(t)}</w:p>"),
    "footnote": lambda t: _docx_part(
        "word/footnotes.xml", "footnotes", f'<w:footnote w:id="1"><w:p>{_run(t)}</w:p></w:footnote>'
    ),
    "endnote": lambda t: _docx_part(
        "word/endnotes.xml", "endnotes", f'<w:endnote w:id="1"><w:p>{_run(t)}</w:p></w:endnote>'
    ),
    "comment": lambda t: _docx_part(
        "word/comments.xml",
        "comments",
        f'<w:comment w:id="0" w:author="FOI"><w:p>{_run(t)}</w:p></w:comment>',
    ),
    "nested table": lambda t: docx_body(
        f"<w:tbl><w:tr><w:tc><w:tbl><w:tr><w:tc><w:p>{_run(t)}</w:p></w:tc></w:tr></w:tbl><w:p/>"
        "</w:tc></w:tr></w:tbl>"
    ),
    "content control": lambda t: docx_body(
        f"<w:sdt><w:sdtContent><w:p>{_run(t)}</w:p></w:sdtContent></w:sdt>"
    ),
    "content control's name": lambda t: docx_body(
        f'<w:sdt><w:sdtPr><w:alias w:val="{t}"/></w:sdtPr><w:sdtContent><w:p/></w:sdtContent>'
        "</w:sdt>"
    ),
    "text box": lambda t: docx_body(
        '<w:p><w:r><w:pict><v:shape xmlns:v="urn:schemas-microsoft-com:vml"><v:textbox>'
        f"<w:txbxContent><w:p>{_run(t)}</w:p></w:txbxContent></v:textbox></v:shape></w:pict></w:r></w:p>"
    ),
    "tracked insertion": lambda t: docx_body(
        f'<w:p><w:ins w:id="1" w:author="FOI">{_run(t)}</w:ins></w:p>'
    ),
    "tracked deletion": lambda t: docx_body(
        f'<w:p><w:del w:id="1" w:author="FOI">{_run(t, "delText")}</w:del></w:p>'
    ),
    "change's author": lambda t: docx_body(
        f'<w:p><w:ins w:id="1" w:author="{t}">{_run("figures")}</w:ins></w:p>'
    ),
    "field code": lambda t: docx_body(f"<w:p>{_run(f' AUTHOR {t} ', 'instrText')}</w:p>"),
    "picture's alternative text": lambda t: docx_body(
        f'<w:p><w:r><w:drawing><wp:inline xmlns:wp="{_WP}"><wp:docPr id="1" name="Picture 1" '
        f'descr="{t}"/></wp:inline></w:drawing></w:r></w:p>'
    ),
    "split into runs": lambda t: docx_body(f"<w:p>{_run(t[:3])}{_run(t[3:])}</w:p>"),
    "link's address": _link,
    "core properties": _core,
    "app properties": _app,
}


def _sheet(
    text: str, *, sheet: str = "", name: str = "Fleet", more: dict[str, str] | None = None
) -> bytes:
    data = xlsx("Figures")
    changes: dict[str, str | bytes] = dict(more or {})
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
        worksheet = archive.read("xl/worksheets/sheet1.xml").decode()
    changes.setdefault("xl/workbook.xml", workbook.replace('name="Fleet"', f'name="{name}"'))
    changes["xl/worksheets/sheet1.xml"] = worksheet.replace("</worksheet>", f"{sheet}</worksheet>")
    return rezip(data, changes)


def _odf_part(mimetype: str, name: str, content: str) -> bytes:
    return rezip(_odf(mimetype, "Annex A"), {name: content})


_ODF_NS = (
    f'xmlns:office="{ODF_OFFICE}" xmlns:text="{ODF_TEXT}" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)
ODT_MIME = "application/vnd.oasis.opendocument.text"
ODS_MIME = "application/vnd.oasis.opendocument.spreadsheet"

OFFICE_PLACES: dict[str, tuple[str, Callable[[str], bytes]]] = {
    "sheet name": ("fleet.xlsx", lambda t: _sheet(t, name=t)),
    "sheet header": (
        "fleet.xlsx",
        lambda t: _sheet(
            t,
            sheet=f'<headerFooter><oddHeader>&amp;C&amp;"Arial,Bold"{t}'
            "&amp;R&amp;P</oddHeader></headerFooter>",
        ),
    ),
    "cell comment": (
        "fleet.xlsx",
        lambda t: _sheet(
            t,
            more={
                "xl/comments1.xml": f'<comments xmlns="{SPREADSHEET}"><authors>'
                '<author>FOI</author></authors><commentList><comment ref="A1" authorId="0">'
                "<text><r><t>"
                f"{t}</t></r></text></comment></commentList></comments>"
            },
        ),
    ),
    "defined name": (
        "fleet.xlsx",
        lambda t: _sheet(
            t,
            more={
                "xl/workbook.xml": f'<workbook xmlns="{SPREADSHEET}"><sheets>'
                '<sheet name="Fleet" sheetId="1"/></sheets><definedNames><definedName name="'
                f'{t.replace(" ", "_")}">Fleet!A1</definedName></definedNames></workbook>'
            },
        ),
    ),
    "document header": (
        "notes.odt",
        lambda t: _odf_part(
            ODT_MIME,
            "styles.xml",
            f"<office:document-styles {_ODF_NS}>"
            '<office:master-styles><style:master-page style:name="Standard"><style:header>'
            f"<text:p>{t}</text:p></style:header></style:master-page></office:master-styles>"
            "</office:document-styles>",
        ),
    ),
    "document metadata": (
        "notes.odt",
        lambda t: _odf_part(
            ODT_MIME,
            "meta.xml",
            f"<office:document-meta {_ODF_NS}><office:meta>"
            f"<dc:creator>{t}</dc:creator></office:meta></office:document-meta>",
        ),
    ),
    "spreadsheet's sheet name": (
        "fleet.ods",
        lambda t: _odf_part(
            ODS_MIME,
            "content.xml",
            f"<office:document-content {_ODF_NS}>"
            f'<office:body><office:spreadsheet><table:table table:name="{t}"/></office:spreadsheet>'
            "</office:body></office:document-content>",
        ),
    ),
}


def _pdf_with(change: Callable[["pypdf.PdfWriter", str], object]) -> Callable[[str], bytes]:
    def made(text: str) -> bytes:
        writer = pypdf.PdfWriter(clone_from=pypdf.PdfReader(io.BytesIO(pdf())))
        change(writer, text)
        out = io.BytesIO()
        writer.write(out)
        return out.getvalue()

    return made


def _field(writer: "pypdf.PdfWriter", text: str) -> None:
    field = DictionaryObject(
        {
            NameObject("/FT"): NameObject("/Tx"),
            NameObject("/T"): TextStringObject("sent to"),
            NameObject("/V"): TextStringObject(text),
        }
    )
    fields = ArrayObject([writer._add_object(field)])
    writer._root_object[NameObject("/AcroForm")] = DictionaryObject({NameObject("/Fields"): fields})


def redacted_by_update(text: str) -> bytes:
    """A PDF whose page showed `text` until an incremental update drew "Annex A" instead."""
    writer = pypdf.PdfWriter(io.BytesIO(pdf(text)), incremental=True)
    content = DecodedStreamObject()
    content.set_data(b"BT /F1 12 Tf 72 720 Td (Annex A) Tj ET")
    writer.pages[0][NameObject("/Contents")] = writer._add_object(content)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


PDF_PLACES: dict[str, Callable[[str], bytes]] = {
    "author": _pdf_with(lambda w, t: w.add_metadata({"/Author": t})),
    "title": _pdf_with(lambda w, t: w.add_metadata({"/Title": t})),
    "subject": _pdf_with(lambda w, t: w.add_metadata({"/Subject": t})),
    "keywords": _pdf_with(lambda w, t: w.add_metadata({"/Keywords": t})),
    "comment": _pdf_with(lambda w, t: w.add_annotation(0, Text(rect=(50, 50, 80, 80), text=t))),
    "bookmark": _pdf_with(lambda w, t: w.add_outline_item(title=t, page_number=0)),
    "form field": _pdf_with(_field),
    "earlier revision": redacted_by_update,
}
