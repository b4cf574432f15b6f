"""Excerpts of a text around its densest run of matches, marked, cut in Python; both engines.

SQLite's `snippet()` ran the page's match again and tokenised and stemmed each row's whole text
(3.4 KB on average): a quarter of a worker's busy time under bench/mix.py. PostgreSQL's
`ts_headline` parsed each excerpt, 0.16 ms an entry. Here the query's words are stemmed once,
each stem's first letters are found in the lowered text with `str.find` (C speed), and only the
words found so are stemmed, all of a page's at once, by the engine's own stemming: SQLite's by
PyStemmer's Porter (`porter` below, which groups words exactly as FTS5's porter tokenizer does,
as tests/test_highlight.py checks against fts5vocab), PostgreSQL's by the database, in one
statement (its English stemmer and stop words, which no Python copy matches exactly).

Words are runs of letters and digits, case and diacritics folded, as FTS5's `unicode61
remove_diacritics 2` makes them; a word is marked when its stem is one of the query's. A text
where nothing is marked shows its opening."""

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

import Stemmer

from app.search.query import MARK_END, MARK_START, SearchQuery, mark

EXCERPT_TOKENS = 24  # words in an excerpt, as snippet() was asked for
LEAD_TOKENS = 4  # words shown before the best run's first match
SPAN_CHARS = 160  # how far a run of matches reaches, about EXCERPT_TOKENS words
CHARS_PER_WORD = 30  # text read before the run for each word wanted there (room to spare)
MAX_HITS = 64  # matches weighed when choosing the run
# Stemming shortens and rewrites only a word's ending: a stem of n letters begins with the
# word's first n - 1 (checked on 840,000 words and their suffixed forms); one letter more
# spare, and never more than needed to make the search rare.
PREFIX_MIN = 2
PREFIX_MAX = 6
STEMMED_LENGTHS = range(3, 65)

_TOKEN = re.compile(r"[^\W_]+")
ELLIPSIS = "…"


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("porter")


@cache
def _fold_char(char: str) -> str:
    """One character, lowered and without diacritics, as one character (offsets stay put)."""
    base = unicodedata.normalize("NFKD", char)[:1] or char
    return base.lower()[:1] or base


def folded(text: str) -> str:
    """The text lowered and without diacritics, character for character."""
    low = text.lower()
    if text.isascii():
        return low
    if len(low) != len(text):  # a letter lowered to two (İ)
        low = "".join(char.lower()[:1] for char in text)
    for char in {char for char in set(low) if not char.isascii()}:
        if (base := _fold_char(char)) != char:
            low = low.replace(char, base)
    return low


def porter(words: Collection[str]) -> dict[str, str]:
    """Folded words' stems, as FTS5's porter tokenizer makes them."""
    stemmer = _stemmer()
    return {w: stemmer.stemWord(w) if len(w) in STEMMED_LENGTHS else w for w in words}


def words(text: str) -> list[str]:
    """The text's words, folded."""
    return _TOKEN.findall(folded(text))


def query_words(query: SearchQuery) -> set[str]:
    """The folded words of the query's phrases (excluded phrases mark nothing)."""
    return {w for group in query.groups for phrase in group for w in words(phrase)}


# Folded words to their stems, each as the search index makes it: None (or absent) for a word
# the index leaves out (PostgreSQL's stop words).
Stemming = Callable[[Collection[str]], Mapping[str, str | None]]


class Hit(NamedTuple):
    start: int
    end: int
    stem: str


class _Found(NamedTuple):
    start: int
    end: int
    word: str


