import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import configure_mappers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware
from starlette.responses import Response
from starlette.routing import Match

from app import deadlines, params, problems
from app.attachments.router import COMPRESSED
from app.attachments.router import router as attachments_router
from app.audit.router import router as audit_router
from app.changes.router import router as changes_router
from app.checkpoints import checkpointing
from app.db import get_engine
from app.disclosure_log.router import references_router
from app.disclosure_log.router import router as disclosure_log_router
from app.errors import NotFound
from app.exemptions.router import router as exemptions_router
from app.exports.router import router as exports_router
from app.feeds.router import router as feeds_router
from app.foi_requests.router import router as requests_router
from app.foi_responses.router import router as responses_router
from app.forces.router import router as forces_router
from app.head import HeadAsGet
from app.health.router import router as health_router
from app.http_cache import EncodedVariants
from app.imports.router import router as import_router
from app.letters.router import router as letters_router
from app.limits import BodyLimitMiddleware
from app.pages.render import browser_page
from app.pages.router import router as pages_router
from app.publishing.router import router as publishing_router
from app.round_robins import similarity
from app.round_robins.router import router as round_robins_router
from app.stats.router import router as stats_router
from app.topics.router import router as topics_router
from app.webhooks.router import router as webhooks_router
from app.writes_first import WritesFirst

DESCRIPTION = """The Freedom of Information disclosure logs of UK police forces.

Public reads need no key. Writes take `Authorization: Bearer <key>`.
Errors are `application/problem+json` (RFC 9457)."""


def _prepare() -> None:
    """What a worker's first publication would otherwise pay for (770-1,010 ms against 70-230
    for the next ones, under read load): the holiday calendars, the ORM's mappers (configured
    on the first query that needs them) and what round-robin linking draws and compiles once."""
    deadlines.prepare()
    configure_mappers()
    similarity.prepare()


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    # Beside the requests, not before them: a worker answers its health check at once.
    threading.Thread(target=_prepare, name="foilog-prepare", daemon=True).start()
    with checkpointing(get_engine()):
        yield


ROUTERS = (
    health_router,
    forces_router,
    exemptions_router,
    topics_router,
    disclosure_log_router,
    references_router,
    requests_router,
    responses_router,
    publishing_router,
    import_router,
    audit_router,
    changes_router,
    feeds_router,
    exports_router,
    stats_router,
    attachments_router,
    letters_router,
    webhooks_router,
    pages_router,
    round_robins_router,
)


# The methods a 405's Allow may name (HEAD comes with GET: `HeadAsGet`).
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed(request: Request) -> list[str]:
    """Every method some route serves at the request's path, asked of the routes as the router
    itself asks them (included routers, the pages' assets and the API's description too). The
    router's own 405 names only the first route it found, and a path served by two (GET and
    POST /v1/requests) is two routes."""
    methods = {
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    }
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> Response:
    """A path no route serves is a 404 page for a browser, problem+json for everyone else; a
    method none serves there is a 405 that names every method that is."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        missing = NotFound(f"there is no page at {request.url.path[:200]}")
        answer = browser_page(request, missing) or await problems.on_http_error(request, exc)
        if not request.url.path.startswith("/v1/"):
            answer.headers.add_vary_header("Accept")  # a page or problem+json, as asked
        return answer
    if exc.status_code == 405 and (allowed := _allowed(request)):
        exc = StarletteHTTPException(
            405, exc.detail, {**(exc.headers or {}), "Allow": ", ".join(allowed)}
        )
    return await problems.on_http_error(request, exc)


def create_app() -> FastAPI:
    # /docs and /redoc are served by the pages, from this host (app/pages/assets.py).
    app = FastAPI(
        title="foilog",
        version="1.0.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        responses=problems.EVERY_ROUTE,
        lifespan=lifespan,
        dependencies=[Depends(params.checked_query)],
    )
    problems.install(app)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # zlib's level 6, not Starlette's 9: on a 40-entry page (179 KB) it is 1% larger and takes
    # half the time (3.9 ms against 8.0), the largest cost of a page in a profile.
    app.add_middleware(
        GZipMiddleware,
        minimum_size=1024,
        compresslevel=6,
        exclude_content_types=(*DEFAULT_EXCLUDED_CONTENT_TYPES, *COMPRESSED),
    )
    app.add_middleware(EncodedVariants)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(
        problems.ProblemCORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD"],
        allow_headers=["If-None-Match", "Accept", "Accept-Encoding"],
        expose_headers=["ETag", "Link", "Cache-Control"],
        max_age=86400,
    )
    app.add_middleware(HeadAsGet)
    # Outermost: a write request pauses the reads from its first byte to its last.
    app.add_middleware(WritesFirst)
    for router in ROUTERS:
        app.include_router(router)
    return app


app = create_app()
