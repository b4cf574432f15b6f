import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
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


async def on_validation_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"loc": _loc(error["loc"]), "msg": error["msg"]} for error in exc.errors()]
    where = ", ".join(".".join(str(p) for p in error["loc"]) for error in errors[:5])
    body = problem_body(422, f"invalid input at {where}", slug="validation-error", errors=errors)
    return problem_response(body)


async def on_http_error(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return problem_response(problem_body(exc.status_code, detail), dict(exc.headers or {}))


async def on_unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(problem_body(500, "an unexpected error occurred; it has been logged"))


def install(app: FastAPI) -> None:
    app.add_exception_handler(FoilogError, on_foilog_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(Exception, on_unexpected_error)
