import hashlib
from collections.abc import Iterator

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response, StreamingResponse

from app.config import get_settings
from app.errors import PreconditionFailed


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


def public_stream(
    request: Request, etag: str, chunks: Iterator[bytes], *, media_type: str
) -> Response:
    """A cacheable public answer streamed: a streamed body has no hash to tag it by, so the
    caller gives a tag that changes with the data; 304 when the client has it already."""
    cache_headers = _cache_headers(etag)
    if matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=cache_headers)
    return StreamingResponse(chunks, media_type=media_type, headers=cache_headers)


def _cache_headers(etag: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "ETag": etag,
        "Cache-Control": f"public, max-age={get_settings().cache_max_age}",
        "Vary": "Accept-Encoding",
        **(headers or {}),
    }


def public_model(request: Request, model: BaseModel) -> Response:
    return public_response(request, model.model_dump_json().encode())


def version_etag(kind: str, entity_id: int | None, version: int) -> str:
    """The ETag of a writable resource: its version column, bumped on each change."""
    return f'W/"{kind}-{entity_id}-v{version}"'


def check_if_match(if_match: str | None, etag: str) -> None:
    """`If-Match` with a tag other than the current one is a stale write (RFC 9110 13.1.1)."""
    if if_match is not None and not matches(if_match, etag.removeprefix("W/")):
        raise PreconditionFailed(
            f"the resource has changed (now {etag}); GET it again and retry with its ETag"
        )
