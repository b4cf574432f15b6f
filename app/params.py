"""HTTP parameters the routes share, so no router imports another."""

from typing import Annotated

from fastapi import Header, Path, Query
from pydantic import BeforeValidator

from app.models import MAX_ID


def _digits(value: object) -> object:
    """An id in a URL is its digits alone: `1.0`, `01`, `+1` or `1_000` would name entry 1 (or
    1000) at a second address, which caches, mirrors and links would keep apart."""
    if isinstance(value, str) and not (
        value.isascii() and value.isdigit() and value == str(int(value))
    ):
        raise ValueError("an id is written in digits, with no sign, point or leading zero")
    return value


ResourceId = Annotated[int, BeforeValidator(_digits), Path(ge=1, le=MAX_ID)]
IfMatch = Annotated[str | None, Header(description="the ETag last read; 412 when stale")]
Acknowledge = Annotated[
    bool,
    Query(description="publish text naming the requester anyway (recorded in the audit log)"),
]
PRIVATE = {"Cache-Control": "no-store"}
