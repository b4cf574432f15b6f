"""The search language of `q`, parsed into a small tree that each engine renders itself, so user
text never reaches FTS5 MATCH syntax or to_tsquery as syntax."""

import html
import re
from dataclasses import dataclass

from app.errors import BadRequest

MAX_TERMS = 32

# Engines wrap matches in these; `mark` escapes the excerpt and turns them into <mark> tags.
MARK_START = "\x02"
MARK_END = "\x03"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN = re.compile(r'(?P<neg>-)?"(?P<phrase>[^"]*)"?|(?P<word>[^\s"]+)')
_WORD_CHARACTER = re.compile(r"[^\W_]")
# A possessive ending: `police's` is looked for as `police`, as PostgreSQL's english parser
# reads it; FTS5 would look for the phrase `police s`, and find only the possessives.
_POSSESSIVE = re.compile(r"(?<=[^\W_])['\u2019]s$", re.IGNORECASE)


@dataclass(frozen=True)
class SearchQuery:
    """Groups are ANDed; the phrases of a group are ORed; no match may hold an excluded phrase.
    A phrase is the user's text for one term (a word is a phrase of one word); each engine
    tokenises it as it tokenises the documents."""

    groups: tuple[tuple[str, ...], ...]
    excluded: tuple[str, ...]

    @property
    def terms(self) -> int:
        return sum(len(group) for group in self.groups) + len(self.excluded)


def parse(text: str) -> SearchQuery:
    """Words are ANDed; `"a phrase"`, `-word`, `-"a phrase"`, `NOT word` and `a OR b` work.
    Anything else is taken as text: an unbalanced quote runs to the end, operators of the
    engines underneath (`*`, `^`, `:`, `NEAR`, `&`, `|`) are ordinary characters."""
    groups: list[tuple[str, ...]] = []
    excluded: list[str] = []
    join_previous = negate_next = False
    for match in _TOKEN.finditer(_CONTROL.sub(" ", text)):
        word = match["word"]
        if word in ("OR", "AND", "NOT"):
            join_previous = word == "OR" and bool(groups) and not negate_next
            negate_next = word == "NOT"
            continue
        negated = negate_next or bool(match["neg"])
        phrase = match["phrase"]
        if phrase is None:
            negated = negated or (word.startswith("-") and len(word) > 1)
            phrase = word[1:] if word.startswith("-") and len(word) > 1 else word
            phrase = _POSSESSIVE.sub("", phrase)
        phrase = " ".join(phrase.split())
        negate_next = False
        if not _WORD_CHARACTER.search(phrase):
            continue
        if negated:
            excluded.append(phrase)
            join_previous = False
        elif join_previous:
            groups[-1] = (*groups[-1], phrase)
            join_previous = False
        else:
            groups.append((phrase,))
    query = SearchQuery(tuple(groups), tuple(excluded))
    if not groups and not excluded:
        raise BadRequest("the query `q` has no words to search for")
    if not groups:
        raise BadRequest(
            "the query `q` only excludes words; add at least one word or phrase to search for"
        )
    if query.terms > MAX_TERMS:
        raise BadRequest(f"the query `q` has {query.terms} terms; at most {MAX_TERMS} are searched")
    return query


def mark(excerpt: str) -> str:
    """HTML-escape an engine's excerpt and wrap its matches in <mark>."""
    escaped = html.escape(" ".join(excerpt.split()), quote=True)
    return escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>")
