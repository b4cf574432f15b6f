"""Entity tags as values: made from bytes, compared as RFC 9110 says. No HTTP here, so the
write services (If-Match) and the read path's validators share one definition."""

import hashlib


def etag_for(content: bytes) -> str:
    """The strong tag of a body: its hash."""
    return '"' + hashlib.blake2b(content, digest_size=16).hexdigest() + '"'


def opaque(etag: str) -> str:
    """A tag without its weakness marker (W/), as the weak comparison sees it."""
    return etag.strip().removeprefix("W/")


def matches(header: str | None, etag: str) -> bool:
    """Whether an If-None-Match or If-Match header names `etag` (or is `*`), compared weakly:
    a W/ prefix added by compression, ours or a proxy's, still matches (RFC 9110 8.8.3.2)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return opaque(etag) in {opaque(tag) for tag in header.split(",")}
