"""Every matching entry of the public log, streamed: NDJSON (the stored documents verbatim) or
CSV. The route and `foilog export` share `stream`, so both write the same bytes.

Entries are read in keyset batches on the id (`id > last ORDER BY id LIMIT n`), selecting only
the id and the stored document, so memory stays flat however many entries match and a batch
costs the same at any depth. Each batch is read on a session of its own, closed before the
batch is handed on: a client that stops reading holds no database connection."""

import csv
import io
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from enum import StrEnum
from typing import Any

import orjson
from sqlalchemy import ColumnElement, select
from sqlmodel import Session, col

from app.models import DisclosureEntry

BATCH = 1000


class Format(StrEnum):
    NDJSON = "ndjson"
    CSV = "csv"


MEDIA_TYPES = {Format.NDJSON: "application/x-ndjson", Format.CSV: "text/csv; charset=utf-8"}

CSV_COLUMNS = (
    "id",
    "force",
    "law",
    "reference",
    "aliases",
    "title",
    "topics",
    "received_on",
    "due_on",
    "responded_on",
    "responded_within_deadline",
    "outcome",
    "exemptions",
    "published_at",
    "updated_at",
    "url",
    "attachment_urls",
    "attachment_sha256s",
)
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


Sessions = Callable[[], AbstractContextManager[Session]]


def batches(
    where: list[ColumnElement[bool]], *, sessions: Sessions, size: int
) -> Iterator[list[str]]:
    """The stored documents of the entries that meet `where`, in id order, `size` at a time,
    each batch read on a new session from `sessions`."""
    entry_id = col(DisclosureEntry.id)
    last = 0
    while True:
        with sessions() as session:
            rows = session.execute(
                select(entry_id, col(DisclosureEntry.document))
                .where(*where, entry_id > last)
                .order_by(entry_id)
                .limit(size)
            ).all()
        if rows:
            yield [document for _, document in rows]
        if len(rows) < size:
            return
        last = rows[-1][0]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = ";".join(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_row(document: dict[str, Any], base_url: str) -> list[str]:
    """One entry as flat CSV cells; lists joined with `;`."""
    attachments = document.get("attachments", [])
    values = {
        **document,
        "url": f"{base_url}/v1/disclosure-log/{document['id']}",
        "attachment_urls": [f"{base_url}{a['url']}" for a in attachments],
        "attachment_sha256s": [a["sha256"] for a in attachments],
    }
    return [_cell(values[name]) for name in CSV_COLUMNS]


def _ndjson(documents: Iterator[list[str]]) -> Iterator[bytes]:
    for batch in documents:
        yield ("\n".join(batch) + "\n").encode()


def _csv(documents: Iterator[list[str]], base_url: str) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for batch in documents:
        writer.writerows(csv_row(orjson.loads(document), base_url) for document in batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def stream(
    where: list[ColumnElement[bool]], fmt: Format, *, sessions: Sessions, base_url: str
) -> Iterator[bytes]:
    """The export as chunks of bytes, one batch of entries each; CSV links under `base_url`."""
    documents = batches(where, sessions=sessions, size=BATCH)
    return _ndjson(documents) if fmt is Format.NDJSON else _csv(documents, base_url)
