from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware

from app import problems
from app.audit.router import router as audit_router
from app.changes.router import router as changes_router
from app.disclosure_log.router import references_router
from app.disclosure_log.router import router as disclosure_log_router
from app.exemptions.router import router as exemptions_router
from app.exports.router import router as exports_router
from app.feeds.router import router as feeds_router
from app.foi_requests.router import router as requests_router
from app.foi_responses.router import router as responses_router
from app.forces.router import router as forces_router
from app.health.router import router as health_router
from app.http_cache import EncodedVariants
from app.imports.router import router as import_router
from app.limits import BodyLimitMiddleware
from app.publishing.router import router as publishing_router
from app.stats.router import router as stats_router
from app.topics.router import router as topics_router

DESCRIPTION = """The Freedom of Information disclosure logs of UK police forces.

Public reads need no key. Writes take `Authorization: Bearer <key>`.
Errors are `application/problem+json` (RFC 9457)."""


def create_app() -> FastAPI:
    app = FastAPI(title="foilog", version="1.0.0", description=DESCRIPTION)
    problems.install(app)
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(EncodedVariants)
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_methods=["GET", "HEAD"],
        allow_headers=["If-None-Match", "Accept", "Accept-Encoding"],
        expose_headers=["ETag", "Link", "Cache-Control"],
        max_age=86400,
    )
    for router in (health_router, forces_router, exemptions_router, topics_router):
        app.include_router(router)
    for router in (disclosure_log_router, references_router):
        app.include_router(router)
    for router in (requests_router, responses_router, publishing_router, import_router):
        app.include_router(router)
    app.include_router(audit_router)
    app.include_router(changes_router)
    app.include_router(feeds_router)
    app.include_router(exports_router)
    app.include_router(stats_router)
    return app


app = create_app()
