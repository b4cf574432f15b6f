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

A read run on the event loop itself (`turn_on_loop`) takes its turn among the same tickets and
waits for one without stopping the loop: the threads that end a read or a write wake it. Such
reads also start one a pass of the loop (`_Passes`), so that the loop reads its sockets between
two of them."""

import asyncio
import threading
import time
import weakref
from collections import deque
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

# Longer than a page takes under load (10-200 ms), short enough that reads queued behind a
# slow one wait little.
LEASE_S = 0.25
# Longer than a publish takes alone (15-45 ms), short enough that reads paused for a long
# write wait little.
WRITE_LEASE_S = 0.1


class Turns:
    def __init__(
        self, size: int, *, lease_s: float = LEASE_S, write_lease_s: float = WRITE_LEASE_S
    ) -> None:
        self.size = size
        self.lease_s = lease_s
        self.write_lease_s = write_lease_s
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
        """Run a write ahead of the reads waiting for a turn."""
        with self._changed:
            self._tickets += 1
            ticket = self._tickets
            self._writing[ticket] = time.monotonic()
        try:
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
        if len(holding) < self.size and not pausing:
            self._tickets += 1
            self._started[self._tickets] = now
            return self._tickets, now
        ends = [began + self.write_lease_s for began in pausing]
        if len(holding) >= self.size:
            ends += [began + self.lease_s for began in holding]
        return None, min(ends)


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
