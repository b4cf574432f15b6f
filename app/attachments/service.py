"""Attachments: adding the documents a response released, removing them, and serving them.

The bytes are stored as 1 MiB rows of `attachment_chunk`, written in the transaction that adds
the attachment and refreshes its entry, so a failed upload leaves nothing and a backup holds
everything. An upload is inspected (`files.inspect`) before that transaction begins, so no
connection or lock is held while a file is read or parsed."""

import itertools
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, BinaryIO

from sqlalchemy import insert, select
from sqlmodel import Session

from app import privacy
from app.attachments.files import CHUNK, Inspected, inspect
from app.attachments.schemas import AttachmentInternal, RequestAttachments
from app.audit import service as audit
from app.db import new_session
from app.entries import service as entries
from app.errors import FoilogError, Gone, NotFound, RuleViolation
from app.foi_requests import service as requests
from app.keys.schemas import Actor
from app.models import (
    Attachment,
    AttachmentChunk,
    DisclosureEntry,
    FoiRequest,
    FoiResponse,
    table_of,
)
from app.preconditions import check_if_match

# Past this many, a response's documents belong in one archive or several responses.
MAX_PER_RESPONSE = 100


def internal(attachment: Attachment) -> AttachmentInternal:
    assert attachment.id is not None
    return AttachmentInternal(
        id=attachment.id,
        response_id=attachment.response_id,
        filename=attachment.filename,
        media_type=attachment.media_type,
        bytes=attachment.size,
        sha256=attachment.sha256,
        url=entries.attachment_url(attachment.id),
        created_at=attachment.created_at,
    )


def _entry(session: Session, request: FoiRequest) -> DisclosureEntry | None:
    """The request's entry, if published (or scheduled); a withdrawn one takes no changes."""
    entry = requests.entry_of(session, request.id)
    if entry is not None and entry.withdrawn_at is not None:
        raise Gone(
            f"entry {entry.id} was withdrawn; its attachments no longer change",
            extra={"tombstone": entries.tombstone(entry).model_dump(mode="json")},
        )
    return entry


def _write_bytes(session: Session, attachment_id: int, file: BinaryIO) -> None:
    file.seek(0)
    seq = 0
    while chunk := file.read(CHUNK):
        session.execute(
            insert(AttachmentChunk), {"attachment_id": attachment_id, "seq": seq, "data": chunk}
        )
        seq += 1


def add(
    session: Session,
    response_id: int,
    inspected: Inspected,
    file: BinaryIO,
    *,
    actor: Actor,
    acknowledge_privacy_warning: bool = False,
) -> Attachment:
    """Attach an inspected file to a response, in one transaction. On a published response
    this changes the entry: it is privacy-checked, refreshed and announced as updated."""
    response = session.get(FoiResponse, response_id)
    request = session.get(FoiRequest, response.request_id) if response else None
    if request is None:
        raise NotFound(f"no response with id {response_id}")
    requests.check_scope_of(actor, request.force_id, f"response {response_id}")
    # Held, so that attachments added at once cannot pass MAX_PER_RESPONSE between them.
    requests.hold(session, request)
    entry = _entry(session, request)
    a = table_of(Attachment).c
    full = select(a.id).where(a.response_id == response_id).offset(MAX_PER_RESPONSE - 1)
    if session.scalar(full) is not None:
        raise RuleViolation(
            "attachments-per-response",
            f"a response has at most {MAX_PER_RESPONSE} attachments",
            loc=("path", "response_id"),
        )
    attachment = Attachment(
        response_id=response_id,
        filename=inspected.filename,
        media_type=inspected.media_type,
        size=inspected.size,
        sha256=inspected.sha256,
        text=inspected.text,
    )
    session.add(attachment)
    session.flush()
    assert attachment.id is not None
    _write_bytes(session, attachment.id, file)
    acknowledged: list[list[str | int]] = []
    if entry is not None:
        acknowledged = privacy.guard_texts(
            request,
            [(("body", "file"), f"{attachment.filename}\n{attachment.text}")],
            acknowledged=acknowledge_privacy_warning,
            acknowledge=privacy.IN_QUERY,
        )
    audit.record(
        session,
        actor,
        "attachment.create",
        "attachment",
        attachment.id,
        None,
        internal(attachment),
        acknowledged=acknowledged,
    )
    if entry is not None:
        entries.refresh(session, entry)
    session.commit()
    return attachment


