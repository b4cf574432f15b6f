"""The public pages of SPEC §9: the log, an entry, a force's log, the embed script, and the API
docs served from this host. Each page reads through the same service calls as its `/v1` twin."""

import dataclasses
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from sqlmodel import Session
from starlette.responses import RedirectResponse, Response

from app.disclosure_log import service
from app.disclosure_log.filters import Filters
from app.disclosure_log.schemas import LogFilters, Sort
from app.errors import BadRequest, FoilogError
from app.exemptions import service as exemptions
from app.exemptions.schemas import ExemptionPublic
from app.feeds import service as feeds
from app.forces import service as forces
from app.models import Outcome
from app.pages import assets
from app.pages.render import HTML, Page, error_page, page_answer
from app.pagination import DEFAULT_LIMIT, MAX_LIMIT
from app.params import ResourceId
from app.read_context import PublicRead
from app.topics import service as topics


class PageRoute(APIRoute):
    """A page's errors are pages too: bad input is a 400 page naming the value, an unknown
    entry a 404 page, a withdrawn one a 410 page saying when and why (never problem+json)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            _drop_empty_fields(request)
            try:
                return await handler(request)
            except RequestValidationError as exc:
                return error_page(request, BadRequest(_named(exc.errors())))
            except FoilogError as exc:
                return error_page(request, exc)

        return page_handler


def _drop_empty_fields(request: Request) -> None:
    """A search form sends every field, the unused ones empty: empty means "any"."""
    pairs = parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), True)
    if any(not value.strip() for _, value in pairs):
        kept = [(name, value) for name, value in pairs if value.strip()]
        request.scope["query_string"] = urlencode(kept).encode("latin-1")
        request.__dict__.pop("_query_params", None)


def _named(errors: Any) -> str:
    """`received_from`: 'yesterday' is not …, for each invalid parameter."""
    said = []
    for error in errors[:5]:
        name = error["loc"][-1]
        given = error.get("input")
        value = f" {given!r}" if isinstance(given, str | int) else ""
        said.append(f"`{name}`{value}: {error['msg']}")
    return "; ".join(said)


router = APIRouter(route_class=PageRoute, include_in_schema=False)

Embed = Annotated[bool, Query(description="drop the header and footer, for an iframe")]
SortParam = Annotated[Sort | None, Query()]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Cursor = Annotated[str | None, Query(max_length=512)]
OUTCOMES = [(o.value, o.value.replace("_", " ").capitalize()) for o in Outcome]
SORTS = [
    (Sort.NEWEST.value, "Newest published first"),
    (Sort.OLDEST.value, "Oldest published first"),
    (Sort.RECEIVED_NEWEST.value, "Most recently received first"),
    (Sort.RECEIVED_OLDEST.value, "Earliest received first"),
    (Sort.RELEVANCE.value, "Best match (when searching)"),
]
# LogFilters' plural field names, as the query names them.
REPEATED = {
    "forces": "force",
    "topics": "topic",
    "outcomes": "outcome",
    "exemptions": "exemption",
    "references": "reference",
    "round_robins": "round_robin",
}


def _log(
    request: Request,
    session: Session,
    now: datetime,
    filters: LogFilters,
    *,
    sort: Sort | None,
    limit: int,
    cursor: str | None,
    embed: bool,
    force_name: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    found = service.list_entries(
        session, filters, sort=sort, limit=limit, cursor=cursor, count=True, now=now
    )
    catalogue = exemptions.listed(session)
    page = Page(
        request,
        "log.html",
        embed=embed,
        title=f"{force_name}: FOI disclosure log" if force_name else "FOI disclosure log",
        filtered_by=feeds.describe(session, filters),
    )
    feed_query = urlencode(_filter_params(filters))
    # Filters besides the words searched (and the force a force's page fixes): shown open.
    others = dataclasses.replace(filters, q=None, forces=() if force_name else filters.forces)
    return page_answer(
        page,
        filters=filters,
        sort=sort,
        fixed_force=force_name is not None,
        entries=[orjson.loads(item) for item in found.items],
        total=found.total,
        ranking=found.ranking,
        next_cursor=found.next_cursor,
        first_page=cursor is not None,
        force_names=forces.names(session),
        headings={e.id: e.heading for e in catalogue},
        topic_options=[(t.slug, t.label) for t in topics.list_topics(session, now)],
        # As the filter reads them: `?topic=Drones` is the topic `drones`, selected.
        topic_slugs=[topics.normalise(t) for t in filters.topics],
        exemption_options=[(e.id, _exemption_label(e)) for e in catalogue],
        outcomes=OUTCOMES,
        outcome_labels=dict(OUTCOMES),
        sort_options=SORTS,
        # The filters the form has no field for, kept by a search.
        kept_hidden=[
            (n, v) for n, v in _filter_params(filters) if n in ("law", "reference", "round_robin")
        ],
        feed_query=f"?{feed_query}" if feed_query else "",
        feed_title=feeds.title(session, filters),
        more_filters=sort is not None or bool(_filter_params(others)),
    )


def _filter_params(filters: LogFilters) -> list[tuple[str, str]]:
    """The filters as the query of `/v1/disclosure-log` and its feeds."""
    params: list[tuple[str, str]] = []
    for name, value in dataclasses.asdict(filters).items():
        values = value if isinstance(value, tuple) else (value,)
        params += [(REPEATED.get(name, name), str(v)) for v in values if v not in (None, "")]
    return params


@router.get("/")
def home(request: Request) -> RedirectResponse:
    """The site's front page is the log, asked what the link asked (`/?q=drones`)."""
    query = request.url.query
    return RedirectResponse("/disclosure-log" + (f"?{query}" if query else ""), status_code=307)


