"""Where absolute links point (Atom ids and links, CSV `url`, page links)."""

from starlette.requests import Request

from app.config import get_settings

# `foilog serve`'s own default address: what a link made with no request at hand points at
# (`foilog export`) when FOILOG_BASE_URL is unset.
SERVE_DEFAULT = "http://127.0.0.1:8000"


def base_url(request: Request | None) -> str:
    """FOILOG_BASE_URL when set; else the address the request reached (scheme, host and port
    as the client used them, so `foilog serve --port P` links to port P), without a slash."""
    configured = get_settings().base_url
    if configured:
        return configured.rstrip("/")
    if request is None:
        return SERVE_DEFAULT
    return str(request.base_url).rstrip("/")