def get(session: Session, attachment_id: int, *, actor: Actor) -> Attachment:
    """An attachment of the key's forces: 404 if there is none, 403 if another force's."""
    attachment = session.get(Attachment, attachment_id)
    response = session.get(FoiResponse, attachment.response_id) if attachment else None
    request = session.get(FoiRequest, response.request_id) if response else None
    if attachment is None or request is None:
        raise NotFound(f"no attachment with id {attachment_id}")
    requests.check_scope_of(actor, request.force_id, f"attachment {attachment_id}")
    return attachment


def etag(sha256: str) -> str:
    """The tag a download of an attachment carries: its bytes' digest."""
    return f'"{sha256}"'


def remove(
    session: Session, attachment_id: int, *, actor: Actor, if_match: str | None = None
) -> None:
    """Remove an attachment; from a published response this is a change to the entry.
    `If-Match` names the bytes the caller means to remove (the download's ETag)."""
    attachment = get(session, attachment_id, actor=actor)
    response = session.get_one(FoiResponse, attachment.response_id)
    request = session.get_one(FoiRequest, response.request_id)
    requests.hold(session, request)
    # Held, then read again: a removal that ran meanwhile leaves nothing to remove.
    if session.get(Attachment, attachment_id, populate_existing=True) is None:
        raise NotFound(f"no attachment with id {attachment_id}")
    check_if_match(if_match, etag(attachment.sha256))
    entry = _entry(session, request)
    before = internal(attachment)
    session.delete(attachment)
    session.flush()
    audit.record(session, actor, "attachment.delete", "attachment", attachment_id, before, None)
    if entry is not None:
        entries.refresh(session, entry)
    session.commit()


def of_request(
    session: Session, force_id: str, reference: str, *, actor: Actor
) -> RequestAttachments:
    """The attachments of the request with this reference, response by response."""
    requests.check_scope(actor, force_id)
    request = requests.find(session, force_id, reference)
    if request is None:
        raise NotFound(f"no request {reference!r} of {force_id!r}")
    by_response: dict[int | None, list[AttachmentInternal]] = {
        response.id: [] for response in request.responses
    }
    a = table_of(Attachment).c
    rows = session.scalars(select(Attachment).where(a.response_id.in_(by_response)).order_by(a.id))
    for row in rows:
        by_response[row.response_id].append(internal(row))
    return RequestAttachments.model_validate(
        {
            "request_id": request.id,
            "responses": [
                {
                    "id": response.id,
                    "kind": response.kind,
                    "responded_on": response.responded_on,
                    "attachments": by_response[response.id],
                }
                for response in request.responses
            ],
        }
    )


@dataclass(frozen=True)
class Download:
    id: int
    filename: str
    media_type: str
    size: int
    sha256: str


def find_public(attachment_id: int, now: datetime) -> Download:
    """An attachment the public may download: its entry published and due (404 before, as for
    an unknown id), not withdrawn (410). On a session of its own, closed before the download
    starts."""
    a = table_of(Attachment).c
    r = table_of(FoiResponse).c
    e = table_of(DisclosureEntry).c
    query = (
        select(a.id, a.filename, a.media_type, a.size, a.sha256, e.published_at, e.withdrawn_at)
        .join_from(Attachment, FoiResponse, a.response_id == r.id)
        .join(DisclosureEntry, e.request_id == r.request_id)
        .where(a.id == attachment_id)
    )
    with new_session() as session:
        row = session.execute(query).first()
    if row is None or row.published_at > now:
        raise NotFound(f"no published attachment with id {attachment_id}")
    if row.withdrawn_at is not None:
        raise Gone(f"attachment {attachment_id} was withdrawn with its entry")
    return Download(row.id, row.filename, row.media_type, row.size, row.sha256)


