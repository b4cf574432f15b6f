"""Import NDJSON entry documents: upsert by (force, reference), all or nothing.

The body is on disk first (`Spool`), then read twice. The first pass checks every line on a
read session, taking no lock: a bad file is refused before any write begins. The second pass,
in the one write transaction, settles lines a batch at a time: one query finds which references
exist already (those take the ORM's replace path, one by one, in file order); the new ones are
written together, a few multi-row statements per table, with their documents built from plain
objects by the same code as every other entry's."""

import codecs
import logging
import multiprocessing
import os
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from functools import partial
from typing import Any, NamedTuple

import orjson
from pydantic import ValidationError
from sqlalchemy import (
    Connection,
    Insert,
    Table,
    bindparam,
    func,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col

from app import privacy
from app.attachments import service as attachments
from app.audit import service as audit
from app.changes import service as changes
from app.db import insert_many, new_session, refresh_statistics, utcnow
from app.entries import service as entries
from app.entries.schemas import Answer, Question, ResponseBody
from app.errors import (
    Conflict,
    ErrorLoc,
    FoilogError,
    Forbidden,
    InvalidInput,
    PayloadTooLarge,
    RuleViolation,
    WriteBusy,
)
from app.exemptions import service as exemptions
from app.foi_requests import service as requests
from app.foi_responses import service as responses
from app.imports.schemas import ImportDocument, ImportResult
from app.inputs import KNOWN_CLEAN, may_hold_not_text
from app.keys.schemas import Actor
from app.models import (
    Attachment,
    ChangeKind,
    DisclosureEntry,
    EntryExemption,
    EntryReference,
    EntryTopic,
    FoiAnswer,
    FoiCitation,
    FoiQuestion,
    FoiRequest,
    FoiResponse,
    Force,
    RequestReference,
    RequestStatus,
    RequestTopic,
    Topic,
    table_of,
)
from app.round_robins import service as round_robins
from app.search import engine_for
from app.tally import service as tally
from app.topics import service as topics_service

# Lines are settled a batch at a time, and the ORM session emptied after each, so memory stays
# flat however long the file; the transaction stays one.
BATCH = 1000
PROGRESS_EVERY = 100
# Batches of round_robins.BATCH entries linked a transaction after a SQLite import.
SQLITE_LINK_BATCHES = 10
MAX_LINE_BYTES = 32 * 1024 * 1024

log = logging.getLogger("foilog.imports")


class Stage(StrEnum):
    """An import's stages, in order, as its progress is reported."""

    CHECKED = "checked"  # lines checked, before anything is written
    WRITTEN = "written"  # lines written, in the one transaction
    LINKED = "linked"  # new entries linked into round-robins, once the lines are committed


# Told the stage, how far it has gone, and out of how many (None: not known to the import).
OnProgress = Callable[[Stage, int, int | None], None]


def _report(on_progress: OnProgress | None, stage: Stage, done: int, total: int | None) -> None:
    if on_progress is not None:
        on_progress(stage, done, total)


def lines_of(chunks: Iterable[bytes], *, max_line: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Split a byte stream into lines without holding more than one line."""
    pending = bytearray()
    count = 0
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            pending += chunk[start:end]
            count += 1
            if len(pending) > max_line:
                raise PayloadTooLarge(f"line {count} is longer than {max_line} bytes")
            yield bytes(pending)
            pending.clear()
            start = end + 1
        pending += chunk[start:]
        if len(pending) > max_line:
            raise PayloadTooLarge(f"line {count + 1} is longer than {max_line} bytes")
    if pending:
        yield bytes(pending)


SPOOL_READ = 1 << 20


class Spool:
    """An import body on disk, within `max_bytes`: written as it arrives, then read line by line
    as often as needed. Iterating it yields its lines from the start."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by close or `with`)

    @classmethod
    def of(cls, chunks: Iterable[bytes], max_bytes: int) -> "Spool":
        spool = cls(max_bytes)
        for chunk in chunks:
            spool.write(chunk)
        return spool

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_bytes:
            raise PayloadTooLarge(f"an import may hold at most {self.max_bytes} bytes")
        self._file.write(chunk)

    def __iter__(self) -> Iterator[bytes]:
        self._file.flush()
        self._file.seek(0)
        return lines_of(iter(lambda: self._file.read(SPOOL_READ), b""))

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "Spool":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@dataclass(slots=True)
class _Topic:
    slug: str
    label: str


@dataclass(slots=True)
class _Citation:
    exemption_id: str
    provision: str
    ncnd: bool
    questions: list[str]
    public_interest: dict[str, Any] | None
    harm: str | None


@dataclass(slots=True)
class _Response:
    kind: str
    responded_on: date
    outcome: str
    text: str
    signatory_name: str | None
    signatory_role: str | None
    answers: list[Answer]
    citations: list[_Citation]


@dataclass(slots=True)
class _Request:
    """A new request as the document builders and the privacy guard read it."""

    force_id: str
    reference: str
    aliases: list[str]
    received_on: date
    due_on: date
    text: str
    questions: list[Question]
    responses: list[_Response]
    clarification_received_on: date | None = None
    extended_due_on: date | None = None
    requester_name: str | None = None
    requester_email: str | None = None


@dataclass(slots=True)
class _Entry:
    """A new entry's columns: `entries.fill` derives them, as for every entry."""

    id: int | None
    title: str
    published_at: datetime
    updated_at: datetime
    force_id: str = ""
    law: str = ""
    reference: str = ""
    received_on: date = date.min
    due_on: date = date.min
    responded_on: date | None = None
    responded_within_deadline: bool | None = None
    working_days_to_respond: int | None = None
    outcome: str | None = None
    search_text: str = ""
    document: str = ""


class _Line(NamedTuple):
    number: int
    document: ImportDocument
    law: str
    topics: list[_Topic]
    key: tuple[str, str]


def _reserve(connection: Connection, model: type[Any], count: int) -> list[int]:
    """Ids for `count` rows about to be written, in order. An entry's document holds its id, so
    ids are taken before rows are written; every table takes them so, and its rows go in one
    multi-row INSERT without RETURNING."""
    if not count:
        return []
    table = table_of(model)
    if connection.dialect.name == "sqlite":
        # SQLite hands out max(id) + 1, and this transaction holds the write lock until commit.
        last = connection.execute(select(func.max(table.c.id))).scalar_one() or 0
        return list(range(last + 1, last + 1 + count))
    sequence = func.pg_get_serial_sequence(table.name, "id")
    ids = connection.execute(
        select(func.nextval(sequence)).select_from(func.generate_series(1, count))
    ).scalars()
    return sorted(ids)


@dataclass(slots=True)
class _Dates:
    """A line's statutory dates, as `requests.schedule` checks them and derives `due_on`."""

    received_on: date
    clarification_received_on: date | None
    extended_due_on: date | None
    due_on: date = date.min


def _response(body: ResponseBody) -> _Response:
    return _Response(
        **responses.columns(body),
        answers=body.answers,
        citations=[_Citation(**responses.citation_columns(c)) for c in body.citations],
    )


class _Rows:
    """The rows of a batch of new entries, table by table, in the order foreign keys need."""

    MODELS = (
        FoiRequest,
        RequestReference,
        FoiQuestion,
        FoiResponse,
        FoiAnswer,
        FoiCitation,
        RequestTopic,
        DisclosureEntry,
        EntryTopic,
        EntryExemption,
        EntryReference,
    )

    def __init__(self) -> None:
        self.rows: dict[type[Any], list[dict[str, Any]]] = {model: [] for model in self.MODELS}

    def add(self, model: type[Any], rows: Iterable[dict[str, Any]]) -> None:
        self.rows[model].extend(rows)

    def write(self, connection: Connection) -> None:
        for model, rows in self.rows.items():
            table = table_of(model)
            insert_many(connection, table, rows, statement=self._sqlite_insert(table))

    @staticmethod
    def _sqlite_insert(table: Table) -> Insert:
        if table.name != DisclosureEntry.__tablename__:
            return insert(table)
        # RETURNING makes the rows go as multi-row INSERTs. One row per statement, SQLite's
        # search-index trigger wrote each entry's terms to disk on its own (FTS5 flushes at every
        # statement's savepoint): 5,000 entries took 1.3 s of CPU that way, 0.65 s so.
        return insert(table).returning(table.c.id)


_request = table_of(FoiRequest).c
_EXISTING = select(_request.id, _request.reference_key).where(
    _request.force_id == bindparam("force"),
    _request.reference_key.in_(bindparam("keys", expanding=True)),
)


class _Checker:
    """Checks lines without writing: their shape, the rules, the key's scope and topic slugs,
    and for references that exist already, against the database as it is now, whether their
    entry was withdrawn and whether the new text names their requester. Lines are checked a
    batch at a time (one query finds the existing references), in file order. A reference or
    alias another request has is not refused: the write shares it (README "References")."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        forces = table_of(Force).c
        self.laws: dict[str, str] = dict(session.execute(select(forces.id, forces.law)).all())
        self.catalogue = exemptions.catalogue(session)
        self.waiting: list[_Line] = []

    def read(self, number: int, raw: bytes) -> None:
        try:
            line = self._read(number, raw)
        except FoilogError:
            # A line before this one may yet fail against what exists: the first bad line is
            # the one reported.
            self.settle()
            raise
        self.waiting.append(line)
        if len(self.waiting) >= BATCH:
            self.settle()

    def _read(self, number: int, raw: bytes) -> _Line:
        loc: ErrorLoc = ("line", number)
        try:
            clean = None if may_hold_not_text(raw) else KNOWN_CLEAN
            document = ImportDocument.model_validate_json(raw, context=clean)
        except ValidationError as exc:
            errors = [{"loc": [*loc, *error["loc"]], "msg": error["msg"]} for error in exc.errors()]
            where = ".".join(str(part) for part in errors[0]["loc"])
            raise InvalidInput(
                f"line {number} is not a valid entry ({where})", errors=errors
            ) from None
        law = self._check(document, loc)
        topics = self._topics(document.topics, (*loc, "topics"))
        key = (document.force, entries.reference_key(document.reference))
        return _Line(number, document, law, topics, key)

    def _topics(self, slugs: list[str], loc: ErrorLoc) -> list[_Topic]:
        labels = topics_service.given(slugs, loc=loc)
        return [_Topic(slug, labels[slug]) for slug in sorted(labels)]

    def _check(self, document: ImportDocument, loc: ErrorLoc) -> str:
        law = self.laws.get(document.force)
        if law is None:
            raise RuleViolation(
                "force-unknown", f"no force with id {document.force!r}", loc=(*loc, "force")
            )
        if document.law is not None and document.law != law:
            raise RuleViolation(
                "law-mismatch",
                f"{document.force} answers under {law}, not {document.law}",
                loc=(*loc, "law"),
            )
        if not self.actor.may_access(document.force):
            raise Forbidden(
                f"line {loc[1]}: the key may not write for the force {document.force!r}"
            )
        dates = (document.received_on, document.clarification_received_on, document.extended_due_on)
        requests.schedule(_Dates(*dates), law, loc=loc)
        if not document.responses:
            # As publishing through the API: an entry is the force's answer (SPEC §1).
            raise RuleViolation(
                "publish-unanswered",
                f"line {loc[1]}: an entry is published with its response; give at least one",
                loc=(*loc, "responses"),
            )
        requests.check_questions(
            [q.number for q in document.request.questions], loc=(*loc, "request")
        )
        responses.check_all(
            document.responses,
            received_on=document.received_on,
            law=law,
            questions={q.number for q in document.request.questions},
            catalogue=self.catalogue,
            loc=(*loc, "responses"),
        )
        return law

    def _existing(self, lines: list[_Line]) -> dict[tuple[str, str], int]:
        """The requests the lines' keys name already: one statement a force, its references an
        IN list probed in the (force, reference) index. A list of (force, reference) pairs was
        a VALUES table that SQLAlchemy compiled anew every batch, its 1,000 rows a value at a
        time (132 ms a batch, 9% of an import of 20,000 entries by cProfile); `(force_id,
        reference_key) IN (...)` made SQLite scan the whole index."""
        by_force: dict[str, list[str]] = defaultdict(list)
        for force, key in sorted({line.key for line in lines}):
            by_force[force].append(key)
        return {
            (force, key): request_id
            for force, keys in by_force.items()
            for request_id, key in self.session.execute(_EXISTING, {"force": force, "keys": keys})
        }

    def settle(self) -> None:
        if not self.waiting:
            return
        existing = self._existing(self.waiting)
        for line in self.waiting:
            request_id = existing.get(line.key)
            if request_id is None:
                continue
            loc: ErrorLoc = ("line", line.number)
            _check_replaceable(line, requests.entry_of(self.session, request_id))
            stored = self.session.get_one(FoiRequest, request_id)
            requests.check_not_withdrawn(stored, loc=(*loc, "reference"))
            replaced = _new_request(line)
            replaced.requester_name = stored.requester_name
            replaced.requester_email = stored.requester_email
            privacy.guard(replaced, line.document.title, acknowledged=False, loc=loc)
        self.waiting.clear()
        self.session.expunge_all()


# Fields of an entry document that are the instance's own, not the line's to set.
_LOCAL = ("id", "updated_at", "attachments", "round_robin")


def _public(document: str) -> dict[str, Any]:
    return {k: v for k, v in orjson.loads(document).items() if k not in _LOCAL}


def _check_replaceable(line: _Line, entry: DisclosureEntry | None) -> None:
    """What a line may not do to the entry its reference has: restore it once withdrawn, or
    hide it again by moving its publication into the future once the public can read it. A
    hidden entry's updates would still reach the change feed, webhooks and its round-robin,
    and every mirror would keep what the log no longer shows; withdrawal is how an entry
    leaves the log."""
    if entry is None:
        return
    if entry.withdrawn_at is not None:
        raise RuleViolation(
            "entry-withdrawn",
            f"{line.document.reference} was withdrawn from this log; import does not restore it",
            loc=("line", line.number, "reference"),
        )
    when = line.document.published_at
    if when is not None and when > utcnow() >= entry.published_at:
        raise RuleViolation(
            "entry-published",
            f"{line.document.reference} was published on {entry.published_at:%Y-%m-%d}; an "
            "import may not move its publication into the future (withdraw it to take it down)",
            loc=("line", line.number, "published_at"),
        )


def _new_request(line: _Line) -> _Request:
    document = line.document
    # In the order the request's rows will be read back: by date, then as written.
    bodies = sorted(document.responses, key=lambda body: body.responded_on)
    request = _Request(
        force_id=document.force,
        reference=document.reference,
        aliases=document.aliases,
        received_on=document.received_on,
        due_on=date.min,
        text=document.request.text,
        questions=document.request.questions,
        responses=[_response(body) for body in bodies],
        clarification_received_on=document.clarification_received_on,
        extended_due_on=document.extended_due_on,
    )
    # Its due date, as the write API computes and checks it (checked already: cannot fail).
    requests.schedule(request, line.law)
    return request


# How often a signing process checks that the import's process still runs.
FOLLOW_S = 0.5


def _follow(parent: int) -> None:
    """In a signing process: end as soon as the import's process (`parent`) has ended, however
    it ended. A worker killed mid-import (SIGKILL) left its helper waiting for ever to send a
    batch's signatures into a pipe whose reading end the helper holds as well."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(FOLLOW_S)
        os._exit(0)

    threading.Thread(target=watch, name="foilog-signer-follow", daemon=True).start()


class _Signer:
    """Signs request texts for round-robin linking (shingles and MinHash: a third of writing
    a batch of new entries, by py-spy of an import at 1,000,000) in a process of its own, while
    this one writes the batch's rows. A small import signs in its own process: starting
    another costs more than it saves."""

    def __init__(self, *, parallel: bool) -> None:
        self._pool = (
            ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_follow,
                initargs=(os.getpid(),),
            )
            if parallel
            else None
        )

    def submit(self, texts: list[str]) -> Callable[[], list[bytes | None]]:
        """Start signing; call what is returned for the signatures, in order."""
        if self._pool is None:
            return partial(round_robins.sign, texts)
        try:
            future = self._pool.submit(round_robins.sign, texts)
        except BrokenProcessPool:
            return self._alone(texts)

        def result() -> list[bytes | None]:
            try:
                return future.result()
            except BrokenProcessPool:
                return self._alone(texts)()

        return result

    def _alone(self, texts: list[str]) -> Callable[[], list[bytes | None]]:
        """The helper did not start or died (killed, or a program that starts its work again
        when imported, as a spawned process imports it): the import signs the rest itself."""
        log.warning("the import's signing process stopped; signing in this one", exc_info=True)
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        return partial(round_robins.sign, texts)

    def __enter__(self) -> "_Signer":
        return self

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)


