"""Public reads take turns, and writes go first.

A public read is mostly Python, and a process runs one thread of Python at a time: sixteen reads
computed at once share the interpreter evenly, and a publish among them gets a seventeenth of
it (a 20 ms publish took seconds). So a process lets only a few reads run at once, and the rest
wait their turn, where they cost nothing. A read's turn lasts at most `LEASE_S`: one that takes
longer (a statistics scan, a slow disk) runs on beside the others and lets the next read start,
so a slow read never holds the queue up.

A write in the process goes before the reads still waiting: while one runs, no read starts its
turn (those running finish), so the write shares the interpreter with the event loop alone. For
at most `WRITE_LEASE_S` a write: a long one (a letter upload, a client sending slowly) lets
reads start again after that, so no write stalls the public pages.

A write goes first in the other processes that serve the same database too (`WriteBeacon`):
while one runs in any of them, none starts a read, for the same lease. Each process's reads
otherwise ran on beside it: a publication under read load on PostgreSQL, two workers, took
85-94 ms at the median and 179-276 at the 99th percentile, against 41-45 and 65-72 with one
worker, whose reads all waited for it.

A read run on the event loop itself (`turn_on_loop`) takes its turn among the same tickets and
waits for one without stopping the loop: the threads that end a read or a write wake it. Such
reads also start one a pass of the loop (`_Passes`), so that the loop reads its sockets between
two of them."""

import asyncio
import fcntl
import hashlib
import os
import struct
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, nullcontext, suppress
from pathlib import Path

# Longer than a page takes under load (10-200 ms), short enough that reads queued behind a
# slow one wait little.
LEASE_S = 0.25
# Longer than a publish takes alone (15-45 ms), short enough that reads paused for a long
# write wait little.
WRITE_LEASE_S = 0.1
# How often reads held back by another process's write look again: that process cannot wake
# them. Short beside a publication (15-45 ms alone).
BEACON_POLL_S = 0.005

# Linux's `struct flock` (x86-64 and arm64): type, whence, start, length, pid, padding.
_FLOCK = "hhqqi4x"


class WriteBeacon:
    """Whether a write runs in any process serving the same database (this one included):
    each write holds a shared lock on the first byte of one file while it runs, an open file
    description lock (Linux), released when the write closes its descriptor, however it ends.
    Asking is one system call (F_OFD_GETLK, under a microsecond) that takes no lock, so it
    never delays a write."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._asker = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        weakref.finalize(self, os.close, self._asker)  # closed with the beacon

    @classmethod
    def for_database(cls, url: str) -> "WriteBeacon | None":
        """The beacon of the database at `url`, in the temporary directory; None where the
        system has no open file description locks (Linux before 3.15 refuses them) or the
        file cannot be opened: each process then puts only its own writes first."""
        if not hasattr(fcntl, "F_OFD_GETLK"):
            return None
        name = hashlib.blake2b(url.encode(), digest_size=12).hexdigest()
        try:
            beacon = cls(Path(tempfile.gettempdir()) / f"foilog-writes-{name}")
            beacon.lit()  # the system's answer, once
        except OSError:
            return None
        return beacon

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Hold the beacon while the block runs. A write goes on without it when the file or
        its lock cannot be had (the temporary directory emptied under a running server, the
        system's locks all taken)."""
        try:
            held = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            yield
            return
        try:
            # Shared locks never conflict with one another, and no one takes another kind.
            with suppress(OSError):
                lock = struct.pack(_FLOCK, fcntl.F_RDLCK, 0, 0, 1, 0)
                fcntl.fcntl(held, fcntl.F_OFD_SETLK, lock)
            yield
        finally:
            os.close(held)

    def lit(self) -> bool:
        """Whether a write holds the beacon now."""
        asked = struct.pack(_FLOCK, fcntl.F_WRLCK, 0, 0, 1, 0)
        answer = fcntl.fcntl(self._asker, fcntl.F_OFD_GETLK, asked)
        kind: int = struct.unpack(_FLOCK, answer)[0]
        return kind != fcntl.F_UNLCK