class Removed(Exception):
    """An attachment's chunks ran out before its size: it was removed while it was read."""


def whole(found: Download) -> bytes:
    """A download's bytes at once (for a file of one chunk); 404 if it was removed since it
    was found."""
    try:
        return b"".join(read(found.id, found.size))
    except Removed:
        raise _gone(found) from None


def stream(found: Download) -> Iterator[bytes]:
    """A download's bytes, a chunk at a time; 404 if it was removed since it was found. The
    first chunk is read here, before the response begins. A removal after that raises `Removed`
    from the iterator, which ends the response before its last bytes: the client sees the
    transfer cut short (its Content-Length not reached, or chunked encoding without its last
    chunk), never a short file that looks whole."""
    chunks = read(found.id, found.size)
    try:
        first = next(chunks, b"")
    except Removed:
        raise _gone(found) from None
    return itertools.chain((first,), chunks)


def _gone(found: Download) -> NotFound:
    return NotFound(f"no published attachment with id {found.id}")


def read(attachment_id: int, size: int) -> Iterator[bytes]:
    """The `size` bytes, a chunk at a time, each read on a short session of its own: a slow
    client holds no connection, and a process holds one chunk of a download in memory."""
    chunk = table_of(AttachmentChunk).c
    seq = done = 0
    while done < size:
        with new_session() as session:
            data: Any = session.execute(
                select(chunk.data).where(chunk.attachment_id == attachment_id, chunk.seq == seq)
            ).scalar()
        if data is None:
            raise Removed(f"attachment {attachment_id} was removed after {done} of {size} bytes")
        yield bytes(data)
        done += len(data)
        seq += 1


@dataclass
class Reread:
    read: int = 0  # attachments read again
    changed: int = 0  # whose text changed
    unreadable: list[int] = field(default_factory=list)  # refused by today's reader
    naming: list[int] = field(default_factory=list)  # public, and now naming their requester


def reread(session: Session, *, max_bytes: int) -> Reread:
    """Read every stored attachment again as an upload is read now, and keep the text found:
    what search and the privacy check read. A file stored by an older reader may hold text it
    never read (a header, a comment, a PDF's metadata), so a name there was never checked.
    An attachment of a public entry whose text now names the requester is listed, not
    hidden: the FOI team decides whether to remove it or withdraw the entry. One
    transaction an attachment; safe to stop and run again."""
    done = Reread()
    a = table_of(Attachment).c
    stored = session.execute(select(a.id, a.filename, a.media_type, a.size).order_by(a.id)).all()
    session.rollback()
    for attachment_id, filename, media_type, size in stored:
        # Read and parsed holding no transaction: a large file takes seconds.
        with tempfile.TemporaryFile() as file:
            try:
                for chunk in read(attachment_id, size):
                    file.write(chunk)
            except Removed:
                continue
            try:
                inspected = inspect(
                    file, filename=filename, content_type=media_type, max_bytes=max_bytes
                )
            except FoilogError:
                done.unreadable.append(attachment_id)
                continue
        done.read += 1
        attachment = session.get(Attachment, attachment_id)
        if attachment is None or inspected.text == attachment.text:
            session.rollback()  # removed meanwhile, or read as it was
            continue
        attachment.text = inspected.text
        done.changed += 1
        response = session.get_one(FoiResponse, attachment.response_id)
        request = session.get_one(FoiRequest, response.request_id)
        entry = requests.entry_of(session, request.id)
        if entry is not None and entry.withdrawn_at is None:
            try:
                privacy.guard_texts(
                    request,
                    [(("file",), f"{attachment.filename}\n{inspected.text}")],
                    acknowledged=False,
                )
            except RuleViolation:
                done.naming.append(attachment_id)
            entries.refresh(session, entry)  # its search text holds the attachment's
        session.commit()
    return done