@dataclass(frozen=True)
class Terms:
    """The stems of a query's words and the prefixes that find them in a folded text."""

    stems: frozenset[str]
    prefixes: tuple[str, ...]

    @classmethod
    def of(cls, stems: Iterable[str]) -> "Terms":
        stems = frozenset(stems)
        prefixes = {s[: max(min(len(s), PREFIX_MIN), min(len(s) - 2, PREFIX_MAX))] for s in stems}
        return cls(stems, tuple(sorted(prefixes)))

    def excerpts(self, texts: Iterable[tuple[int, str]], stemming: Stemming) -> dict[int, str]:
        """Each text's excerpt by id. The words found by the stems' prefixes in every text are
        stemmed together (by `stemming`, once), and those whose stem is the query's marked."""
        found = [(key, text, self._candidates(folded(text))) for key, text in texts]
        stems = stemming({word for _, _, candidates in found for *_, word in candidates})
        return {
            key: self.excerpt(
                text,
                [Hit(s, e, stem) for s, e, w in candidates if (stem := stems.get(w)) in self.stems],
            )
            for key, text, candidates in found
        }

    def _candidates(self, low: str) -> list[_Found]:
        """The words of the folded text that begin with one of the prefixes, in text order."""
        found: set[_Found] = set()
        for prefix in self.prefixes:
            at = low.find(prefix)
            while at != -1:
                # A word character is what str.isalnum() says it is ([^\W_]).
                if at == 0 or not low[at - 1].isalnum():
                    word = _TOKEN.match(low, at)
                    if word is not None:
                        found.add(_Found(at, word.end(), word.group()))
                at = low.find(prefix, at + 1)
        return sorted(found)

    @staticmethod
    def excerpt(text: str, hits: list[Hit]) -> str:
        """EXCERPT_TOKENS words of the text around its densest run of matches (`hits`, in text
        order), matches marked and HTML-escaped (`query.mark`), with an ellipsis where the text
        goes on."""
        anchor = _densest(hits)
        before = _words(text, anchor - LEAD_TOKENS * CHARS_PER_WORD, anchor)[-LEAD_TOKENS:]
        run = _run(EXCERPT_TOKENS - len(before)).search(text, anchor)
        if run is None:
            return ""
        end = run.end()
        if not _TOKEN.search(text, end):
            # The run reaches the text's last word: to its end, with more words before it.
            end = len(text)
            lead = EXCERPT_TOKENS - len(_TOKEN.findall(run.group()))
            before = _words(text, run.start() - lead * CHARS_PER_WORD, run.start())
            before = before[len(before) - lead :] if lead else []
        start = before[0].start() if before else run.start()
        if not _TOKEN.search(text, 0, start):
            start = 0  # from the text's start when no word is left out there, as snippet()
        parts = [ELLIPSIS] if start else []
        at = start
        for hit in hits:
            if start <= hit.start and hit.end <= end:
                parts += [text[at : hit.start], MARK_START, text[hit.start : hit.end], MARK_END]
                at = hit.end
        parts.append(text[at:end])
        if end < len(text):
            parts.append(ELLIPSIS)
        return mark("".join(parts))


@cache
def _run(words: int) -> re.Pattern[str]:
    """Up to `words` words in one match of a pattern, not one match a word."""
    return re.compile(rf"[^\W_]+(?:[\W_]+[^\W_]+){{0,{words - 1}}}")


def _words(text: str, start: int, end: int) -> list[re.Match[str]]:
    """The words wholly within text[start:end]."""
    start, end = max(0, start), min(len(text), end)
    found = list(_TOKEN.finditer(text, start, end))
    if found and start > 0 and found[0].start() == start and _TOKEN.match(text, start - 1):
        found.pop(0)
    if found and end < len(text) and found[-1].end() == end and _TOKEN.match(text, end):
        found.pop()
    return found


def _densest(hits: list[Hit]) -> int:
    """Where the run of matches of the most different terms within SPAN_CHARS begins (the
    first such run); the text's start when nothing matched. One pass: the run from each hit
    (in text order) gains the hits its end reaches and loses the hit it began at."""
    if not hits:
        return 0
    weighed = hits[:MAX_HITS]
    best, most = weighed[0].start, 0
    within: dict[str, int] = {}  # a stem -> its hits in the run
    end = 0
    for hit in weighed:
        while end < len(weighed) and weighed[end].start < hit.start + SPAN_CHARS:
            stem = weighed[end].stem
            within[stem] = within.get(stem, 0) + 1
            end += 1
        if len(within) > most:
            best, most = hit.start, len(within)
        if within[hit.stem] == 1:
            del within[hit.stem]
        else:
            within[hit.stem] -= 1
    return best
