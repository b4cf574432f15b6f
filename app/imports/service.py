"""Import NDJSON entry documents: upsert by (force, reference), all or nothing, streaming."""

from collections.abc import Callable, Iterable, Iterator

from pydantic import ValidationError
from sqlmodel import Session, select

from app.audit import service as audit
from app.db import refresh_statistics, utcnow
from app.entries import service as entries
from app.errors import ErrorLoc, Forbidden, InvalidInput, PayloadTooLarge, RuleViolation
from app.exemptions import service as exemptions
from app.foi_requests import service as requests
from app.foi_responses import service as responses
from app.imports.schemas import ImportDocument, ImportResult
from app.keys.schemas import Actor
from app.models import FoiRequest, FoiResponse, Force, RequestStatus, Topic
from app.publishing import privacy
from app.topics import service as topics_service

# Rows are flushed and the session emptied every BATCH lines, so memory stays flat however
# long the file; the transaction stays one.
BATCH = 500
WRITE_BATCH = 100
PROGRESS_EVERY = 100
MAX_LINE_BYTES = 32 * 1024 * 1024


def lines_of(chunks: Iterable[bytes], *, max_line: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Split a byte stream into lines without holding more than one line."""
    pending = bytearray()
    count = 0
    for chunk in chunks:
        start = 0
        while (end := chunk.find(b"\n", start)) != -1:
            pending += chunk[start:end]
            count += 1
            yield bytes(pending)
            pending.clear()
            start = end + 1
        pending += chunk[start:]
        if len(pending) > max_line:
            raise PayloadTooLarge(f"line {count + 1} is longer than {max_line} bytes")
    if pending:
        yield bytes(pending)


class _Importer:
    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.laws = {f.id: f.law for f in session.exec(select(Force))}
        self.catalogue = exemptions.catalogue(session)
        self.topics: dict[str, Topic] = {}
        # New requests wait here to be inserted together, then published one by one.
        self.pending: list[tuple[FoiRequest, ImportDocument, str]] = []
        self.pending_keys: set[tuple[str, str]] = set()
        self.result = ImportResult()

    def forget(self) -> None:
        self.write_pending()
        self.session.flush()
        self.session.expunge_all()
        self.topics.clear()

    def write_pending(self) -> None:
        if not self.pending:
            return
        self.session.flush()
        for request, document, law in self.pending:
            self._publish(request, document, law)
        self.result.created += len(self.pending)
        self.pending.clear()
        self.pending_keys.clear()

    def _topics(self, slugs: list[str], loc: ErrorLoc) -> list[Topic]:
        wanted = [topics_service.normalise(s) for s in slugs]
        if any(slug not in self.topics for slug in wanted):
            # A topic seen for the first time is created and read back, so what waits goes first.
            self.write_pending()
            self.topics.update(
                (t.slug, t) for t in requests.load_topics(self.session, slugs, loc=loc)
            )
        return [self.topics[slug] for slug in sorted(set(wanted))]

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
        requests.check_questions(
            [q.number for q in document.request.questions], loc=(*loc, "request")
        )
        numbers = {q.number for q in document.request.questions}
        for i, body in enumerate(document.responses):
            responses.check(
                body,
                received_on=document.received_on,
                law=law,
                questions=numbers,
                catalogue=self.catalogue,
                loc=(*loc, "responses", i),
            )
        return law

    def line(self, number: int, raw: bytes) -> None:
        loc: ErrorLoc = ("line", number)
        try:
            document = ImportDocument.model_validate_json(raw)
        except ValidationError as exc:
            errors = [{"loc": [*loc, *error["loc"]], "msg": error["msg"]} for error in exc.errors()]
            where = ".".join(str(part) for part in errors[0]["loc"])
            raise InvalidInput(
                f"line {number} is not a valid entry ({where})", errors=errors
            ) from None
        law = self._check(document, loc)
        key = (document.force, entries.reference_key(document.reference))
        if key in self.pending_keys:
            self.write_pending()
        with self.session.no_autoflush:
            request = requests.find(self.session, document.force, document.reference)
        if request is None:
            self.pending.append((self._new_request(document, law, loc), document, law))
            self.pending_keys.add(key)
            if len(self.pending) >= WRITE_BATCH:
                self.write_pending()
            return
        self.write_pending()
        self._replace(request, document, law, loc)
        self.result.updated += 1

    def _new_request(self, document: ImportDocument, law: str, loc: ErrorLoc) -> FoiRequest:
        topics = self._topics(document.topics, (*loc, "topics"))
        request = requests.new_request(
            force_id=document.force,
            reference=document.reference,
            received_on=document.received_on,
            law=law,
            title=document.title,
            status=RequestStatus.RESPONDED if document.responses else RequestStatus.RECEIVED,
        )
        self._fill(request, document, law, loc, topics)
        self.session.add(request)
        return request

    def _replace(
        self, request: FoiRequest, document: ImportDocument, law: str, loc: ErrorLoc
    ) -> None:
        """Give an existing request the line's content, responses and all, and refresh its
        entry (or publish it, if it never was)."""
        topics = self._topics(document.topics, (*loc, "topics"))
        requests.touch(request)
        if request.responses:
            request.responses.clear()
            self.session.flush()
        self._fill(request, document, law, loc, topics)
        self.session.add(request)
        self.session.flush()
        entry = requests.entry_of(self.session, request.id)
        if entry is None:
            self._publish(request, document, law, loc=loc)
            return
        if entry.withdrawn_at is not None:
            raise RuleViolation(
                "entry-withdrawn",
                f"{document.reference} was withdrawn from this log; import does not restore it",
                loc=(*loc, "reference"),
            )
        # A request first recorded through the API may have a requester its text names.
        privacy.guard(request, document.title, acknowledged=False, loc=loc)
        entry.title = document.title
        entry.topics = topics
        if document.published_at is not None:
            entry.published_at = document.published_at
        entries.refresh(self.session, entry)

    def _fill(
        self,
        request: FoiRequest,
        document: ImportDocument,
        law: str,
        loc: ErrorLoc,
        topics: list[Topic],
    ) -> None:
        request.reference = document.reference
        request.aliases = document.aliases
        request.received_on = document.received_on
        request.title = document.title
        request.text = document.request.text
        requests.schedule(request, law, loc=loc)
        requests.set_questions(self.session, request, document.request.questions)
        request.topics = topics
        for body in document.responses:
            response = FoiResponse()  # type: ignore[call-arg]
            responses.fill(response, body)
            request.responses.append(response)

    def _publish(
        self, request: FoiRequest, document: ImportDocument, law: str, *, loc: ErrorLoc = ()
    ) -> None:
        privacy.guard(request, document.title, acknowledged=False, loc=loc)
        entries.create(
            self.session,
            request,
            law=law,
            title=document.title,
            topics=list(request.topics),
            published_at=document.published_at or utcnow(),
        )


# Past this many lines an import changes the data enough to refresh the planner's statistics.
ANALYZE_AFTER = 1000


def import_entries(
    session: Session,
    lines: Iterable[bytes],
    *,
    actor: Actor,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Upsert every line's entry by (force, reference) in one transaction; the first bad line
    raises (naming its line number and field) and nothing is written. Blank lines are skipped."""
    importer = _Importer(session, actor)
    done = 0
    try:
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            importer.line(number, raw)
            done += 1
            if done % BATCH == 0:
                importer.forget()
            if on_progress is not None and done % PROGRESS_EVERY == 0:
                on_progress(done)
        importer.write_pending()
        result = importer.result
        audit.record(session, actor, "import", "import", None, None, result)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if on_progress is not None and done % PROGRESS_EVERY:
        on_progress(done)
    if done >= ANALYZE_AFTER:
        refresh_statistics(session)
    return result
