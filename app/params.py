"""HTTP parameters the routes share, so no router imports another."""

from collections import Counter
from collections.abc import Iterator
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Header, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import BeforeValidator

from app.errors import BadRequest
from app.models import MAX_ID


def _digits(value: object) -> object:
    """An id in a URL is its digits alone: `1.0`, `01`, `+1` or `1_000` would name entry 1 (or
    1000) at a second address, which caches, mirrors and links would keep apart."""
    if isinstance(value, str) and not (
        value.isascii() and value.isdigit() and value == str(int(value))
    ):
        raise ValueError("an id is written in digits, with no sign, point or leading zero")
    return value


ResourceId = Annotated[int, BeforeValidator(_digits), Path(ge=1, le=MAX_ID)]
IfMatch = Annotated[str | None, Header(description="the ETag last read; 412 when stale")]
Acknowledge = Annotated[
    bool,
    Query(description="publish text naming the requester anyway (recorded in the audit log)"),
]
PRIVATE = {"Cache-Control": "no-store"}


def _takes_many(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, type(int | None), Annotated):
        return any(_takes_many(arg) for arg in get_args(annotation))
    return get_origin(annotation) in (list, tuple, set, frozenset)


def _query_fields(dependant: Dependant) -> Iterator[Any]:
    yield from dependant.query_params
    for inner in dependant.dependencies:
        yield from _query_fields(inner)


_SINGLE_VALUED: dict[str, frozenset[str]] = {}


def _single_valued(route: APIRoute) -> frozenset[str]:
    """The query parameters of a route, its dependencies' included, that take one value."""
    if (single := _SINGLE_VALUED.get(route.unique_id)) is None:
        fields = _query_fields(route.dependant)
        single = frozenset(f.alias for f in fields if not _takes_many(f.field_info.annotation))
        _SINGLE_VALUED[route.unique_id] = single
    return single


async def one_value_each(request: Request) -> None:
    """`?limit=10&limit=50` is refused, not read as one of the two: a parameter that takes one
    value may be given once. (Repeatable ones, like `force`, say so in their description.)"""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or b"&" not in request.scope.get("query_string", b""):
        return
    single = _single_valued(route)
    given = Counter(name for name, _ in request.query_params.multi_items() if name in single)
    if twice := sorted(name for name, count in given.items() if count > 1):
        raise BadRequest(
            "given more than once, where one value is taken: "
            + ", ".join(f"`{name}`" for name in twice),
            errors=[{"loc": ["query", name], "msg": "given more than once"} for name in twice],
        )
