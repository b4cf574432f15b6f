"""Excerpts cut in Python (app/search/highlight.py): which words are marked, and where the
excerpt falls. What the engines return is tested through the API in test_search.py."""

import sqlite3
from collections import defaultdict
from pathlib import Path

import orjson

from app.demo import generate_entries
from app.search import highlight
from app.search.query import parse

LETTERS = Path(__file__).parent / "letters" / "corpus"


def excerpt(q: str, text: str) -> str:
    terms = highlight.Terms.of(highlight.porter(highlight.query_words(parse(q))).values())
    return terms.excerpts([(0, text)], highlight.porter)[0]


def marked(q: str, text: str) -> list[str]:
    return [part.split("</mark>")[0] for part in excerpt(q, text).split("<mark>")[1:]]


def _fts5_stems(words: list[str]) -> list[str]:
    """Each word's term as SQLite's search index stores it."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='porter unicode61 remove_diacritics 2')"
    )
    db.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", list(enumerate(words)))
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    terms = dict(db.execute("SELECT doc, term FROM v"))
    return [terms[i] for i in range(len(words))]


def test_words_are_matched_as_the_search_index_matches_them() -> None:
    """Two words are one term for the highlighter exactly when they are one in FTS5's index:
    every word of the real letters of tests/letters and of 300 generated entries."""
    texts = [path.read_text("utf-8") for path in sorted(LETTERS.glob("*.txt"))]
    texts += [orjson.dumps(entry).decode() for entry in generate_entries(300)]
    words = sorted({word for text in texts for word in highlight.words(text)})
    assert len(words) > 2000
    theirs: dict[str, set[str]] = defaultdict(set)
    ours: dict[str, set[str]] = defaultdict(set)
    indexed = _fts5_stems(words)
    stems = highlight.porter(words)
    for word, term in zip(words, indexed, strict=True):
        theirs[term].add(word)
        ours[stems[word]].add(word)
    differ = [w for w, t in zip(words, indexed, strict=True) if theirs[t] != ours[stems[w]]]
    assert differ == []


def test_stems_case_and_diacritics_are_folded() -> None:
    text = "Facial recognition, recognised faces; RECOGNISE it. The café and the CAFE."
    assert marked("recognise", text) == ["recognised", "RECOGNISE"]
    assert marked("cafe", text) == ["café", "CAFE"]
    assert marked("Café", text) == ["café", "CAFE"]
    # Short words are not stemmed (as FTS5's porter leaves them): `as` is not `a`.
    assert marked("a", "as a rule") == ["a"]


def test_only_whole_words_of_the_query_are_marked() -> None:
    text = "Report on imports and ports: a port_side import; support for the port."
    assert marked("port", text) == ["ports", "port", "port"]
    assert marked("-report port", text) == ["ports", "port", "port"]


def test_the_excerpt_shows_the_densest_run_of_the_querys_terms() -> None:
    filler = " ".join(f"word{i}" for i in range(200))
    text = (
        f"Custody first. {filler} custody alone. {filler} "
        f"How many custody images were kept? {filler}"
    )
    shown = excerpt("custody images", text)
    assert shown.startswith("…")
    assert shown.endswith("…")
    assert "<mark>custody</mark> <mark>images</mark> were kept?" in shown
    assert len(shown.removeprefix("…").split()) == highlight.EXCERPT_TOKENS
    assert shown.split()[highlight.LEAD_TOKENS - 2 : highlight.LEAD_TOKENS + 1] == [
        "How",
        "many",
        "<mark>custody</mark>",
    ]


def test_a_short_text_is_shown_whole_escaped() -> None:
    assert excerpt("script", "  <script> & 40 < 50.  ") == (
        "&lt;<mark>script</mark>&gt; &amp; 40 &lt; 50."
    )


def test_a_text_with_no_mark_found_shows_its_opening() -> None:
    text = " ".join(f"word{i}" for i in range(100))
    shown = excerpt("nothing", text)
    assert shown == " ".join(f"word{i}" for i in range(highlight.EXCERPT_TOKENS)) + "…"


def test_a_match_at_either_end_of_a_long_text() -> None:
    filler = " ".join(f"word{i}" for i in range(100))
    assert excerpt("horse", f"Horse patrols. {filler}").startswith("<mark>Horse</mark> patrols.")
    assert excerpt("horse", f"{filler} a horse.").endswith("a <mark>horse</mark>.")
