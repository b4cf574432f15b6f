"""Extraction takes time in proportion to the letter, never to its square.

Each letter below is 150 KB of what once made a step quadratic; read in linear time it takes
well under a second, quadratically from 12 s to nearly a minute, so the generous bound fails
only on a return of the square."""

import time

import pytest

from app.letters import parsing, service

SIZE = 150_000
LETTERS = {
    # A long run of the characters an email is made of: each start scanned the run again.
    "word-run": b"Dear Sir,\n" + b"a" * SIZE + b"\n",
    "dot-run": b"Dear Sir,\n" + b"." * SIZE + b"\n",
    # Numbers past 99 run on into question 99: each line was compared with all of it.
    "numbered": b"".join(b"%d. How many drones?\n" % i for i in range(SIZE // 22)),
    # Each date found was checked against every date found before it.
    "dates": b"Dear Sir,\nYour request was received on " + b"1/1/2018 " * (SIZE // 9),
    # An email spelled out ("zeb dot q at example dot org") with no end to its dots.
    "spelled-dots": b"Dear Zebedee Quartermaine,\n" + b"zeb dot " * (SIZE // 8) + b"q at x dot org",
}


@pytest.mark.parametrize("letter", LETTERS.values(), ids=LETTERS.keys())
def test_time_grows_with_the_letter_not_its_square(letter: bytes) -> None:
    started = time.perf_counter()
    service.extract(letter, media_type="text/plain", force="kent", max_bytes=10 * SIZE)
    assert time.perf_counter() - started < 5


def test_a_letter_past_the_characters_read_is_read_to_there_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(parsing, "MAX_CHARS", 40)
    letter = "Our ref: FOI 80/24\n\nDear Zebedee Quartermaine,\n\nYou asked: how many drones?\n"
    draft = parsing.parse(letter, force="kent", force_name="Kent Police", law="FOIA")
    assert draft.entry["reference"] == "FOI 80/24"
    assert "drones" not in str(draft.entry)
    assert any("only the first 32 are read" in warning for warning in draft.warnings)
    # Cut at the space before the limit: no word is cut in two ("Dear Zebedee Quarter").
    assert not any("Quarter" in warning for warning in draft.warnings)
