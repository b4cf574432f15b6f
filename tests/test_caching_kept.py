"""Answers kept per process under their ETag."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from app.caching import KeptAnswers
from app.config import get_settings


def test_kept_answers_drop_the_least_recently_used_past_their_budget() -> None:
    kept: KeptAnswers[bytes] = KeptAnswers(max_bytes=10)
    kept.put('"a"', b"aaaa", 4)
    kept.put('"b"', b"bbbb", 4)
    assert kept.get('"a"') == b"aaaa"  # now the most recently used
    kept.put('"c"', b"cccc", 4)
    assert kept.get('"b"') is None
    assert kept.get('"a"') == b"aaaa"
    assert kept.get('"c"') == b"cccc"


def test_an_answer_larger_than_the_budget_is_not_kept() -> None:
    kept: KeptAnswers[bytes] = KeptAnswers(max_bytes=10)
    kept.put('"a"', b"aaaa", 4)
    kept.put('"big"', b"x" * 11, 11)
    assert kept.get('"big"') is None
    assert kept.get('"a"') == b"aaaa"


def test_a_tag_keeps_its_first_answer() -> None:
    kept: KeptAnswers[bytes] = KeptAnswers(max_bytes=10)
    kept.put('"a"', b"one", 3)
    kept.put('"a"', b"two", 3)
    assert kept.get('"a"') == b"one"


def test_concurrent_requests_for_one_tag_compute_it_once() -> None:
    kept: KeptAnswers[bytes] = KeptAnswers(max_bytes=100)
    calls: list[int] = []
    started = threading.Event()

    def compute() -> tuple[bytes, int]:
        calls.append(1)
        started.set()
        time.sleep(0.2)  # the others arrive while this one computes
        return b"answer", 6

    with ThreadPoolExecutor(4) as pool:
        first = pool.submit(kept.answer, '"a"', compute)
        started.wait()
        rest = [pool.submit(kept.answer, '"a"', compute) for _ in range(3)]
        answers = [first.result(), *(f.result() for f in rest)]
    assert answers == [b"answer"] * 4
    assert len(calls) == 1


def test_a_budget_of_nothing_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOILOG_KEPT_ANSWERS_MB", "0")
    get_settings.cache_clear()
    try:
        kept: KeptAnswers[bytes] = KeptAnswers()
        assert kept.answer('"a"', lambda: (b"one", 3)) == b"one"
        assert kept.answer('"a"', lambda: (b"two", 3)) == b"two"
    finally:
        get_settings.cache_clear()
