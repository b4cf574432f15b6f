"""The background runner: periodic jobs that one process at a time runs, however many workers
or machines serve foilog. `foilog worker` runs it alone; `foilog serve` runs it in a thread of
its main process (the one that starts uvicorn's workers), so each machine has one candidate.

Who runs the jobs is elected with `app.db.process_lock`, a lock the holder's death releases at
once (an advisory lock on PostgreSQL, a file lock on SQLite; see there why).
A holder checks that it still holds the lock before each round; a job with threads of its own
(webhook delivery) is halted before the lead is given up, and as soon as it is found lost. If two
ever overlapped (a lost connection not yet noticed), deliveries stay at least once and the
cursors never move back."""

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from app.changes import service as changes
from app.config import get_settings
from app.db import ProcessLock, get_engine, new_session, process_lock
from app.models import ChangeKind
from app.round_robins import service as round_robins
from app.webhooks import dispatcher

log = logging.getLogger("foilog.worker")

# pg_try_advisory_lock's key: "foilog" in ASCII, so other users of the database are unlikely
# to pick it.
ADVISORY_LOCK_KEY = 0x666F696C6F67
HOUSEKEEPING_INTERVAL = timedelta(hours=1)


def leadership(engine: Engine) -> ProcessLock:
    return process_lock(engine, "runner-lock", ADVISORY_LOCK_KEY)


def announce_due() -> bool:
    """Announce the scheduled entries whose time has come: a read first, and a write (which on
    SQLite takes the database's one write lock) only when there is something to announce."""
    with new_session() as session:
        due = changes.due_announcements(session)
    if due:
        with new_session(write=True) as session:
            changes.announce(session, due)
    return False


def link_unlinked() -> int:
    """Link into round-robins every entry never linked (published before round-robins
    existed, or an import's whose linking pass did not finish), a batch to a transaction;
    returns how many joined a group. `foilog round-robins backfill` runs it at once; the
    runner runs it hourly, so an interrupted linking pass heals without an operator."""
    with new_session() as reader:
        # The scan reads every entry (0.5 s at 100,000): a write session would hold SQLite's
        # write lock through it at every start and every hour.
        if not round_robins.any_unlinked(reader):
            return 0
    linked = 0
    after = 0
    with new_session(write=True) as session:
        while (
            batch := round_robins.backfill(session, after=after, limit=round_robins.BATCH)
        ) is not None:
            changes.record(session, batch.changed, ChangeKind.UPDATED)
            session.commit()
            after = batch.last
            linked += batch.linked
    return linked


class Every:
    """Runs `chore` at the first round and then once per `interval`: a chore that is cheap to
    skip but would take SQLite's write lock each round."""

    def __init__(self, interval: timedelta, chore: Callable[[], object]) -> None:
        self.interval = interval
        self.chore = chore
        self.last: float | None = None

    def __call__(self) -> bool:
        now = time.monotonic()
        if self.last is None or now - self.last >= self.interval.total_seconds():
            self.last = now
            self.chore()
        return False


@dataclass(frozen=True)
class Job:
    name: str
    # True when there is more to do at once (the next round starts without waiting).
    run: Callable[[], bool]
    # Stops what `run` left going on threads of its own, waiting for it.
    halt: Callable[[], None] | None = None


def jobs() -> tuple[Job, ...]:
    deliveries = dispatcher.Dispatcher()
    return (
        Job("announce scheduled entries", announce_due),
        Job("deliver webhooks", deliveries, halt=deliveries.halt),
        Job(
            "link entries never linked into round-robins",
            Every(HOUSEKEEPING_INTERVAL, link_unlinked),
        ),
        Job(
            "seal webhook secrets, prune the deliveries log",
            Every(HOUSEKEEPING_INTERVAL, dispatcher.housekeeping),
        ),
    )


class Runner:
    def __init__(self, lock: ProcessLock, jobs: tuple[Job, ...]) -> None:
        self.lock = lock
        self.jobs = jobs
        self.leading = False

    def round(self) -> bool:
        """One round of every job if this process is (or now becomes) the leader."""
        leading = self.lock.acquire()
        if leading != self.leading:
            log.info("elected: running the background jobs" if leading else "lost the election")
            self.leading = leading
            if not leading:
                self.halt_jobs()
        if not leading:
            return False
        busy = False
        for job in self.jobs:
            try:
                busy = job.run() or busy
            except Exception:
                log.exception("background job %r failed; it runs again next round", job.name)
        return busy

    def halt_jobs(self) -> None:
        for job in self.jobs:
            if job.halt is not None:
                job.halt()

    def run(self, stop: threading.Event) -> None:
        poll = get_settings().worker_poll_seconds
        try:
            while not stop.is_set():
                if not self.round():
                    stop.wait(poll)
        finally:
            self.halt_jobs()
            self.lock.release()


def runner() -> Runner:
    return Runner(leadership(get_engine()), jobs())


def start_thread() -> Callable[[], None]:
    """Run the runner in a daemon thread; returns what stops it (waiting for the round and the
    deliveries in flight up to the webhook timeout; a delivery cut short is sent again, at least
    once)."""
    stop = threading.Event()
    thread = threading.Thread(target=runner().run, args=(stop,), name="foilog-runner", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=get_settings().webhook_timeout_seconds + 1)

    return halt
