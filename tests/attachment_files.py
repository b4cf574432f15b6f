"""Small real files of every accepted kind, made for the tests."""

import io
import struct
import zipfile
import zlib

import docx


def pdf(text: str = "Annex A: the fleet list") -> bytes:
    """A one-page PDF whose page shows `text` in Helvetica, with a correct cross-reference."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
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
