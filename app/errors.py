from collections.abc import Sequence
from typing import Any

ErrorLoc = Sequence[str | int]


class FoilogError(Exception):
    """A domain error that knows its HTTP status; rendered as problem+json in one place."""

    status: int = 400
    title: str = "Bad request"
    slug: str = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.extra = extra or {}
        self.headers = headers or {}


class MultipleChoices(FoilogError):
    """A name that stands for several things: the answer lists them for the client to choose."""

    status, title, slug = 300, "Multiple choices", "multiple-choices"


class BadRequest(FoilogError):
    pass


class Unauthorized(FoilogError):
    status, title, slug = 401, "Unauthorized", "unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="foilog"'})


class Forbidden(FoilogError):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(FoilogError):
    status, title, slug = 404, "Not found", "not-found"


class Conflict(FoilogError):
    status, title, slug = 409, "Conflict", "conflict"


class Gone(FoilogError):
    status, title, slug = 410, "Gone", "gone"


class PreconditionFailed(FoilogError):
    status, title, slug = 412, "Precondition failed", "precondition-failed"


class PayloadTooLarge(FoilogError):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(FoilogError):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class RuleViolation(FoilogError):
    """A consistency rule of the domain is broken; `rule` names it for clients."""

    status, title, slug = 422, "Rule violated", "rule-violated"

    def __init__(self, rule: str, detail: str, *, loc: ErrorLoc = ()) -> None:
        super().__init__(
            detail, errors=[{"loc": list(loc), "msg": detail, "rule": rule}], extra={"rule": rule}
        )
        self.rule = rule


class InvalidInput(FoilogError):
    """Input that fails validation outside pydantic (import lines, query strings)."""

    status, title, slug = 422, "Invalid input", "validation-error"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]]) -> None:
        super().__init__(detail, errors=errors)


class ServiceUnavailable(FoilogError):
    status, title, slug = 503, "Service unavailable", "unavailable"


class Busy(ServiceUnavailable):
    """A wait for a shared resource ran out: worth trying again after `retry_after` s."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after)})


class ReadsBusy(Busy):
    """Every public read slot (`FOILOG_READ_CONCURRENCY`) stayed taken past the pool timeout."""

    slug = "reads-busy"


class WriteBusy(Busy):
    """SQLite: the write lock stayed taken past `FOILOG_WRITE_WAIT_S`."""

    slug = "write-busy"


PROBLEM_JSON = "application/problem+json"
PROBLEM_STATUS_TITLES = {
    300: "Multiple choices",
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    410: "Gone",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_body(
    status: int,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    title = title or PROBLEM_STATUS_TITLES.get(status, "Error")
    slug = slug or title.lower().replace(" ", "-")
    body: dict[str, Any] = {
        "type": f"urn:foilog:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body
