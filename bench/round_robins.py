"""How much round-robin linking adds to publishing one entry into a large log.

Loads `--size` entries of the benchmark corpus (bench/corpus.py) through the import (or
starts from a copy of a log built already, `--copy-of`), then publishes `--publishes` more
through the publishing service, each twice over: once as foilog does (band keys stored,
candidates found by index, verified, grouped), once with linking switched off, which is
publishing as it was before round-robins. The two alternate, so load on the machine falls on
both alike. Prints medians and the 90th percentile, with the load average.

    python -m bench.round_robins --size 100000 [--database-url postgresql+psycopg://...]
    python -m bench.round_robins --copy-of bench/data/foilog-100000.db
"""

import argparse
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import orjson
from sqlalchemy import func, select
from sqlmodel import col

from app.config import get_settings
from app.db import get_engine, new_session
from app.demo import generate_entries
from app.entries.schemas import ResponseBody
from app.foi_requests import service as requests
from app.foi_requests.schemas import RequestCreate
from app.foi_responses import service as responses
from app.imports import service as imports
from app.keys.schemas import Actor
from app.migrate import upgrade
from app.models import DisclosureEntry, RoundRobin, RoundRobinEntry
from app.publishing import service as publishing
from app.publishing.schemas import Publish
from app.round_robins import service as round_robins

ACTOR = Actor.system("bench")


def _lines(size: int) -> Iterator[bytes]:
    for document in generate_entries(size):
        yield orjson.dumps(document)


def _publish_one(document: dict[str, Any], suffix: str) -> float:
    """Create, answer and publish one request; the seconds `publish` took."""
    with new_session(write=True) as session:
        body = RequestCreate(
            force=document["force"],
            reference=f"{document['reference']}-{suffix}",
            received_on=document["received_on"],
            title=document["title"],
            text=document["request"]["text"],
            questions=document["request"]["questions"],
        )
        request = requests.create_request(session, body, actor=ACTOR)
        for response in document["responses"]:
            answer = ResponseBody.model_validate(response)
            responses.add(session, request.id or 0, answer, actor=ACTOR)
        started = time.perf_counter()
        publishing.publish(
            session,
            Publish(request_id=request.id, acknowledge_privacy_warning=True),
            actor=ACTOR,
        )
        return time.perf_counter() - started


def _without_linking(texts: Any, *args: Any, **kwargs: Any) -> list[int]:
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--publishes", type=int, default=40)
    parser.add_argument("--database-url", default=None, help="default: a new SQLite file")
    parser.add_argument(
        "--copy-of", type=Path, default=None, help="an SQLite log to copy instead of importing"
    )
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        path = Path(tempfile.mkdtemp()) / "round-robins.db"
        if args.copy_of is not None:
            # With its write-ahead log: a log not checkpointed holds its newest pages there.
            for suffix in ("", "-wal"):
                if Path(f"{args.copy_of}{suffix}").exists():
                    shutil.copyfile(f"{args.copy_of}{suffix}", f"{path}{suffix}")
        url = f"sqlite:///{path}"
    os.environ["FOILOG_DATABASE_URL"] = url
    get_settings.cache_clear()
    get_engine.cache_clear()
    upgrade(url)
    if args.copy_of is None:
        started = time.perf_counter()
        with new_session(write=True) as session:
            # A list: the import reads its lines twice (checked, then written).
            result = imports.import_entries(session, list(_lines(args.size)), actor=ACTOR)
        print(f"imported {result.created} entries in {time.perf_counter() - started:.1f} s")
    with new_session() as session:
        args.size = session.execute(select(func.count()).select_from(DisclosureEntry)).scalar_one()
    print(f"log of {args.size} entries")
    extra = list(generate_entries(args.publishes, start_index=args.size))
    linked: list[float] = []
    plain: list[float] = []
    linking: list[float] = []
    store = round_robins.store

    def timed_store(*args: Any, **kwargs: Any) -> list[int]:
        started = time.perf_counter()
        try:
            return store(*args, **kwargs)
        finally:
            linking.append(time.perf_counter() - started)

    for number, document in enumerate(extra):
        # The same text published twice in one log would find itself: different forces' copies.
        with mock.patch("app.entries.service.round_robins.store", timed_store):
            linked.append(_publish_one(document, f"a{number}"))
        with mock.patch("app.entries.service.round_robins.store", _without_linking):
            plain.append(_publish_one(document, f"b{number}"))
    with new_session() as session:
        groups = session.execute(select(func.count()).select_from(RoundRobin)).scalar_one()
        grouped = session.execute(
            select(func.count()).where(col(RoundRobinEntry.round_robin_id).is_not(None))
        ).scalar_one()
    for name, times in (("with linking", linked), ("without", plain)):
        ms = sorted(t * 1000 for t in times)
        print(
            f"{name:>13}: median {statistics.median(ms):.2f} ms, "
            f"p90 {ms[int(len(ms) * 0.9) - 1]:.2f} ms over {len(ms)} publishes"
        )
    difference = (statistics.median(linked) - statistics.median(plain)) * 1000
    print(f"difference of medians: {difference:.2f} ms")
    ms = sorted(t * 1000 for t in linking)
    median, longest = statistics.median(ms), ms[-1]
    print(f"linking alone (round_robins.store): median {median:.2f} ms, max {longest:.2f} ms")
    print(f"{groups} round-robins linking {grouped} entries; load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
