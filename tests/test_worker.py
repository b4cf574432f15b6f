"""The background runner: its election, its jobs, and real `foilog worker` and `foilog serve`
processes delivering webhooks, killed and started again."""

import itertools
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import census
import factories
import pytest
from fastapi.testclient import TestClient
from instances import ROOT, _free_port
from log_factories import publish
from receiver import Receiver, Reply, receiving, trickling
from sqlmodel import Session
from webhook_helpers import Configure, deliveries, subscribe

from app import worker
from app.changes import service as changes
from app.db import get_engine, new_session, utcnow

LEADING = "elected: running the background jobs"


def test_one_process_holds_the_lock_at_a_time(database_url: str) -> None:
    first, second = worker.leadership(get_engine()), worker.leadership(get_engine())
    try:
        assert first.acquire()
        assert not second.acquire()
        assert first.acquire()  # still held, not taken twice
        first.release()
        assert second.acquire()
        assert not first.acquire()
    finally:
        first.release()
        second.release()


def test_only_the_leader_runs_the_jobs(database_url: str) -> None:
    runs: list[str] = []

    def job(name: str) -> worker.Job:
        def run() -> bool:
            runs.append(name)
            return False

        return worker.Job(name, run)

    one = worker.Runner(worker.leadership(get_engine()), (job("one"),))
    two = worker.Runner(worker.leadership(get_engine()), (job("two"),))
    try:
        for _ in range(3):
            one.round()
            two.round()
        assert runs == ["one"] * 3
        one.lock.release()
        two.round()
        assert runs[-1] == "two"
        assert two.leading
        assert one.leading
    finally:
        one.lock.release()
        two.lock.release()


def test_a_failing_job_does_not_stop_the_others(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    ran: list[str] = []

    def broken() -> bool:
        raise RuntimeError("receiver exploded")

    def fine() -> bool:
        ran.append("fine")
        return True

    runner = worker.Runner(
        worker.leadership(get_engine()), (worker.Job("broken", broken), worker.Job("fine", fine))
    )
    try:
        assert runner.round() is True
        assert ran == ["fine"]
        assert "'broken' failed" in caplog.text
    finally:
        runner.lock.release()


def test_the_runner_announces_scheduled_entries_that_fell_due(session: Session) -> None:
    entry = publish(session, published_at=utcnow() + timedelta(days=3))
    assert worker.announce_due() is False
    with new_session() as reader:
        assert changes.since(reader, 0, 10) == []
    entry.published_at = utcnow() - timedelta(seconds=1)
    session.add(entry)
    session.commit()
    worker.announce_due()
    worker.announce_due()
    with new_session() as reader:
        assert [(c.kind, c.id) for c in changes.since(reader, 0, 10)] == [("published", entry.id)]


def test_a_stuck_receiver_holds_up_neither_the_others_nor_the_announcing(
    client: TestClient, session: Session, configure: Configure
) -> None:
    """A receiver that trickles its headers a byte at a time: its attempt ends at the timeout,
    and meanwhile the round returns at once, a scheduled entry that fell due is announced and
    another receiver gets it."""
    configure(webhook_timeout_seconds="2")
    key = factories.make_key(session)
    runner = worker.Runner(worker.leadership(get_engine()), worker.jobs())
    with trickling(b"HTTP/1.1 200 OK\r\n") as port, receiving() as receiver:
        stuck = subscribe(client, key, f"http://127.0.0.1:{port}/hook")
        subscribe(client, key, receiver.url())
        published = publish(session, title="Published")
        scheduled = publish(session, title="Scheduled", published_at=utcnow() + timedelta(days=1))
        scheduled.published_at = utcnow() - timedelta(seconds=1)
        session.add(scheduled)
        session.commit()
        try:
            # On a thread: a round stuck on the receiver must fail the test, not hang it.
            round_ = threading.Thread(target=runner.round, daemon=True)
            started = time.monotonic()
            round_.start()
            round_.join(timeout=5)
            took = time.monotonic() - started
            got = receiver.wait_for(2, timeout=5)
        finally:
            runner.halt_jobs()
            runner.lock.release()
        halted = time.monotonic() - started
    assert took < 1.5
    assert [m.json()["data"]["id"] for m in got] == [published.id, scheduled.id]
    assert halted < 4  # the stuck attempt ended at its timeout (the receiver holds on for 5 s)
    with new_session() as reader:
        assert [c.id for c in changes.since(reader, 0, 10)] == [published.id, scheduled.id]
    (attempt,) = deliveries(client, key, stuck["id"])
    assert attempt["error"] == "timed out after 2 s"


@dataclass
class Process:
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def leading(self) -> bool:
        return LEADING in self.output()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


Start = Callable[..., Process]


@pytest.fixture
def start(database_url: str, tmp_path: Path) -> Iterator[Start]:
    """Start `foilog <args>` (by default `worker`) on the test database."""
    started: list[Process] = []
    env = {
        **os.environ,
        "FOILOG_DATABASE_URL": database_url,
        "FOILOG_WEBHOOK_ALLOW_PRIVATE": "true",
        "FOILOG_WEBHOOK_RETRY_SECONDS": "0.2",
        "FOILOG_WORKER_POLL_SECONDS": "0.1",
    }

    def run(*args: str) -> Process:
        log = tmp_path / f"process-{len(started)}.log"
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *(args or ["worker"])],
                cwd=ROOT,
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        started.append(Process(process, log))
        return started[-1]

    yield run
    for each in started:
        if each.process.poll() is None:
            each.kill()


