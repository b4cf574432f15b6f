"""What an uploaded file is, told from its bytes: the accepted kinds, the checks that find a
file corrupt, its SHA-256 and the text inside it (read by `app.documents`; a text or CSV
file's is its content; images have none). Nothing here touches the database: an upload is
inspected in full before its one short write transaction begins."""

import codecs
import hashlib
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import BinaryIO

import filetype

from app import documents
from app.errors import InvalidInput, PayloadTooLarge, UnsupportedMediaType

CHUNK = 1024 * 1024
PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
CSV = "text/csv"
TXT = "text/plain"
PNG = "image/png"
JPEG = "image/jpeg"

# Each accepted type: the extensions a name may carry, and the other Content-Types clients send
# for it (browsers on Windows send CSV files as application/vnd.ms-excel).
KINDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    PDF: ((".pdf",), ("application/x-pdf",)),
    DOCX: ((".docx",), ()),
    XLSX: ((".xlsx",), ()),
    ODT: ((".odt",), ()),
    ODS: ((".ods",), ()),
    CSV: (
        (".csv",),
        ("application/csv", "text/comma-separated-values", "application/vnd.ms-excel"),
    ),
    TXT: ((".txt", ".text"), ()),
    PNG: ((".png",), ("image/x-png",)),
    JPEG: ((".jpg", ".jpeg", ".jpe"), ("image/jpg", "image/pjpeg")),
}
ZIPPED = (DOCX, XLSX, ODT, ODS)
_ZIPPED_KINDS = {DOCX: "DOCX", XLSX: "XLSX", ODT: "ODT", ODS: "ODS"}
# A Content-Type that says nothing about the file.
GENERIC = {"", "application/octet-stream", "binary/octet-stream", "application/unknown"}
# Zip-based kinds may also be announced as plain zips.
ZIP_TYPES = {"application/zip", "application/x-zip-compressed"}

MAX_FILENAME = 200
# C0 controls other than tab, line feed, form feed and carriage return: not in a text file.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_ODF_MIMETYPES = {ODT.encode(): ODT, ODS.encode(): ODS}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Inspected:
    filename: str
    media_type: str
    size: int
    sha256: str
    text: str


LOC = ("body", "file")


def _corrupt(detail: str) -> InvalidInput:
    return documents.unreadable(detail, LOC)


def _chunks(file: BinaryIO, start: int = 0) -> Iterator[bytes]:
    file.seek(start)
    while chunk := file.read(CHUNK):
        yield chunk


def _digest_and_size(file: BinaryIO) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(file):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _extension(filename: str) -> str:
    suffix = PurePosixPath(filename).suffix.lower()
    return suffix if suffix[1:].isalnum() else ""


def safe_filename(given: str | None) -> str:
    """The name as the public sees it: its last path part, no control or format characters,
    white space collapsed, at most MAX_FILENAME characters with the extension kept."""
    name = PureWindowsPath(PurePosixPath(given or "").name).name
    name = "".join(" " if unicodedata.category(c)[0] in "CZ" else c for c in name)
    name = " ".join(name.split()).strip(". ")
    if len(name) > MAX_FILENAME:
        extension = _extension(name)
        name = name[: MAX_FILENAME - len(extension)] + extension
    return name


def _claimed(filename: str, content_type: str | None) -> tuple[str | None, str | None]:
    """The type the name's extension says, and the type the Content-Type says (None: silent).
    An extension or Content-Type that names no accepted type is refused outright."""
    by_name = None
    if extension := _extension(filename):
        by_name = next((kind for kind, (exts, _) in KINDS.items() if extension in exts), None)
        if by_name is None:
            raise UnsupportedMediaType(
                f"the name {filename!r} says {extension}, which is not an accepted type; "
                "accepted: PDF, DOCX, XLSX, ODT, ODS, CSV, TXT, PNG, JPEG"
            )
    given = (content_type or "").split(";")[0].strip().lower()
    if given in GENERIC:
        return by_name, None
    if given in KINDS:
        return by_name, given
    by_type = next((kind for kind, (_, aliases) in KINDS.items() if given in aliases), None)
    if by_type is None and given not in ZIP_TYPES:
        raise UnsupportedMediaType(f"the Content-Type {given!r} is not an accepted type")
    return by_name, by_type or given


def _check_claims(found: str, by_name: str | None, by_type: str | None, filename: str) -> None:
    if by_name is not None and by_name != found:
        raise UnsupportedMediaType(
            f"the file's bytes are {found}, but its name {filename!r} says {by_name}"
        )
    if by_type is None:
        return
    plain_zip = by_type in ZIP_TYPES and found in ZIPPED
    # CSV is text: a CSV file sent as text/plain is still CSV when its name says so.
    text_as_plain = found == CSV and by_type == TXT
    if by_type != found and not plain_zip and not text_as_plain:
        raise UnsupportedMediaType(
            f"the file's bytes are {found}, but its Content-Type says {by_type}"
        )


# ---------------------------------------------------------------------------------------------
# Each kind's check; each returns the text inside ("" where none is read).


