"""Request limits: no control character in the URL (400), and body limits enforced on the bytes
that actually arrive (Content-Length may lie or be absent with chunked encoding): past them, 413."""

import re
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings
from app.errors import PROBLEM_JSON, BadRequest, PayloadTooLarge, problem_body
from app.inputs import not_text
from app.pages.render import browser_page

IMPORT_PATH = "/v1/import"
ATTACHMENT_PATH = re.compile(r"/v1/responses/[^/]+/attachments/?")
# Room in an upload's body for the multipart framing around the file; the file itself is held
# to FOILOG_MAX_ATTACHMENT_BYTES exactly once it has arrived.
MULTIPART_OVERHEAD = 64 * 1024
LETTERS_PATH = "/v1/letters/extract"


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        unclean = _unclean_url(scope)
        if unclean is not None:
            page = browser_page(Request(scope), BadRequest(unclean))
            if page is not None:
                await page(scope, receive, send)
            else:
                await _reject(send, unclean, status=400)
            return
        settings = get_settings()
        path = scope["path"].rstrip("/")
        is_import = path == IMPORT_PATH
        limit = settings.max_import_bytes if is_import else settings.max_body_bytes
        what = "an import" if is_import else "a request body"
        if path == LETTERS_PATH:
            # A multipart letter carries its part's headers besides the letter itself.
            limit, what = settings.max_letter_bytes + 64 * 1024, "a letter"
        detail = f"{what} may hold at most {limit} bytes"
        if ATTACHMENT_PATH.fullmatch(scope["path"]):
            limit = settings.max_attachment_bytes + MULTIPART_OVERHEAD
            detail = f"an attachment may hold at most {settings.max_attachment_bytes} bytes"
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _reject(send, detail)
            return
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    # Ends the read wherever the app is; the answer is replaced below.
                    raise PayloadTooLarge(detail)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:
                # Whatever the app made of the broken read (a 400, a 500) becomes the 413.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await _reject(send, detail)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except PayloadTooLarge:
            if not started:
                await _reject(send, detail)


def _unclean_url(scope: Scope) -> str | None:
    """What is wrong with a path or query string holding what no text field may hold (a NUL
    no database stores, a control character no feed may carry), naming the parameter."""
    path = scope["path"]
    found = not_text(path) or _line_break(path)
    if found is not None:
        return f"the URL path holds the character {found}"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        found = not_text(value)
        if found is not None:
            return f"the query parameter {name[:40]!r} holds the character {found}"
        found = not_text(name)
        if found is not None:
            return f"the name of a query parameter holds the character {found}"
    return None


def _line_break(path: str) -> str | None:
    """A tab or line break, which text may hold but a path never does (and which a route's
    pattern lets through at its end: `$` matches before a final line feed)."""
    found = next((c for c in path if c in "\t\n\r"), None)
    return None if found is None else f"U+{ord(found):04X}"


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _reject(send: Send, detail: str, *, status: int = PayloadTooLarge.status) -> None:
    body: dict[str, Any] = (
        problem_body(status, detail, slug=PayloadTooLarge.slug, title=PayloadTooLarge.title)
        if status == PayloadTooLarge.status
        else problem_body(status, detail)
    )
    content = orjson.dumps(body)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(content)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})
