"""Templates to bytes, and bytes to a cacheable page with its security headers."""

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from app.errors import FoilogError
from app.links import base_url

HTML = "text/html; charset=utf-8"
# Pages run no script and load nothing from another host; an iframe on any site may frame
# them (`?embed=1`), so no frame-ancestors.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; connect-src 'self'"
)
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
PAGE_HEADERS = {"Content-Security-Policy": PAGE_POLICY, **SECURITY_HEADERS}

templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _day(value: str | date | None) -> str:
    """`2018-05-29` as people in the UK write it: 29 May 2018."""
    if not value:
        return ""
    day = date.fromisoformat(str(value)[:10])
    return f"{day.day} {day:%B %Y}"


def _moment(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{_day(moment.date())}, {moment:%H:%M} UTC"


def _highlight(excerpt: str | None) -> Markup:
    """The search excerpt: HTML-escaped text with <mark> around matches. Any other tag is
    escaped again, so only <mark> can ever reach the page."""
    if not excerpt:
        return Markup("")
    return Markup(re.sub(r"<(?!/?mark>)", "&lt;", excerpt))  # noqa: S704 (escaped above)


def _paragraphs(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"\n\s*\n", text or "") if part.strip()]


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    if count < 1024**2:
        return f"{count / 1024:.1f} KB"
    return f"{count / 1024**2:.1f} MB"


templates.filters.update(day=_day, moment=_moment, highlight=_highlight, size=_size)
templates.filters["paragraphs"] = _paragraphs


@dataclass
class Page:
    """What every page of the base layout needs."""

    request: Request
    template: str
    embed: bool = False
    title: str = ""
    filtered_by: list[str] = field(default_factory=list)

    def link(self, path: str, params: list[tuple[str, str]] | None = None) -> str:
        """A link to another page, keeping `?embed=1` so a framed log stays framed."""
        params = list(params or [])
        if self.embed:
            params.append(("embed", "1"))
        return path + (f"?{urlencode(params)}" if params else "")

    def query(self, *, drop: tuple[str, ...] = (), **changes: str | None) -> list[tuple[str, str]]:
        """This page's query, less `drop` and the changed names, plus the changes."""
        gone = {"embed", *drop, *changes}
        kept = [(k, v) for k, v in self.request.query_params.multi_items() if k not in gone]
        return kept + [(k, v) for k, v in changes.items() if v is not None]


def render(page: Page, **context: Any) -> bytes:
    template = templates.get_template(page.template)
    html = template.render(page=page, base_url=base_url(page.request), **context)
    return html.encode()


def page_answer(page: Page, **context: Any) -> tuple[bytes, dict[str, str]]:
    """A page's body and headers, for the read seam to tag (ETag, Cache-Control, 304s)."""
    return render(page, **context), PAGE_HEADERS


def browser_page(request: Request, error: FoilogError) -> Response | None:
    """The page for an error met before any route (a path that is no page, a URL holding a
    control character) when a browser asked for a page; None for the API's paths and for
    clients that do not ask for HTML, which get problem+json."""
    if request.url.path.startswith("/v1/") or "text/html" not in request.headers.get("accept", ""):
        return None
    return error_page(request, error)


def error_page(request: Request, error: FoilogError) -> Response:
    """The page for a domain error: what was wrong, in words, and the way back."""
    embed = request.query_params.get("embed") in ("1", "true")
    template = "gone.html" if error.status == 410 else "error.html"
    page = Page(request, template, embed=embed, title=error.title)
    body = render(page, error=error, tombstone=error.extra)
    headers = {**PAGE_HEADERS, **error.headers}
    return Response(body, status_code=error.status, media_type=HTML, headers=headers)
