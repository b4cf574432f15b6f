"""How common a query's matches are, for choosing the form of a date- or id-ordered match.

A share only ever steers a plan, never an answer, so each is kept a while per process and a
page does not pay for it each time (SQLite counts the matches among the newest ids,
PostgreSQL asks its planner); the log's size beside them."""

import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlmodel import Session

KEPT_SECONDS = 300.0
MOST_KEPT = 4096

T = TypeVar("T")

_kept: dict[tuple[str, str], tuple[float, Any]] = {}


def _kept_for(session: Session, key: str, compute: Callable[[], T]) -> T:
    """What `compute` gives for `key`, from it at most once every KEPT_SECONDS per database."""
    kept_key = (session.get_bind().engine.url.render_as_string(), key)
    kept = _kept.get(kept_key)
    if kept is not None and kept[0] > time.monotonic():
        value: T = kept[1]
        return value
    value = compute()
    if len(_kept) >= MOST_KEPT:
        _kept.clear()
    _kept[kept_key] = (time.monotonic() + KEPT_SECONDS, value)
    return value


def share(session: Session, key: str, count: Callable[[], tuple[int, int]]) -> tuple[int, int]:
    """(entries matching, entries in all) for the query `key` names, from `count`."""
    return _kept_for(session, "query " + key, count)


def size(session: Session, count: Callable[[], int]) -> int:
    """How many entries the log holds, from `count`: kept like a share, so a new query's share
    costs only its own count."""
    return _kept_for(session, "size", count)


def walk_length(matched: int, entries: int, size: int) -> float:
    """How many entries a walk of an index in date or id order expects to read before it has
    found `size` of `matched` matches among `entries`."""
    return size * entries / matched if matched else math.inf
