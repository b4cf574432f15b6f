"""What the pages and /docs load, all from this host: the stylesheet, the embed script, and
Swagger UI from the fastapi-offline package (kept up to date by its maintainers)
rather than from a CDN, so the docs work on a network that reaches nothing else."""

from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from starlette.responses import Response

from app.errors import NotFound
from app.http_cache import public_response
from app.pages.render import HTML, SECURITY_HEADERS, Page, render

router = APIRouter(include_in_schema=False)

STATIC = Path(__file__).parent / "static"
OWN = {
    "foilog.css": "text/css; charset=utf-8",
    "docs.css": "text/css; charset=utf-8",
    "docs.js": "text/javascript; charset=utf-8",
    "embed.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
DOCS_FILES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}
# Swagger UI styles some of its markup from script and draws icons from data: URIs; nothing
# leaves this host.
DOCS_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'self'"
)


@cache
def _own(name: str) -> bytes:
    return (STATIC / name).read_bytes()


@cache
def _docs_file(name: str) -> bytes:
    return (resources.files("fastapi_offline") / "static" / name).read_bytes()


def _asset(request: Request, body: bytes, media_type: str, policy: str | None = None) -> Response:
    headers = dict(SECURITY_HEADERS)
    if policy:
        headers["Content-Security-Policy"] = policy
    return public_response(request, body, media_type=media_type, headers=headers)


@router.get("/static/{name}")
def own_asset(name: Annotated[str, PathParam(max_length=64)], request: Request) -> Response:
    """The project's stylesheet and the docs' start-up script."""
    if name not in OWN:
        raise NotFound(f"no static file {name[:64]!r}")
    return _asset(request, _own(name), OWN[name])


@router.get("/static/docs/{name}")
def docs_asset(name: Annotated[str, PathParam(max_length=64)], request: Request) -> Response:
    """Swagger UI's files, as the fastapi-offline package ships them."""
    if name not in DOCS_FILES:
        raise NotFound(f"no docs file {name[:64]!r}")
    return _asset(request, _docs_file(name), DOCS_FILES[name])


@router.get("/embed.js")
def embed_script(request: Request) -> Response:
    """`<foilog-log>`: the newest matching entries, rendered into the host page."""
    return _asset(request, _own("embed.js"), "text/javascript; charset=utf-8")


@router.get("/docs")
def swagger_ui(request: Request) -> Response:
    """The API's reference, in Swagger UI."""
    page = Page(request, "docs.html", title="foilog API reference")
    return _asset(request, render(page), HTML, DOCS_POLICY)
