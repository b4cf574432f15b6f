"""HTTP parameters the keyed write routes share, so no router imports another."""

from typing import Annotated

from fastapi import Header, Path, Query

# Ids are INTEGER columns: PostgreSQL refuses to compare one with anything larger.
MAX_ID = 2**31 - 1
ResourceId = Annotated[int, Path(ge=1, le=MAX_ID)]
IfMatch = Annotated[str | None, Header(description="the ETag last read; 412 when stale")]
Acknowledge = Annotated[
    bool,
    Query(description="publish text naming the requester anyway (recorded in the audit log)"),
]
PRIVATE = {"Cache-Control": "no-store"}
