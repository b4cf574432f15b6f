"""Answers kept per process under their ETag."""

from app.caching import KeptAnswers


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
