import logging
from typing import Any

import orjson
import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from app.errors import PROBLEM_JSON, PROBLEM_STATUS_TITLES, FoilogError, problem_body

log = logging.getLogger("foilog")


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` lists each invalid field as {loc, msg}."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, Any]] | None = None
    rule: str | None = None


# Seconds a client is asked to wait when the database cannot be reached: long enough for a
# PostgreSQL restart or a fail-over, short enough that nobody gives up.
RETRY_AFTER_S = 5
# Exceptions that mean the database is out of reach, not that the request is wrong: the server
# is down or restarting, the connection was cut mid-request, no pooled connection came free in
# time, or (SQLite) the file cannot be opened or stays locked.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def PROBLEMS(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the errors a route documents; 422 (validation) is always one."""
    schema = {"schema": Problem.model_json_schema()}
    return {
        status: {
            "description": PROBLEM_STATUS_TITLES[status],
            "content": {PROBLEM_JSON: schema},
        }
        for status in sorted({*statuses, 422})
    }


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=body["status"], media_type=PROBLEM_JSON, headers=headers
    )


def _loc(loc: tuple[Any, ...] | list[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


async def on_foilog_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, FoilogError)
    body = problem_body(
        exc.status,
        exc.detail,
        slug=exc.slug,
        title=exc.title,
        errors=exc.errors,
        extra=exc.extra,
    )
    return problem_response(body, exc.headers)


async def on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": _loc(error["loc"]), "msg": error["msg"]} for error in exc.errors()]
    where = ", ".join(".".join(str(p) for p in error["loc"]) for error in errors[:5])
    detail = f"invalid input at {where}"
    if any(_unread_body(error) for error in exc.errors()):
        # FastAPI hands a body it did not read as JSON to the model as bytes.
        sent = request.headers.get("content-type")
        detail = "the body must be JSON sent as application/json, " + (
            f"not {sent[:100]}" if sent else "and the request had no Content-Type"
        )
    elif broken := next((e for e in exc.errors() if e["type"] == "json_invalid"), None):
        # Its place in `loc` is a character offset, not a field.
        reason = (broken.get("ctx") or {}).get("error", "")
        detail = (
            f"the body is not valid JSON: {reason or 'unreadable'} at character {broken['loc'][-1]}"
        )
    body = problem_body(422, detail, slug="validation-error", errors=errors)
    return problem_response(body)


def _unread_body(error: Any) -> bool:
    return tuple(error["loc"]) == ("body",) and isinstance(error.get("input"), bytes)


# What FastAPI says of a JSON body it could not decode for any reason but its syntax.
UNPARSED_BODY = "There was an error parsing the body"


async def on_http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 400 and detail == UNPARSED_BODY:
        detail = _unparsed(exc.__cause__)
    return problem_response(problem_body(exc.status_code, detail), dict(exc.headers or {}))


def _unparsed(cause: BaseException | None) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return (
            f"the body is not UTF-8 (an invalid byte at offset {cause.start}): send JSON "
            "encoded as UTF-8"
        )
    if isinstance(cause, RecursionError):
        return "the body's JSON is nested too deeply to read"
    return f"the body could not be read as JSON ({type(cause).__name__})"


def is_unavailable(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, UNAVAILABLE)


def unavailable_response(request: Request, exc: BaseException) -> Response:
    log.warning(
        "database unavailable on %s: %s", request.url.path, type(exc).__name__, exc_info=exc
    )
    body = problem_body(
        503,
        f"the database cannot be reached just now ({type(exc).__name__}); nothing was "
        f"written; try again in {RETRY_AFTER_S} s",
        slug="unavailable",
    )
    return problem_response(body, {"Retry-After": str(RETRY_AFTER_S)})


async def on_unavailable(request: Request, exc: Exception) -> Response:
    return unavailable_response(request, exc)


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    # Also what a middleware raises, outside the handlers above: the database may be why.
    if is_unavailable(exc):
        return unavailable_response(request, exc)
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(problem_body(500, "an unexpected error occurred; it has been logged"))


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, with a refused preflight answered as problem+json rather
    than text/plain; its CORS headers stay as they are."""

    def preflight_response(self, request_headers: Any) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        reason = bytes(response.body).decode()
        headers = {
            name: value
            for name, value in response.headers.items()
            if name not in {"content-type", "content-length"}
        }
        detail = f"{reason}: this API allows GET and HEAD from any origin"
        return problem_response(problem_body(response.status_code, detail), headers)


# Every route can answer these, whatever it declares: a control character in the URL (400), the
# database out of reach (503).
EVERY_ROUTE: dict[int | str, dict[str, Any]] = {
    status: entry for status, entry in PROBLEMS(400, 503).items() if status != 422
}


def install(app: FastAPI) -> None:
    app.add_exception_handler(FoilogError, on_foilog_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    for error in UNAVAILABLE:
        app.add_exception_handler(error, on_unavailable)
    app.add_exception_handler(Exception, on_unexpected_error)
