"""HTTP validators of public answers: ETag, 304 for a tag the client holds, Cache-Control."""

from collections.abc import Iterator

from fastapi import Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings
from app.etags import etag_for, matches, opaque


def cache_headers(etag: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "ETag": etag,
        "Cache-Control": f"public, max-age={get_settings().cache_max_age}",
        **(headers or {}),
    }


def any_tag(request: Request) -> bool:
    """`If-None-Match: *`: 304 for any current answer, so only once there is one."""
    return (request.headers.get("if-none-match") or "").strip() == "*"


def not_modified(request: Request, etag: str) -> Response | None:
    """304 when the client already holds the answer tagged `etag`, else None. The 304 repeats
    the tag as the client holds it: weak if it came compressed (`EncodedVariants`)."""
    given = request.headers.get("if-none-match")
    if not matches(given, etag):
        return None
    held = next((tag.strip() for tag in (given or "").split(",") if opaque(tag) == etag), etag)
    return Response(status_code=304, headers=cache_headers(held))


def tagged_response(
    content: bytes | Iterator[bytes],
    etag: str,
    *,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """A cacheable public answer under `etag`: bytes, or chunks streamed."""
    if isinstance(content, bytes):
        return Response(content, media_type=media_type, headers=cache_headers(etag, headers))
    return StreamingResponse(content, media_type=media_type, headers=cache_headers(etag, headers))


def public_response(
    request: Request,
    content: bytes,
    *,
    media_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> Response:
    """A cacheable public answer tagged by its body's hash; 304 when the client has it."""
    etag = etag_for(content)
    if unchanged := not_modified(request, etag):
        return unchanged
    return tagged_response(content, etag, media_type=media_type, headers=headers)


def refuses_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header names gzip with a weight of 0 (`gzip;q=0`): not
    acceptable (RFC 9110 12.5.3), though the word is in it."""
    for part in accept_encoding.split(","):
        coding, *params = (piece.strip().lower() for piece in part.split(";"))
        if coding != "gzip":
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    return float(value) == 0
                except ValueError:
                    return False
        return False
    return False


class EncodedVariants:
    """Put outside the compression middleware: a compressed body is another representation
    of the same answer, so its ETag turns weak (a strong tag promises identical bytes, RFC
    9110 8.8.1), and `Vary` names each header once, Accept-Encoding on every public answer.
    A request that refuses gzip (`gzip;q=0`) reaches the compression middleware, which looks
    only for the word, asking for the identity encoding."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accepted = Headers(scope=scope).get("accept-encoding", "")
        if refuses_gzip(accepted):
            headers = [(k, v) for k, v in scope["headers"] if k != b"accept-encoding"]
            scope = {**scope, "headers": [*headers, (b"accept-encoding", b"identity")]}

        async def send_variant(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                if "etag" in headers:
                    given = ",".join([*headers.getlist("vary"), "Accept-Encoding"]).split(",")
                    headers["vary"] = ", ".join(
                        dict.fromkeys(v.strip() for v in given if v.strip())
                    )
                    if "content-encoding" in headers and not headers["etag"].startswith("W/"):
                        headers["etag"] = "W/" + headers["etag"]
            await send(message)

        await self.app(scope, receive, send_variant)
