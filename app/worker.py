"""The background runner: periodic jobs that one process at a time runs, however many workers
or machines serve foilog. `foilog worker` runs it alone; `foilog serve` runs it in a thread of
its main process (the one that starts uvicorn's workers), so each machine has one candidate.

Who runs the jobs is elected, and the lock is one the holder's death releases at once:
- PostgreSQL: a session-level advisory lock, taken on a connection of its own that the holder
  keeps open; the server lets go of it when that connection ends, however the process died.
- SQLite: an exclusive `flock` on a file beside the database. SQLite is shared only by processes
  of one machine, which a file lock reaches, and the kernel drops the lock with the process. A
  lease row would need an expiry to outlive a crashed holder (a stall before anyone takes over),
  and renewing it would take SQLite's single write lock every few seconds.
A holder checks that it still holds the lock before each job; if two ever overlapped (a lost
connection not yet noticed), deliveries stay at least once and the cursors never move back."""

import contextlib
import fcntl
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from app.changes import service as changes
from app.config import get_settings
from app.db import dedicated_engine, get_engine, is_sqlite, new_session
from app.webhooks import dispatcher

log = logging.getLogger("foilog.worker")

# pg_try_advisory_lock's key: "foilog" in ASCII, so other users of the database are unlikely
# to pick it.
ADVISORY_LOCK_KEY = 0x666F696C6F67


class Leadership(Protocol):
    def acquire(self) -> bool:
        """Take the lock if it is free (never waits); True while this process holds it."""

    def release(self) -> None: ...


class AdvisoryLock:
    def __init__(self, engine: Engine) -> None:
        self._engine = dedicated_engine(engine)
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        try:
            if self._connection is not None:
                # Still connected means still holding it.
                self._connection.execute(text("SELECT 1"))
                return True
            connection = self._engine.connect()
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
            ).scalar_one()
        except SQLAlchemyError:
            log.warning("lost the database connection that held the runner's lock")
            self._drop()
            return False
        if taken:
            self._connection = connection
            return True
        connection.close()
        return False

    def _drop(self) -> None:
        if self._connection is not None:
            self._connection.invalidate()
            self._connection.close()
            self._connection = None

    def release(self) -> None:
        if self._connection is not None:
            # A connection that is gone has taken the lock with it.
            with contextlib.suppress(SQLAlchemyError):
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY}
                )
            self._drop()
        self._engine.dispose()


class FileLock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def leadership(engine: Engine) -> Leadership:
    if is_sqlite(engine):
        database = Path(engine.url.database or "foilog.db").resolve()
        return FileLock(database.with_name(database.name + ".runner-lock"))
    return AdvisoryLock(engine)


def announce_due() -> bool:
    """Announce the scheduled entries whose time has come: a read first, and a write (which on
    SQLite takes the database's one write lock) only when there is something to announce."""
    with new_session() as session:
        due = changes.due_announcements(session)
    if due:
        with new_session(write=True) as session:
            changes.announce(session, due)
    return False


@dataclass(frozen=True)
class Job:
    name: str
    # True when there is more to do at once (the next round starts without waiting).
    run: Callable[[], bool]


JOBS = (
    Job("announce scheduled entries", announce_due),
    Job("deliver webhooks", dispatcher.dispatch),
)


class Runner:
    def __init__(self, lock: Leadership, jobs: tuple[Job, ...] = JOBS) -> None:
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
            return False
        busy = False
        for job in self.jobs:
            try:
                busy = job.run() or busy
            except Exception:
                log.exception("background job %r failed; it runs again next round", job.name)
        return busy

    def run(self, stop: threading.Event) -> None:
        poll = get_settings().worker_poll_seconds
        try:
            while not stop.is_set():
                if not self.round():
                    stop.wait(poll)
        finally:
            self.lock.release()


def runner() -> Runner:
    return Runner(leadership(get_engine()))


def start_thread() -> Callable[[], None]:
    """Run the runner in a daemon thread; returns what stops it (waiting for a round in flight
    up to the webhook timeout; a delivery cut short is sent again, at least once)."""
    stop = threading.Event()
    thread = threading.Thread(target=runner().run, args=(stop,), name="foilog-runner", daemon=True)
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=get_settings().webhook_timeout_seconds + 1)

    return halt