def _zipped_kind(file: BinaryIO) -> str:
    """DOCX, XLSX, ODT or ODS, by what the archive holds; every member must unpack intact."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if sum(info.file_size for info in archive.infolist()) > documents.MAX_UNPACKED_BYTES:
                raise PayloadTooLarge(
                    f"the document unpacks to more than {documents.MAX_UNPACKED_BYTES} bytes"
                )
            if "mimetype" in names and "content.xml" in names:
                kind = _ODF_MIMETYPES.get(archive.read("mimetype").strip())
            elif "[Content_Types].xml" in names and "word/document.xml" in names:
                kind = DOCX
            elif "[Content_Types].xml" in names and "xl/workbook.xml" in names:
                kind = XLSX
            else:
                kind = None
            if kind is None:
                raise UnsupportedMediaType(
                    "the file is a zip archive but not a DOCX, XLSX, ODT or ODS document"
                )
            if (broken := archive.testzip()) is not None:
                raise _corrupt(f"the document is corrupt: {broken} does not unpack intact")
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as exc:
        raise _corrupt(f"the document is corrupt ({exc})") from None
    return kind


def _check_png(file: BinaryIO, size: int) -> None:
    """Every chunk whole with its CRC right, IHDR first and IEND last."""
    file.seek(len(_PNG_SIGNATURE))
    position, first, last = len(_PNG_SIGNATURE), True, b""
    while position < size:
        header = file.read(8)
        if len(header) < 8:
            raise _corrupt("the PNG is truncated")
        length, kind = int.from_bytes(header[:4], "big"), header[4:]
        if (first and kind != b"IHDR") or position + 12 + length > size:
            raise _corrupt("the PNG is corrupt or truncated")
        crc = zlib.crc32(kind)
        remaining = length
        while remaining:
            data = file.read(min(remaining, CHUNK))
            crc = zlib.crc32(data, crc)
            remaining -= len(data)
        if int.from_bytes(file.read(4), "big") != crc:
            raise _corrupt(f"the PNG is corrupt: the {kind.decode('latin-1')} chunk fails its CRC")
        position += 12 + length
        first, last = False, kind
        if kind == b"IEND":
            break
    if last != b"IEND":
        raise _corrupt("the PNG is truncated: it has no IEND chunk")


def _check_jpeg(file: BinaryIO, size: int) -> None:
    """A start-of-image marker, then a marker segment, and an end-of-image marker near the end
    (cameras may append a trailer after it)."""
    file.seek(0)
    head = file.read(4)
    if len(head) < 4 or head[:3] != b"\xff\xd8\xff" or head[3] in (0x00, 0xFF, 0xD8, 0xD9):
        raise _corrupt("the JPEG is corrupt: it does not begin with a marker segment")
    file.seek(max(0, size - CHUNK))
    if b"\xff\xd9" not in file.read():
        raise _corrupt("the JPEG is truncated: it has no end-of-image marker")


def _check_text(file: BinaryIO) -> None:
    """UTF-8 throughout (a byte order mark allowed), with no NUL or other control character."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    try:
        for chunk in _chunks(file):
            if _CONTROL.search(decoder.decode(chunk)):
                raise UnsupportedMediaType(
                    "the file is neither an accepted binary type nor text: it holds control "
                    "characters (text files must be UTF-8 text)"
                )
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise UnsupportedMediaType(
            f"the file is not UTF-8 text (invalid byte at offset {exc.start}) nor any other "
            "accepted type; save text files as UTF-8"
        ) from None


def _detect(file: BinaryIO, size: int, by_name: str | None, by_type: str | None) -> str:
    file.seek(0)
    head = file.read(8192)
    guessed = filetype.guess_mime(head)
    if guessed == PDF:
        return PDF
    if guessed == PNG:
        _check_png(file, size)
        return PNG
    if guessed == JPEG:
        _check_jpeg(file, size)
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return _zipped_kind(file)
    if guessed is not None:
        raise UnsupportedMediaType(
            f"the file's bytes are {guessed}, which is not an accepted type; "
            "accepted: PDF, DOCX, XLSX, ODT, ODS, CSV, TXT, PNG, JPEG"
        )
    _check_text(file)
    return CSV if CSV in (by_name, by_type) else TXT


def inspect(
    file: BinaryIO, *, filename: str | None, content_type: str | None, max_bytes: int
) -> Inspected:
    """Check an uploaded file in full. 413 past `max_bytes`; 415 when its bytes are no accepted
    type or not the type its name or Content-Type claims; 422 when it is empty or corrupt."""
    sha256, size = _digest_and_size(file)
    if size > max_bytes:
        raise PayloadTooLarge(f"an attachment may hold at most {max_bytes} bytes")
    if size == 0:
        raise _corrupt("the file is empty")
    name = safe_filename(filename)
    by_name, by_type = _claimed(name, content_type)
    found = _detect(file, size, by_name, by_type)
    _check_claims(found, by_name, by_type, name)
    text = ""
    if found == PDF:
        text = documents.pdf_text(file, loc=LOC, everything=True)
    elif found in (TXT, CSV):
        text = documents.plain_text(file, kind="CSV file" if found == CSV else "text file")
    elif found in ZIPPED:
        text = documents.package_text(file, kind=_ZIPPED_KINDS[found], loc=LOC)
    if not _extension(name):
        name = f"{name or 'attachment'}{KINDS[found][0][0]}"
    return Inspected(filename=name, media_type=found, size=size, sha256=sha256, text=text)
