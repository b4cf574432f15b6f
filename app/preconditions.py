"""`If-Match` on writes (RFC 9110 13.1.1): the services that change a resource check the tag
the client last saw against its current one, and refuse a stale write with 412."""

from app.errors import PreconditionFailed
from app.etags import etag_for, matches

__all__ = ["check_if_match", "etag_for", "version_etag"]


def version_etag(kind: str, entity_id: int | None, version: int) -> str:
    """The ETag of a writable resource: its version column, bumped on each change."""
    return f'W/"{kind}-{entity_id}-v{version}"'


def check_if_match(if_match: str | None, etag: str) -> None:
    """`If-Match` with a tag other than the current one is a stale write."""
    if if_match is not None and not matches(if_match, etag):
        raise PreconditionFailed(
            f"the resource has changed (now {etag}); GET it again and retry with its ETag"
        )
