"""SPEC §6: text about to be published must not name its requester."""

import re
from collections.abc import Iterator
from typing import Protocol

from app.entries.service import RequestParts
from app.errors import ErrorLoc, RuleViolation

RULE = "privacy-requester-named"
# Shorter names or emails would match ordinary words; they are not personal data on their own.
MIN_NEEDLE = 3


class Requested(RequestParts, Protocol):
    """A request as the guard reads it: an ORM row, or the plain object a bulk import builds."""

    @property
    def requester_name(self) -> str | None: ...
    @property
    def requester_email(self) -> str | None: ...


def _patterns(request: Requested) -> list[re.Pattern[str]]:
    patterns = []
    name = (request.requester_name or "").split()
    if len(" ".join(name)) >= MIN_NEEDLE:
        # Whole words, any white space between them: "Jane  Doe" and "jane doe" both match.
        words = r"\s+".join(re.escape(part) for part in name)
        patterns.append(re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE))
    email = (request.requester_email or "").strip()
    if len(email) >= MIN_NEEDLE:
        patterns.append(re.compile(re.escape(email), re.IGNORECASE))
    return patterns


def _published_text(request: Requested, title: str) -> Iterator[tuple[ErrorLoc, str]]:
    """Each piece of text the entry document shows, with its place in the document."""
    yield ("title",), title
    yield ("request", "text"), request.text
    for i, question in enumerate(request.questions):
        yield ("request", "questions", i, "text"), question.text
    for i, response in enumerate(request.responses):
        yield ("responses", i, "text"), response.text
        for j, answer in enumerate(response.answers):
            yield ("responses", i, "answers", j, "text"), answer.text


def mentions(request: Requested, title: str) -> list[list[str | int]]:
    """Where the requester's name or email stands in the text to be published."""
    patterns = _patterns(request)
    if not patterns:
        return []
    return [
        list(loc)
        for loc, text in _published_text(request, title)
        if any(pattern.search(text) for pattern in patterns)
    ]


def guard(
    request: Requested, title: str, *, acknowledged: bool, loc: ErrorLoc = ()
) -> list[list[str | int]]:
    """Refuse to publish text naming the requester unless the caller acknowledged it; returns
    what was acknowledged, for the audit log. `loc` prefixes the places named in the error."""
    found = mentions(request, title)
    if found and not acknowledged:
        fields = ", ".join(".".join(str(part) for part in where) for where in found)
        detail = (
            f"the text to be published names the requester ({fields}); remove it, or send "
            '"acknowledge_privacy_warning": true to publish anyway'
        )
        places = [[*loc, *where] for where in found]
        violation = RuleViolation(RULE, detail, loc=places[0])
        violation.errors = [{"loc": where, "msg": detail, "rule": RULE} for where in places]
        raise violation
    return found
