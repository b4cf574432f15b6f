"""Import NDJSON entry documents: upsert by (force, reference), all or nothing, streaming."""

from collections.abc import Callable, Iterable, Iterator

from pydantic import ValidationError
from sqlmodel import Session, select

from app.audit import service as audit
from app.db import utcnow
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
        self.result = ImportResult()

    def forget(self) -> None:
        self.session.flush()
        self.session.expunge_all()
        self.topics.clear()

    def _topics(self, slugs: list[str], loc: ErrorLoc) -> list[Topic]:
        wanted = [topics_service.normalise(s) for s in slugs]
        if any(slug not in self.topics for slug in wanted):
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
        request, created = self._request(document, law, loc)
        self._entry(request, document, law, loc, created=created)
        if created:
            self.result.created += 1
        else:
            self.result.updated += 1

    def _request(
        self, document: ImportDocument, law: str, loc: ErrorLoc
    ) -> tuple[FoiRequest, bool]:
        """The request with the line's content, new or replacing what it had; no requester."""
        session = self.session
        request = requests.find(session, document.force, document.reference)
        created = request is None
        if request is None:
            request = FoiRequest(
                force_id=document.force,
                reference=document.reference,
                reference_key=entries.reference_key(document.reference),
                received_on=document.received_on,
                due_on=document.received_on,
                title=document.title,
                status=RequestStatus.RESPONDED if document.responses else RequestStatus.RECEIVED,
            )
        else:
            requests.touch(request)
            if request.responses:
                request.responses.clear()
                session.flush()
        request.reference = document.reference
        request.aliases = document.aliases
        request.received_on = document.received_on
        request.title = document.title
        request.text = document.request.text
        requests.schedule(request, law, loc=loc)
        requests.set_questions(session, request, document.request.questions)
        request.topics = self._topics(document.topics, (*loc, "topics"))
        for body in document.responses:
            response = FoiResponse()  # type: ignore[call-arg]
            responses.fill(response, body)
            request.responses.append(response)
        session.add(request)
        session.flush()
        return request, created

    def _entry(
        self,
        request: FoiRequest,
        document: ImportDocument,
        law: str,
        loc: ErrorLoc,
        *,
        created: bool,
    ) -> None:
        entry = None if created else requests.entry_of(self.session, request.id)
        if entry is not None and entry.withdrawn_at is not None:
            raise RuleViolation(
                "entry-withdrawn",
                f"{document.reference} was withdrawn from this log; import does not restore it",
                loc=(*loc, "reference"),
            )
        # A request first recorded through the API may have a requester its text names.
        privacy.guard(request, document.title, acknowledged=False, loc=loc)
        topics = list(request.topics)
        if entry is None:
            entries.create(
                self.session,
                request,
                law=law,
                title=document.title,
                topics=topics,
                published_at=document.published_at or utcnow(),
            )
            return
        entry.title = document.title
        entry.topics = topics
        if document.published_at is not None:
            entry.published_at = document.published_at
        entries.refresh(self.session, entry)


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
        result = importer.result
        audit.record(session, actor, "import", "import", None, None, result)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    if on_progress is not None and done % PROGRESS_EVERY:
        on_progress(done)
    return result
