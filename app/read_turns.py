"""Public reads take turns; writes do not.

A public read is mostly Python, and a process runs one thread of Python at a time: sixteen reads
computed at once share the interpreter evenly, and a publish among them gets a seventeenth of
it (a 20 ms publish took seconds). So a process lets only a few reads run at once, and the rest
wait their turn, where they cost nothing. A read's turn lasts at most `LEASE_S`: one that takes
longer (a statistics scan, a slow disk) runs on beside the others and lets the next read start,
so a slow read never holds the queue up."""

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# Longer than a page takes under load (10-200 ms), short enough that reads queued behind a
# slow one wait little.
LEASE_S = 0.25


class Turns:
    def __init__(self, size: int, *, lease_s: float = LEASE_S) -> None:
        self.size = size
        self.lease_s = lease_s
        self._started: dict[int, float] = {}  # running reads: a ticket -> when its turn began
        self._tickets = 0
        self._changed = threading.Condition()

    def _holding(self, now: float) -> list[float]:
        """When the running reads whose turn has not ended began."""
        return [began for began in self._started.values() if now - began < self.lease_s]

    @contextmanager
    def turn(self, timeout: float) -> Iterator[bool]:
        """Wait up to `timeout` seconds for a turn; yields whether one came (outside the lock,
        so a caller answering that none came holds up no one)."""
        ticket = self._take(timeout)
        if ticket is None:
            yield False
            return
        try:
            yield True
        finally:
            with self._changed:
                del self._started[ticket]
                self._changed.notify()

    def _take(self, timeout: float) -> int | None:
        """A ticket for a turn, once one is free; None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                now = time.monotonic()
                holding = self._holding(now)
                if len(holding) < self.size:
                    break
                if now >= deadline:
                    return None
                # Woken when a read ends, or when the oldest turn's lease runs out.
                self._changed.wait(min(deadline, min(holding) + self.lease_s) - now)
            self._tickets += 1
            self._started[self._tickets] = now
            return self._tickets
