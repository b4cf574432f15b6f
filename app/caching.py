import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from threading import Lock
from typing import Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel
from sqlalchemy import bindparam, func, select
from sqlmodel import Session
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.changes import service as changes
from app.config import get_settings
from app.db import loop_session, new_session, utcnow
from app.errors import PreconditionFailed
from app.migrate import head_revision
from app.models import DisclosureEntry

T = TypeVar("T")


def etag_for(content: bytes) -> str:
    return '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    # Weak comparison (RFC 9110 13.1.2): a W/ prefix added by a proxy's compression still matches.
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in tags


def public_response(
    request: Request,
    content: bytes,
    *,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """A cacheable public answer: ETag from the body, 304 when the client has it already."""
    etag = etag_for(content)
    cache_headers = _cache_headers(etag, headers)
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=cache_headers)
    return Response(content, media_type=media_type, headers=cache_headers)


def _cache_headers(etag: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "ETag": etag,
        "Cache-Control": f"public, max-age={get_settings().cache_max_age}",
        "Vary": "Accept-Encoding",
        **(headers or {}),
    }


def public_model(request: Request, model: BaseModel) -> Response:
    return public_response(request, model.model_dump_json().encode())


# ---------------------------------------------------------------------------------------------
# Tags from the data version, known before the answer is computed


def _release() -> bytes:
    """What, besides the data, decides the bytes of an answer: the code (hashed once per
    process, the same in every worker of a release), the schema revision (reference data
    changes only by migration) and the base URL (CSV rows hold absolute links)."""
    digest = hashlib.blake2b(digest_size=16)
    root = Path(__file__).resolve().parent
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update(f"{head_revision()}\0{get_settings().base_url}".encode())
    return digest.digest()


_RELEASE = _release()

_version = changes.data_version_select().subquery()
_entry = DisclosureEntry.__table__.c  # type: ignore[attr-defined]
# The change feed's data version; the latest publication time already passed; and whether a
# scheduled entry fell due unannounced. An index probe each, in one round trip.
_DATA_VERSION = select(
    _version.c.seq,
    _version.c.at,
    _version.c.counted_from,
    _version.c.count,
    select(func.max(_entry.published_at))
    .where(_entry.published_at <= bindparam("now"))
    .scalar_subquery(),
    select(_entry.id)
    .where(_entry.announced_at.is_(None), _entry.withdrawn_at.is_(None))
    .where(_entry.published_at <= bindparam("now"))
    .exists(),
)


def data_etag(request: Request, session: Session, now: datetime) -> str:
    """A tag for a public answer computed from the database as of `now`, known before the
    answer is: the release, the URL, and the data version.

    The data version is the change feed's last number, which every write a reader can see
    moves, and the latest publication time not after `now`, which moves whenever an entry comes
    into view with no write at all (a scheduled one falling due, or one an import rescheduled):
    it is then at least that entry's time, later than any passed before. An entry that fell due
    unannounced is announced here first (as `/v1/changes` does), so its later updates and
    withdrawal are changes too. Compute the answer after the tag with the same `now`: it then
    shows exactly the entries the tag counted, and is never older than the tag says."""
    tag = unannounced_data_etag(request, session, now)
    if tag is not None:
        return tag
    announce = changes.due_announcements(session)
    session.rollback()  # the answer must see the announcements (SQLite reads a snapshot)
    with new_session(write=True) as write:
        changes.announce(write, announce)
    *version, _ = session.execute(_DATA_VERSION, {"now": now}).one()
    return _tag(request, *version)


def unannounced_data_etag(request: Request, session: Session, now: datetime) -> str | None:
    """`data_etag` when no entry fell due unannounced, else None: it writes nothing."""
    *version, due = session.execute(_DATA_VERSION, {"now": now}).one()
    return None if due else _tag(request, *version)


def _tag(request: Request, *version: object) -> str:
    digest = hashlib.blake2b(_RELEASE, digest_size=16)
    digest.update("\0".join(map(str, (*version, request.url))).encode())
    return '"' + digest.hexdigest() + '"'


class KeptAnswers(Generic[T]):
    """Answers a process computed, kept under their `data_etag`, least recently used first out
    past the byte budget (`FOILOG_KEPT_ANSWERS_MB` unless given). A tag names one answer (the
    release, the URL, the data as of its time), so a kept answer is as true as a 304 for that
    tag would be."""

    def __init__(self, max_bytes: int | None = None) -> None:
        self._max_bytes = max_bytes
        self._kept: OrderedDict[str, tuple[T, int]] = OrderedDict()
        self._bytes = 0
        self._lock = Lock()
        self._computing: dict[str, Lock] = {}

    @property
    def max_bytes(self) -> int:
        if self._max_bytes is not None:
            return self._max_bytes
        return get_settings().kept_answers_mb * 2**20

    def get(self, etag: str) -> T | None:
        with self._lock:
            kept = self._kept.get(etag)
            if kept is None:
                return None
            self._kept.move_to_end(etag)
            return kept[0]

    def put(self, etag: str, answer: T, size: int) -> None:
        with self._lock:
            if etag in self._kept or size > self.max_bytes:
                return
            self._kept[etag] = (answer, size)
            self._bytes += size
            while self._bytes > self.max_bytes:
                _, (_, dropped) = self._kept.popitem(last=False)
                self._bytes -= dropped

    def answer(self, etag: str, compute: Callable[[], tuple[T, int]]) -> T:
        """The answer kept under `etag`, or `compute`'s (answer, size in bytes). Requests that
        ask for one tag at once (a tag moving under load) wait for a single computation."""
        if (kept := self.get(etag)) is not None:
            return kept
        if self.max_bytes == 0:  # nothing would be kept: waiting for another's answer is useless
            return compute()[0]
        with self._lock:
            computing = self._computing.setdefault(etag, Lock())
        with computing:
            try:
                if (kept := self.get(etag)) is not None:
                    return kept
                answer, size = compute()
                self.put(etag, answer, size)
                return answer
            finally:
                with self._lock:
                    self._computing.pop(etag, None)