def until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(0.05)


def settled(receiver: Receiver, count: int) -> list[str]:
    """The entry ids received, once `count` have come and nothing more came for a second."""
    receiver.wait_for(count)
    time.sleep(1.0)
    return [str(m.json()["data"]["id"]) for m in receiver.received]


def test_two_workers_deliver_each_change_once_and_the_standby_takes_over(
    client: TestClient, session: Session, configure: Configure, start: Start
) -> None:
    key = factories.make_key(session)
    with receiving() as receiver:
        hook = subscribe(client, key, receiver.url())
        workers = [start(), start()]
        until(lambda: any(w.leading() for w in workers), "a leader")
        leader = next(w for w in workers if w.leading())
        standby = next(w for w in workers if w is not leader)
        first = [str(publish(session, title=f"First {n}").id) for n in range(10)]
        assert settled(receiver, 10) == first
        assert not standby.leading()

        leader.kill()
        more = [str(publish(session, title=f"More {n}").id) for n in range(5)]
        delivered = settled(receiver, 15)
        census.fault("kill -9 of a worker", lost=len({*first, *more} - {*delivered}))
        assert delivered == first + more
        assert standby.leading()
        got = list(receiver.received)
    assert len({m.id for m in got}) == 15
    for message in got:
        message.verified(hook["secret"])


def test_a_killed_worker_started_again_resumes_where_it_stopped(
    client: TestClient, session: Session, configure: Configure, start: Start
) -> None:
    key = factories.make_key(session)
    with receiving() as receiver:
        subscribe(client, key, receiver.url())
        running = start()
        before = [str(publish(session, title=f"Before {n}").id) for n in range(3)]
        assert settled(receiver, 3) == before
        running.kill()
        while_down = [str(publish(session, title=f"Down {n}").id) for n in range(3)]
        time.sleep(0.5)
        assert len(receiver.received) == 3
        start()
        delivered = settled(receiver, 6)
        census.fault("kill -9 of a worker", lost=len({*before, *while_down} - {*delivered}))
        assert delivered == before + while_down
    assert len({m.id for m in receiver.received}) == 6


def test_a_worker_retries_a_failing_receiver_with_growing_delays(
    client: TestClient, session: Session, configure: Configure, start: Start
) -> None:
    failing = 4
    with receiving(lambda n: Reply(500) if n < failing else Reply()) as receiver:
        key = factories.make_key(session)
        subscribe(client, key, receiver.url())
        start()
        entry = publish(session)
        got = receiver.wait_for(failing + 1)
    assert {m.json()["data"]["id"] for m in got} == {entry.id}
    assert len({m.id for m in got}) == 1
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(got)]
    print("retry gaps (s):", [round(gap, 3) for gap in gaps])
    for n, gap in enumerate(gaps):
        delay = 0.2 * 2**n  # FOILOG_WEBHOOK_RETRY_SECONDS, doubled each time
        # No sooner than the jittered delay allows; later only by a poll and a busy machine.
        assert delay / 2 - 0.02 <= gap <= delay + 1.5, (n, gap)


def test_serve_runs_the_background_jobs_in_one_process(
    client: TestClient, session: Session, configure: Configure, start: Start
) -> None:
    key = factories.make_key(session)
    port = _free_port()
    with receiving() as receiver:
        subscribe(client, key, receiver.url())
        # The runner starts in the parent process, before uvicorn's workers are up.
        server = start("serve", "--port", str(port), "--workers", "2")
        published = [str(publish(session, title=f"Served {n}").id) for n in range(6)]
        assert settled(receiver, 6) == published
        # A SIGTERM while a worker still starts waits for its answer (cli.WORKER_HEALTHCHECK_S).
        until(lambda: server.output().count("startup complete") >= 2, "both workers", 120)
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
    assert len({m.id for m in receiver.received}) == 6