@router.get("/disclosure-log")
async def log_page(
    request: Request,
    read: PublicRead,
    filters: Filters,
    sort: SortParam = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    embed: Embed = False,
) -> Response:
    """The published log: search, filters, pages by cursor, the count of matches."""

    def compute(session: Session, now: datetime) -> tuple[bytes, dict[str, str]]:
        return _log(
            request, session, now, filters, sort=sort, limit=limit, cursor=cursor, embed=embed
        )

    # Slow: the page counts every match.
    return await read.answer(compute, media_type=HTML, slow=True)


@router.get("/forces/{force_id}")
async def force_page(
    force_id: Annotated[str, Path(max_length=64)],
    request: Request,
    read: PublicRead,
    filters: Filters,
    sort: SortParam = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    embed: Embed = False,
) -> Response:
    """A force's log: the log page with the force fixed."""

    def compute(session: Session, now: datetime) -> tuple[bytes, dict[str, str]]:
        force = forces.get(session, force_id)
        fixed = dataclasses.replace(filters, forces=(force.id,))
        return _log(
            request,
            session,
            now,
            fixed,
            sort=sort,
            limit=limit,
            cursor=cursor,
            embed=embed,
            force_name=force.name,
        )

    # Slow: the page counts every match.
    return await read.answer(compute, media_type=HTML, slow=True)


@router.get("/disclosure-log/{entry_id}")
async def entry_page(
    entry_id: ResourceId,
    request: Request,
    read: PublicRead,
    embed: Embed = False,
) -> Response:
    """One published entry in full; a withdrawn one answers 410 with a page saying why."""
    return await read.answer(
        lambda session, now: _entry(request, session, now, entry_id, embed=embed),
        media_type=HTML,
    )


def _entry(
    request: Request, session: Session, now: datetime, entry_id: int, *, embed: bool
) -> tuple[bytes, dict[str, str]]:
    document = orjson.loads(service.get_document(session, entry_id, now=now))
    cited = set(document["exemptions"]) | {
        c["exemption"] for r in document["responses"] for c in r["citations"]
    }
    headings = {e.id: e.heading for e in exemptions.listed(session) if e.id in cited}
    page = Page(request, "entry.html", embed=embed, title=document["title"])
    placed, unplaced = _place_answers(document)
    return page_answer(
        page,
        entry=document,
        placed=placed,
        unplaced=unplaced,
        text_repeats_questions=_repeats_questions(document["request"]),
        force_name=forces.names(session).get(document["force"], document["force"]),
        headings=headings,
        outcome_labels=dict(OUTCOMES),
        topic_labels=topics.labels(session, document["topics"]),
    )


router.include_router(assets.router)


def _exemption_label(exemption: ExemptionPublic) -> str:
    part = "reg" if exemption.law == "EIR" else "s"
    return f"{exemption.heading} ({exemption.law} {part}{exemption.section})"


Placed = list[tuple[dict[str, Any], dict[str, Any]]]


def _repeats_questions(request: dict[str, Any]) -> bool:
    """Whether the request's text is only its numbered questions again (as a letter quotes
    them): then the page lists the questions once."""
    words = "".join(request["text"].split()).lower()
    numbered = "".join(f"{q['number']}.{q['text']}" for q in request["questions"])
    return bool(request["questions"]) and words == "".join(numbered.split()).lower()


def _place_answers(document: dict[str, Any]) -> tuple[dict[str, Placed], list[Placed]]:
    """Each answer once, under the last of the questions it answers (an answer to 11-17 after
    question 17); answers to no question of the request stay with their response."""
    order = {q["number"]: i for i, q in enumerate(document["request"]["questions"])}
    placed: dict[str, Placed] = {}
    unplaced: list[Placed] = []
    for response in document["responses"]:
        left: Placed = []
        for answer in response["answers"]:
            known = [n for n in answer["questions"] if n in order]
            if known:
                last = max(known, key=order.__getitem__)
                placed.setdefault(last, []).append((response, answer))
            else:
                left.append((response, answer))
        unplaced.append(left)
    return placed, unplaced
