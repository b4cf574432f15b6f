"""HTTP parameters the routes share, so no router imports another."""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Query:
    """What a route reads of a query string, its dependencies' parameters included."""

    names: frozenset[str]
    single: frozenset[str]  # those that take one value


_QUERIES: dict[str, _Query] = {}


def _query(route: APIRoute) -> _Query:
    if (query := _QUERIES.get(route.unique_id)) is None:
        fields = list(_query_fields(route.dependant))
        query = _Query(
            names=frozenset(f.alias for f in fields),
            single=frozenset(f.alias for f in fields if not _takes_many(f.field_info.annotation)),
        )
        _QUERIES[route.unique_id] = query
    return query


async def checked_query(request: Request) -> None:
    """On the API every query parameter is one the route reads: `/v1/stats?frce=kent` counted
    the whole log and `/v1/changes?cursor=` read the feed from its start, and neither said so.
    (Pages leave others alone: links into them carry a site's own, `utm_source` and the like.)
    And `?limit=10&limit=50` is refused, not read as one of the two: a parameter that takes one
    value may be given once. (Repeatable ones, like `force`, say so in their description.)"""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.scope.get("query_string"):
        return
    query = _query(route)
    given = Counter(name for name, _ in request.query_params.multi_items())
    if route.path.startswith("/v1/") and (unknown := sorted(given.keys() - query.names)):
        takes = ", ".join(f"`{name}`" for name in sorted(query.names)) or "none"
        raise BadRequest(
            "not a query parameter of this route: "
            + ", ".join(f"`{name[:40]}`" for name in unknown)
            + f"; it takes {takes}",
            errors=[
                {"loc": ["query", name[:40]], "msg": "not a parameter of this route"}
                for name in unknown
            ],
        )
    if twice := sorted(name for name in query.single if given[name] > 1):
        raise BadRequest(
            "given more than once, where one value is taken: "
            + ", ".join(f"`{name}`" for name in twice),
            errors=[{"loc": ["query", name], "msg": "given more than once"} for name in twice],
        )
