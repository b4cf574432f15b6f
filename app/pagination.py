import base64
import binascii
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import orjson
from fastapi import Request
from pydantic import BaseModel, Field

from app.errors import BadRequest
from app.links import base_url

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None
    total: int | None = None
    ranking: str | None = Field(
        default=None, description="when a relevance listing ranked only part of the matches"
    )


class ItemList(BaseModel, Generic[T]):
    """An unpaged collection (forces, exemptions, topics)."""

    items: list[T]


def encode_cursor(kind: str, key: list[Any]) -> str:
    """An opaque cursor holding the sort it belongs to and the last item's sort key."""
    raw = orjson.dumps([kind, *key])
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(token: str, kind: str, arity: int) -> list[Any]:
    try:
        padded = token + "=" * (-len(token) % 4)
        value = orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (binascii.Error, ValueError, UnicodeEncodeError):
        raise BadRequest(f"cursor {token[:40]!r} is not a cursor this API issued") from None
    if not isinstance(value, list) or len(value) != arity + 1 or value[0] != kind:
        raise BadRequest(f"cursor {token[:40]!r} does not belong to this list or sort order")
    return value[1:]


def next_link(
    request: Request, next_cursor: str | None, *, param: str = "cursor"
) -> dict[str, str]:
    if next_cursor is None:
        return {}
    """The next page's absolute address (SPEC §3), under FOILOG_BASE_URL when it is set, as
    every absolute link is: behind a proxy the request's own host is the upstream's."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k != param]
    params.append((param, next_cursor))
    return {"Link": f'<{base_url(request)}{request.url.path}?{urlencode(params)}>; rel="next"'}


def page_body(
    items: list[bytes],
    next_cursor: str | None,
    total: int | None = None,
    ranking: str | None = None,
) -> bytes:
    """The page envelope around items that are already JSON (pre-serialised documents), so a
    page is assembled without parsing and re-encoding each item."""
    tail = b"" if total is None else b',"total":' + str(total).encode()
    if ranking is not None:
        tail += b',"ranking":' + orjson.dumps(ranking)
    return (
        b'{"items":['
        + b",".join(items)
        + b'],"next_cursor":'
        + orjson.dumps(next_cursor)
        + tail
        + b"}"
    )