class Turns:
    def __init__(
        self,
        size: int,
        *,
        lease_s: float = LEASE_S,
        write_lease_s: float = WRITE_LEASE_S,
        beacon: WriteBeacon | None = None,
    ) -> None:
        self.size = size
        self.lease_s = lease_s
        self.write_lease_s = write_lease_s
        self.beacon = beacon
        self._lit_since: float | None = None  # when the beacon was first seen lit, this time
        self._started: dict[int, float] = {}  # running reads: a ticket -> when its turn began
        self._writing: dict[int, float] = {}  # running writes: a ticket -> when it began
        self._tickets = 0
        self._changed = threading.Condition()
        self._waiting: set[asyncio.Future[None]] = set()  # reads on an event loop, waiting
        self._passes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Passes] = (
            weakref.WeakKeyDictionary()
        )

    def _holding(self, now: float) -> list[float]:
        """When the running reads whose turn has not ended began."""
        return [began for began in self._started.values() if now - began < self.lease_s]

    def _pausing(self, now: float) -> list[float]:
        """When the running writes whose priority has not ended began."""
        return [began for began in self._writing.values() if now - began < self.write_lease_s]

    @contextmanager
    def turn(self, timeout: float) -> Iterator[bool]:
        """Wait up to `timeout` seconds for a turn; yields whether one came (outside the lock,
        so a caller answering that none came holds up no one)."""
        with self._turn_of(self._take(timeout)) as turn:
            yield turn

    @asynccontextmanager
    async def turn_on_loop(self, timeout: float) -> AsyncIterator[bool]:
        """`turn` for a read run on the event loop: its wait lets the loop run on."""
        with self._turn_of(await self._take_on_loop(timeout)) as turn:
            yield turn

    @contextmanager
    def _turn_of(self, ticket: int | None) -> Iterator[bool]:
        if ticket is None:
            yield False
            return
        try:
            yield True
        finally:
            self._end_read(ticket)

    async def _take_on_loop(self, timeout: float) -> int | None:
        loop = asyncio.get_running_loop()
        with self._changed:
            passes = self._passes.setdefault(loop, _Passes())
        deadline = time.monotonic() + timeout
        while True:
            if not await passes.take(deadline):
                return None
            with self._changed:
                now = time.monotonic()
                ticket, retry = self._admit(now)
                if ticket is not None or now >= deadline:
                    return ticket
                woken: asyncio.Future[None] = loop.create_future()
                self._waiting.add(woken)
            try:
                # Woken when a read or write ends, or when a lease runs out.
                await asyncio.wait({woken}, timeout=min(deadline, retry) - now)
            finally:
                with self._changed:
                    self._waiting.discard(woken)

    def _end_read(self, ticket: int) -> None:
        with self._changed:
            del self._started[ticket]
            self._changed.notify()
            self._wake_loops()

    def _wake_loops(self) -> None:
        """Under the lock: the reads waiting on event loops look again."""
        for woken in list(self._waiting):
            try:
                woken.get_loop().call_soon_threadsafe(_settle, woken)
            except RuntimeError:  # its loop has closed
                self._waiting.discard(woken)

    @contextmanager
    def write(self) -> Iterator[None]:
        """Run a write ahead of the reads waiting for a turn, in every process the beacon
        reaches."""
        with self._changed:
            self._tickets += 1
            ticket = self._tickets
            self._writing[ticket] = time.monotonic()
        try:
            with self.beacon.writing() if self.beacon is not None else nullcontext():
                yield
        finally:
            with self._changed:
                del self._writing[ticket]
                self._changed.notify_all()
                self._wake_loops()

    def _take(self, timeout: float) -> int | None:
        """A ticket for a turn, once one is free and no write goes first; None after
        `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                now = time.monotonic()
                ticket, retry = self._admit(now)
                if ticket is not None:
                    return ticket
                if now >= deadline:
                    return None
                # Woken when a read or write ends, or when a lease runs out.
                self._changed.wait(min(deadline, retry) - now)

    def _admit(self, now: float) -> tuple[int | None, float]:
        """Under the lock: a ticket, when a turn is free and no write goes first; else None
        and when the next lease that holds reads back runs out."""
        holding, pausing = self._holding(now), self._pausing(now)
        lit = self._lit(now)
        if len(holding) < self.size and not pausing and lit is None:
            self._tickets += 1
            self._started[self._tickets] = now
            return self._tickets, now
        ends = [began + self.write_lease_s for began in pausing]
        if len(holding) >= self.size:
            ends += [began + self.lease_s for began in holding]
        if lit is not None:
            ends.append(min(lit + self.write_lease_s, now + BEACON_POLL_S))
        return None, min(ends)

    def _lit(self, now: float) -> float | None:
        """Under the lock: when a write seen by the beacon (in any process) was first seen, if
        its priority has not ended; else None. A write of this process is seen both ways, to
        the same effect."""
        if self.beacon is None or not self.beacon.lit():
            self._lit_since = None
            return None
        if self._lit_since is None:
            self._lit_since = now
        return self._lit_since if now - self._lit_since < self.write_lease_s else None


class _Passes:
    """Reads on one event loop start one a pass of the loop. A pass runs every callback that
    was ready when it began, then the loop reads its sockets: reads that all start in one pass
    (on SQLite 16 at about 1.4 ms each, under 32 connections) leave a request that has just
    arrived, a write above all, unread for as long (a publication waited 16-37 ms for its first
    byte to be read, longer than it then took). So a read that finds this pass's read taken
    queues, and the next pass wakes the first in the queue."""

    def __init__(self) -> None:
        # No reference to its loop: `Turns._passes` holds it by the loop, weakly.
        self.taken = False  # this pass's read has started, or is promised to a woken one
        self.queue: deque[asyncio.Future[None]] = deque()

    async def take(self, deadline: float) -> bool:
        """Wait for a pass of this loop to start a read in; False at `deadline`."""
        loop = asyncio.get_running_loop()
        if self.taken or self.queue:
            woken = loop.create_future()
            self.queue.append(woken)
            try:
                await asyncio.wait({woken}, timeout=max(0.0, deadline - time.monotonic()))
            except asyncio.CancelledError:
                self._give_up(woken)
                raise
            if not woken.done():
                self._give_up(woken)
                return False
        self.taken = True
        loop.call_soon(self._next_pass)
        return True

    def _give_up(self, woken: asyncio.Future[None]) -> None:
        if woken.done():  # its pass was promised to it: the next in the queue has it
            self._next_pass()
        else:
            self.queue.remove(woken)
            woken.cancel()

    def _next_pass(self) -> None:
        self.taken = False
        while self.queue:
            woken = self.queue.popleft()
            if not woken.done():
                woken.set_result(None)
                self.taken = True
                return


def _settle(woken: asyncio.Future[None]) -> None:
    if not woken.done():
        woken.set_result(None)