class _Importer(_Checker):
    """Writes checked lines; a line that fails now (the data changed since it was checked)
    fails the import all the same."""

    def __init__(self, session: Session, actor: Actor, signer: _Signer) -> None:
        super().__init__(session, actor)
        self.signer = signer
        self.topics: dict[str, _Topic] = {}
        self.result = ImportResult()
        # New entries visible at once: linked into round-robins at the end, in one pass.
        self.to_link: list[int] = []

    def _topics(self, slugs: list[str], loc: ErrorLoc) -> list[_Topic]:
        wanted = {topics_service.normalise(slug) for slug in slugs}
        if not wanted <= self.topics.keys():
            # A topic seen for the first time is created if new and read back by the write
            # API's own code.
            for topic in requests.load_topics(self.session, slugs, loc=loc):
                self.topics[topic.slug] = _Topic(topic.slug, topic.label)
        return [self.topics[slug] for slug in sorted(wanted)]

    def settle(self) -> None:
        """Write the waiting lines in file order: runs of new references together, each
        existing one (or one repeated in the file) through the replace path."""
        if not self.waiting:
            return
        existing = self._existing(self.waiting)
        new: dict[tuple[str, str], _Line] = {}
        for line in self.waiting:
            if line.key in new or line.key in existing:
                # What comes before is written first; a reference repeated in the file then
                # exists, and its later line replaces what its first wrote.
                existing.update(self._write_new(list(new.values())))
                new.clear()
            if line.key in existing:
                if self._unchanged(existing[line.key], line):
                    self.result.unchanged += 1
                else:
                    self._replace(existing[line.key], line)
            else:
                new[line.key] = line
        self._write_new(list(new.values()))
        self.waiting.clear()
        self.session.flush()
        self.session.expunge_all()

    def link(self, on_progress: OnProgress | None = None) -> None:
        """Link the new entries into round-robins once the import is committed, a batch of
        round_robins.BATCH at a time. Linking locks the band keys of the entries it links, and
        an import's would fill PostgreSQL's lock table and hold them to its end: there each
        batch commits. SQLite takes no such locks and commits SQLITE_LINK_BATCHES at once (a
        commit every hundred entries was a fifth of the linking pass, by py-spy); the batches
        are the same, so both databases group an import alike. Entries left unlinked by a
        crash or a failed transaction are linked by the background runner (or at once by
        `foilog round-robins backfill`)."""
        batches = [
            self.to_link[start : start + round_robins.BATCH]
            for start in range(0, len(self.to_link), round_robins.BATCH)
        ]
        sqlite = self.session.get_bind().dialect.name == "sqlite"
        together = SQLITE_LINK_BATCHES if sqlite else 1
        linked = 0
        _report(on_progress, Stage.LINKED, linked, len(self.to_link))  # committed: linking
        for start in range(0, len(batches), together):
            committed = batches[start : start + together]
            try:
                for batch in committed:
                    regrouped = round_robins.group_announced(self.session, batch, new=False)
                    changes.record(self.session, regrouped, ChangeKind.UPDATED)
                self.session.commit()
            except (SQLAlchemyError, WriteBusy):
                # The import is in; its answer must say so. The background runner links the
                # rest within the hour (app.worker.link_unlinked).
                self.session.rollback()
                log.warning("linking an import into round-robins stopped", exc_info=True)
                return
            linked += sum(map(len, committed))
            _report(on_progress, Stage.LINKED, linked, len(self.to_link))

    def _write_new(self, lines: list[_Line]) -> dict[tuple[str, str], int]:
        """Insert the requests, responses and published entries of new references, a few
        multi-row statements per table, and announce them with one range of change numbers.
        Returns the new requests' ids by key."""
        if not lines:
            return {}
        self.session.flush()  # topics seen for the first time go first
        connection = self.session.connection()
        now = utcnow()
        count = sum(len(line.document.responses) for line in lines)
        request_ids = _reserve(connection, FoiRequest, len(lines))
        entry_ids = _reserve(connection, DisclosureEntry, len(lines))
        response_ids = iter(_reserve(connection, FoiResponse, count))
        built = [_new_request(line) for line in lines]
        for line, request in zip(lines, built, strict=True):
            privacy.guard(
                request, line.document.title, acknowledged=False, loc=("line", line.number)
            )
        compared = [
            entries.compared_text(entry_id, request)
            for entry_id, request in zip(entry_ids, built, strict=True)
        ]
        # Signed meanwhile, in the signer's process when it has one.
        signed = self.signer.submit([text.text for text in compared])
        rows = _Rows()
        announced: list[int] = []
        for line, request, request_id, entry_id in zip(
            lines, built, request_ids, entry_ids, strict=True
        ):
            document = line.document
            entry = _Entry(
                id=entry_id,
                title=document.title,
                published_at=document.published_at or now,
                updated_at=now,
            )
            entries.fill(entry, request, line.topics, line.law)
            rows.add(FoiRequest, [self._request_row(request_id, line, request, now)])
            rows.add(
                FoiQuestion,
                (
                    {"request_id": request_id, "position": i, "number": q.number, "text": q.text}
                    for i, q in enumerate(request.questions)
                ),
            )
            for response in request.responses:
                self._response_rows(rows, next(response_ids), request_id, response, now)
            rows.add(
                RequestTopic,
                ({"request_id": request_id, "topic_slug": t.slug} for t in line.topics),
            )
            announce = entry.published_at <= now
            rows.add(
                DisclosureEntry, [self._entry_row(entry, request_id, now if announce else None)]
            )
            rows.add(
                EntryTopic, ({"entry_id": entry_id, "topic_slug": t.slug} for t in line.topics)
            )
            names = requests.names(request.reference, request.aliases)
            rows.add(RequestReference, requests.name_rows(request.force_id, request_id, names))
            exemption_rows, reference_rows = entries.link_rows(entry, request)
            rows.add(EntryExemption, exemption_rows)
            rows.add(EntryReference, reference_rows)
            if announce:
                announced.append(entry_id)
        # A name another request has is shared, not refused (README "References").
        requests.share_clashing(self.session, rows.rows[RequestReference])
        rows.write(connection)
        tally.recount(self.session, entry_ids)
        round_robins.store(self.session, compared, group=False, signatures=signed())
        self.to_link += announced
        changes.record(self.session, announced, ChangeKind.PUBLISHED)
        self.result.created += len(lines)
        return {line.key: request_id for line, request_id in zip(lines, request_ids, strict=True)}

    @staticmethod
    def _request_row(
        request_id: int, line: _Line, request: _Request, now: datetime
    ) -> dict[str, Any]:
        return {
            "id": request_id,
            "force_id": request.force_id,
            "reference": request.reference,
            "reference_key": line.key[1],
            "aliases": request.aliases,
            "received_on": request.received_on,
            "title": line.document.title,
            "text": request.text,
            "status": RequestStatus.RESPONDED if request.responses else RequestStatus.RECEIVED,
            "due_on": request.due_on,
            "clarification_received_on": request.clarification_received_on,
            "extended_due_on": request.extended_due_on,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        }

    @staticmethod
    def _response_rows(
        rows: _Rows, response_id: int, request_id: int, response: _Response, now: datetime
    ) -> None:
        rows.add(
            FoiResponse,
            [
                {
                    "id": response_id,
                    "request_id": request_id,
                    "kind": response.kind,
                    "responded_on": response.responded_on,
                    "outcome": response.outcome,
                    "text": response.text,
                    "signatory_name": response.signatory_name,
                    "signatory_role": response.signatory_role,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            ],
        )
        rows.add(
            FoiAnswer,
            (
                {
                    "response_id": response_id,
                    "position": i,
                    "questions": a.questions,
                    "text": a.text,
                }
                for i, a in enumerate(response.answers)
            ),
        )
        rows.add(
            FoiCitation,
            (
                {
                    "response_id": response_id,
                    "position": i,
                    "exemption_id": c.exemption_id,
                    "provision": c.provision,
                    "ncnd": c.ncnd,
                    "questions": c.questions,
                    "public_interest": c.public_interest,
                    "harm": c.harm,
                }
                for i, c in enumerate(response.citations)
            ),
        )

    @staticmethod
    def _entry_row(entry: _Entry, request_id: int, announced_at: datetime | None) -> dict[str, Any]:
        return {
            "id": entry.id,
            "request_id": request_id,
            "force_id": entry.force_id,
            "law": entry.law,
            "reference": entry.reference,
            "title": entry.title,
            "received_on": entry.received_on,
            "due_on": entry.due_on,
            "responded_on": entry.responded_on,
            "responded_within_deadline": entry.responded_within_deadline,
            "working_days_to_respond": entry.working_days_to_respond,
            "outcome": entry.outcome,
            "published_at": entry.published_at,
            "announced_at": announced_at,
            "updated_at": entry.updated_at,
            "version": 1,
            "document": entry.document,
            "search_text": entry.search_text,
        }

    def _unchanged(self, request_id: int, line: _Line) -> bool:
        """Whether the line says what the published entry says already (a mirror importing
        its source's export again, say): then nothing is written, no version moves and nothing
        is announced. The line's entry document is built as a new entry's would be and
        compared with the stored one, but for what is this instance's own (its id, when it
        changed, its attachments and round-robin group)."""
        entry = requests.entry_of(self.session, request_id)
        if entry is None or entry.withdrawn_at is not None:
            return False  # published by the import, or refused by `_replace`
        document = line.document
        if document.published_at not in (None, entry.published_at):
            return False
        candidate = _Entry(
            id=entry.id,
            title=document.title,
            published_at=entry.published_at,
            updated_at=entry.updated_at,
        )
        entries.fill(candidate, _new_request(line), line.topics, line.law)
        return _public(candidate.document) == _public(entry.document)

    def _replace(self, request_id: int, line: _Line) -> None:
        """Give an existing request the line's content, responses and all, and refresh its
        entry (or publish it, if it never was)."""
        document, law = line.document, line.law
        loc: ErrorLoc = ("line", line.number)
        request = requests.get_request(self.session, request_id, actor=self.actor, hold=True)
        requests.check_not_withdrawn(request, loc=(*loc, "reference"))  # again, held
        topics = requests.load_topics(self.session, document.topics, loc=(*loc, "topics"))
        requests.touch(request)
        entry = requests.entry_of(self.session, request_id)
        # A line's title is its entry's: a published request keeps its own (internal) one.
        self._fill(request, document, law, loc, topics, title=entry is None)
        self.session.add(request)
        self.session.flush()
        self.result.updated += 1
        if entry is None:
            self._publish(request, document, law, loc=loc)
            return
        _check_replaceable(line, entry)
        # A request first recorded through the API may have a requester its text names.
        privacy.guard(request, document.title, acknowledged=False, loc=loc)
        before = orjson.loads(entry.document)
        entry.title = document.title
        entry.topics = topics
        if document.published_at is not None:
            entry.published_at = document.published_at
        entries.refresh(self.session, entry)
        # What the line replaced, as an update through the API is audited (SPEC §5); new
        # entries are counted in the import's own row.
        after = orjson.loads(entry.document)
        audit.record(self.session, self.actor, "entry.update", "entry", entry.id, before, after)

    def _fill(
        self,
        request: FoiRequest,
        document: ImportDocument,
        law: str,
        loc: ErrorLoc,
        topics: list[Topic],
        *,
        title: bool,
    ) -> None:
        request.reference = document.reference
        request.aliases = document.aliases
        requests.claim_names(self.session, request, loc=loc, share=True)
        request.received_on = document.received_on
        request.clarification_received_on = document.clarification_received_on
        request.extended_due_on = document.extended_due_on
        if title:
            request.title = document.title
        request.text = document.request.text
        requests.schedule(request, law, loc=loc)
        requests.set_questions(self.session, request, document.request.questions)
        request.topics = topics
        # The request's response rows take the document's responses in date order, as they are
        # read back, so what hangs off a response (its attachments) stays with it; rows left
        # over go, new ones are added.
        bodies = sorted(document.responses, key=lambda body: body.responded_on)
        kept = list(request.responses)
        for response in kept[len(bodies) :]:
            # Its attachments go with it, each audited as a removal through the API is.
            for attachment in self.session.scalars(
                select(Attachment).where(col(Attachment.response_id) == response.id)
            ):
                audit.record(
                    self.session,
                    self.actor,
                    "attachment.delete",
                    "attachment",
                    attachment.id,
                    attachments.internal(attachment),
                    None,
                )
            request.responses.remove(response)
        self.session.flush()
        for i, body in enumerate(bodies):
            response = kept[i] if i < len(kept) else FoiResponse()  # type: ignore[call-arg]
            responses.fill(response, body)
            if i >= len(kept):
                request.responses.append(response)

    def _publish(
        self, request: FoiRequest, document: ImportDocument, law: str, *, loc: ErrorLoc = ()
    ) -> None:
        # A request recorded through the API may hold attachments uploaded before publishing.
        attached = entries.attachment_texts(entries.attached(self.session, request))
        privacy.guard(request, document.title, acknowledged=False, loc=loc, extra=attached)
        entry = entries.create(
            self.session,
            request,
            law=law,
            title=document.title,
            topics=list(request.topics),
            published_at=document.published_at or utcnow(),
        )
        audit.record(
            self.session,
            self.actor,
            "entry.publish",
            "entry",
            entry.id,
            None,
            orjson.loads(entry.document),
        )


# From this many lines an import is a bulk write: it takes the settings below, and it changes
# the data enough to refresh the planner's statistics. A smaller one writes as a publication
# does (setting a 128 MB cache and back cost a one-entry import 2-4 ms of its 10-17).
LARGE = 1000
# SQLite's page cache for the import, in KiB. The default 2 MB is outgrown within thousands of
# entries by the tables' indexes and the search index: 50,000 entries spent 58 s inserting
# entries with it, 46 s with this.
SQLITE_CACHE_KIB = 128 * 1024
# PostgreSQL's search index (GIN) gathers new entries in a pending list and merges it into the
# index when it passes this size; merged in larger runs, 20,000 entries spent 17 s inserting
# entries instead of 42 s with the default 4 MB.
PG_GIN_PENDING = "64MB"
# What is left pending is merged before commit, so no search has to scan it: every GIN index of
# the entries that this user may maintain (the owner's, as migrations leave them).
PG_MERGE_PENDING = """
SELECT gin_clean_pending_list(i.indexrelid::regclass) FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
WHERE a.amname = 'gin' AND i.indrelid = 'disclosure_entry'::regclass
AND pg_has_role(c.relowner, 'USAGE')
"""


@contextmanager
def _bulk_settings(session: Session) -> Iterator[None]:
    """Settings for one large write, none of which touches durability. SQLite: a larger page
    cache for the import's connection, set back before the transaction ends so the pooled
    connection does not keep it. PostgreSQL: a larger GIN pending list for this transaction
    (SET LOCAL), merged into the index once the lines are written."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        previous = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
        connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        try:
            yield
        finally:
            # Not on a connection an interruption (Ctrl-C inside a statement) left invalid:
            # the statement would raise over the interruption, which ends the import anyway.
            if not connection.invalidated:
                connection.exec_driver_sql(f"PRAGMA cache_size = {int(previous)}")
    else:
        connection.exec_driver_sql(f"SET LOCAL gin_pending_list_limit = '{PG_GIN_PENDING}'")
        yield
        connection.exec_driver_sql(PG_MERGE_PENDING)


def import_entries(
    session: Session,
    lines: Iterable[bytes],
    *,
    actor: Actor,
    on_progress: OnProgress | None = None,
) -> ImportResult:
    """Upsert every line's entry by (force, reference) in one transaction; the first bad line
    raises (naming its line number and field) and nothing is written. Blank lines are skipped.

    `lines` is read twice (a list, or a `Spool`): every line is checked on a read session of
    its own before `session` begins writing, so a bad file holds no lock at all. `on_progress`
    hears each stage's count every PROGRESS_EVERY lines (or linked entries) and at its end."""
    if iter(lines) is lines:
        raise TypeError("import_entries reads its lines twice: give a list or a Spool")
    with new_session() as reader:
        checker = _Checker(reader, actor)
        count = 0
        for number, raw in _numbered(lines):
            checker.read(number, raw)
            count += 1
            if count % PROGRESS_EVERY == 0:
                _report(on_progress, Stage.CHECKED, count, None)
        checker.settle()
    _report(on_progress, Stage.CHECKED, count, count)
    large = count >= LARGE
    signer = _Signer(parallel=large)
    importer = _Importer(session, actor, signer)
    done = 0
    try:
        with signer, _bulk_settings(session) if large else nullcontext():
            for number, raw in _numbered(lines):
                importer.read(number, raw)
                done += 1
                if done % PROGRESS_EVERY == 0:
                    _report(on_progress, Stage.WRITTEN, done, count)
            importer.settle()
            result = importer.result
            audit.record(session, actor, "import", "import", None, None, result)
        session.commit()
    except IntegrityError:
        session.rollback()
        # Checked lines cannot break a constraint; another writer created one of the file's
        # references or aliases (or an entry for one) between the check and the write.
        raise Conflict(
            "another writer created one of these references or aliases meanwhile; nothing was "
            "written, send the import again"
        ) from None
    except BaseException:
        session.rollback()
        raise
    _report(on_progress, Stage.WRITTEN, done, count)
    importer.link(on_progress)
    if done >= LARGE:
        engine_for(session.get_bind()).compact(session, done)
        session.commit()
        # After linking, so the planner also sees the band keys it stored (a lookup of 16 keys
        # was planned for 141,250 rows when analysed before them).
        refresh_statistics()
    return result


def _numbered(lines: Iterable[bytes]) -> Iterator[tuple[int, bytes]]:
    """Each line that is not blank, by its number; a UTF-8 byte order mark before the first
    (as Windows tools write one) is not part of it."""
    for number, raw in enumerate(lines, 1):
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if raw.strip():
            yield number, raw