# Tags from `data_etag` this process has answered a route with (200 or 304), so the route's
# checks passed for their URL; revalidating one needs no route at all (KeptAnswerMiddleware).
_answered: KeptAnswers[bool] = KeptAnswers(max_bytes=2**20)


def _answered_with(etag: str) -> None:
    _answered.put(etag, True, len(etag))


def _answered_any(if_none_match: str) -> bool:
    return any(_answered.get(tag.strip().removeprefix("W/")) for tag in if_none_match.split(","))


def not_modified(request: Request, etag: str) -> Response | None:
    """304 when the client already holds the answer tagged `etag`, else None."""
    if matches(request.headers.get("if-none-match"), etag):
        _answered_with(etag)
        return Response(status_code=304, headers=_cache_headers(etag))
    return None


@dataclass(frozen=True)
class _Kept:
    body: bytes
    media_type: str
    headers: dict[str, str]
    etag: str  # what the answer is sent under: its data tag, or its body's hash


# Whole answers by their `data_etag`, and the paths they were asked at.
_kept: KeptAnswers[_Kept] = KeptAnswers()
_kept_paths: KeptAnswers[bool] = KeptAnswers(max_bytes=2**20)


def _send_kept(request: Request, kept: _Kept) -> Response:
    if unchanged := not_modified(request, kept.etag):
        return unchanged
    return tagged_response(kept.body, kept.etag, media_type=kept.media_type, headers=kept.headers)


def kept_response(
    request: Request,
    data_tag: str,
    compute: Callable[[], tuple[bytes, dict[str, str]]],
    *,
    media_type: str = "application/json",
    tag_by_body: bool = False,
) -> Response:
    """The answer for `data_tag`: kept from an earlier request, or `compute`d (body, headers)
    and kept. The same data tag always names the same answer, so a kept one is never stale.
    It is sent under the data tag, or with `tag_by_body` under its body's hash (an entry's
    tag, which a write's If-Match compares). A client holding the data tag gets its 304
    before anything is computed."""
    if not tag_by_body and (unchanged := not_modified(request, data_tag)):
        return unchanged

    def answer() -> tuple[_Kept, int]:
        body, headers = compute()
        etag = etag_for(body) if tag_by_body else data_tag
        return _Kept(body, media_type, headers, etag), len(body)

    kept = _kept.answer(data_tag, answer)
    if _kept.max_bytes:
        _kept_paths.put(request.url.path, True, len(request.url.path))
    return _send_kept(request, kept)


class KeptAnswerMiddleware:
    """Answers before any routing what needs no route: an answer kept under the URL's current
    data tag (or a 304 for it), and a 304 for a data tag a route of this process gave out. The
    tag depends on nothing but the URL and the data version, so either is exactly what the
    route would send, without parsing its parameters or computing anything. Anything else goes
    on untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            request = Request(scope)
            given = request.headers.get("if-none-match")
            if (given and _answered_any(given)) or _kept_paths.get(scope["path"]):
                # In the event loop, on its own connection (a thread hand-off would cost more
                # than the query): waiting there for one of the routes' pooled connections
                # would stop the loop that returns them. Announcing an entry that fell due
                # writes, which is left to the route.
                with loop_session() as session:
                    etag = unannounced_data_etag(request, session, utcnow())
                response = None if etag is None else self._answer(request, etag)
                if response is not None:
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    @staticmethod
    def _answer(request: Request, etag: str) -> Response | None:
        if (kept := _kept.get(etag)) is not None:
            return _send_kept(request, kept)
        return not_modified(request, etag)


def tagged_response(
    content: bytes | Iterator[bytes],
    etag: str,
    *,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """A cacheable public answer under a tag from `data_etag`; bytes, or chunks streamed."""
    cache_headers = _cache_headers(etag, headers)
    _answered_with(etag)
    if isinstance(content, bytes):
        return Response(content, media_type=media_type, headers=cache_headers)
    return StreamingResponse(content, media_type=media_type, headers=cache_headers)


def version_etag(kind: str, entity_id: int | None, version: int) -> str:
    """The ETag of a writable resource: its version column, bumped on each change."""
    return f'W/"{kind}-{entity_id}-v{version}"'


def check_if_match(if_match: str | None, etag: str) -> None:
    """`If-Match` with a tag other than the current one is a stale write (RFC 9110 13.1.1)."""
    if if_match is not None and not matches(if_match, etag.removeprefix("W/")):
        raise PreconditionFailed(
            f"the resource has changed (now {etag}); GET it again and retry with its ETag"
        )
