"""Public reads take turns (app.read_turns): at most `size` at once, each turn ending when its
read does or its lease runs out, whichever is first; a read that finds no turn in time is told
so."""

import asyncio
import errno
import fcntl
import gc
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from app.read_turns import Turns, WriteBeacon


def _occupy(
    enter: Callable[[], AbstractContextManager[bool | None]], seconds: float
) -> threading.Thread:
    """Run `seconds` inside `enter()` on a thread, once it has been entered."""
    started = threading.Event()

    def run() -> None:
        with enter() as got:
            assert got is not False  # a read's turn came
            started.set()
            time.sleep(seconds)

    thread = threading.Thread(target=run)
    thread.start()
    assert started.wait(5)
    return thread


def _hold(turns: Turns, seconds: float) -> threading.Thread:
    return _occupy(lambda: turns.turn(5), seconds)


def _write(turns: Turns, seconds: float) -> threading.Thread:
    return _occupy(turns.write, seconds)


def test_no_more_than_size_reads_run_at_once() -> None:
    turns = Turns(2, lease_s=60)
    running, most = 0, 0
    lock = threading.Lock()

    def read() -> None:
        nonlocal running, most
        with turns.turn(10) as turn:
            assert turn
            with lock:
                running += 1
                most = max(most, running)
            time.sleep(0.02)
            with lock:
                running -= 1

    threads = [threading.Thread(target=read) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 2


def test_a_read_that_finds_no_turn_in_time_is_told_so() -> None:
    turns = Turns(1, lease_s=60)
    holder = _hold(turns, 0.5)
    started = time.monotonic()
    with turns.turn(0.1) as turn:
        assert not turn
    assert 0.1 <= time.monotonic() - started < 0.4
    holder.join()
    with turns.turn(0.1) as turn:
        assert turn


def test_a_read_ending_gives_its_turn_to_the_next_at_once() -> None:
    turns = Turns(1, lease_s=60)
    holder = _hold(turns, 0.2)
    started = time.monotonic()
    with turns.turn(5) as turn:
        assert turn
    assert time.monotonic() - started < 0.5  # the holder's 0.2 s, not the 60 s lease
    holder.join()


def test_a_slow_read_gives_up_its_turn_when_its_lease_runs_out() -> None:
    turns = Turns(1, lease_s=0.1)
    holder = _hold(turns, 2.0)  # a statistics scan, say
    started = time.monotonic()
    with turns.turn(5) as turn:
        assert turn
    waited = time.monotonic() - started
    assert waited < 1.0, waited  # the lease, not the slow read's 2 s
    holder.join()


def test_a_read_told_no_turn_holds_up_no_one_while_it_answers() -> None:
    turns = Turns(1, lease_s=60)
    holder = _hold(turns, 1.0)
    other_done = threading.Event()

    def other() -> None:
        with turns.turn(0.05):
            other_done.set()

    with turns.turn(0.05) as turn:
        assert not turn
        # Still answering its 503: another read may look for a turn meanwhile.
        threading.Thread(target=other).start()
        assert other_done.wait(0.5)
    holder.join()


def test_a_write_waits_for_no_read() -> None:
    turns = Turns(1, lease_s=60)
    holder = _hold(turns, 1.0)
    started = time.monotonic()
    with turns.write():
        assert time.monotonic() - started < 0.2  # not the running read's 1 s
    holder.join()


def test_no_read_starts_its_turn_while_a_write_runs() -> None:
    turns = Turns(2, lease_s=60, write_lease_s=60)
    writer = _write(turns, 0.3)
    started = time.monotonic()
    with turns.turn(5) as turn:
        assert turn
        waited = time.monotonic() - started
    assert 0.25 <= waited < 1.0, waited  # a free turn, yet the write's 0.3 s first
    writer.join()


def test_a_long_write_lets_reads_start_when_its_lease_runs_out() -> None:
    turns = Turns(1, lease_s=60, write_lease_s=0.1)
    writer = _write(turns, 2.0)  # a large upload, say
    started = time.monotonic()
    with turns.turn(5) as turn:
        assert turn
    waited = time.monotonic() - started
    assert waited < 1.0, waited  # the write's lease, not its 2 s
    writer.join()


def _on_loop(turns: Turns, timeout: float) -> tuple[bool, float, int]:
    """A read on an event loop: whether its turn came, the seconds it waited, and how often
    another task on the same loop ran meanwhile (the loop was not stopped by the wait)."""

    async def read() -> tuple[bool, float, int]:
        ticks = 0
        waiting = True

        async def tick() -> None:
            nonlocal ticks
            while waiting:
                ticks += 1
                await asyncio.sleep(0.01)

        ticker = asyncio.create_task(tick())
        started = time.monotonic()
        async with turns.turn_on_loop(timeout) as turn:
            waited = time.monotonic() - started
        waiting = False
        await ticker
        return turn, waited, ticks

    return asyncio.run(read())


def test_a_read_on_the_loop_waits_for_a_write_without_stopping_the_loop() -> None:
    turns = Turns(1, lease_s=60, write_lease_s=60)
    writer = _write(turns, 0.3)
    turn, waited, ticks = _on_loop(turns, 5)
    assert turn
    assert 0.25 <= waited < 1.0, waited  # woken by the write's end, not its 60 s lease
    assert ticks >= 10  # the loop ran on while the read waited
    writer.join()


def test_a_read_on_the_loop_shares_the_turns_of_reads_in_threads() -> None:
    turns = Turns(1, lease_s=60)
    holder = _hold(turns, 0.3)
    turn, waited, _ = _on_loop(turns, 5)
    assert turn
    assert 0.25 <= waited < 1.0, waited  # the thread's read ended, and gave its turn at once
    holder.join()

    # And the other way: a thread waits while a read on a loop holds the turn.
    async def hold() -> None:
        async with turns.turn_on_loop(5) as turn:
            assert turn
            started = time.monotonic()
            waiter = threading.Thread(target=lambda: waits.append(_waited(turns)))
            waiter.start()
            await asyncio.sleep(0.3)
        await asyncio.to_thread(waiter.join)
        assert 0.25 <= waits[0] < 1.0, waits
        assert time.monotonic() - started >= 0.3

    waits: list[float] = []
    asyncio.run(hold())


def _waited(turns: Turns) -> float:
    started = time.monotonic()
    with turns.turn(5) as turn:
        assert turn
    return time.monotonic() - started


def test_a_read_on_the_loop_that_finds_no_turn_in_time_is_told_so() -> None:
    turns = Turns(1, lease_s=60)
    holder = _hold(turns, 0.6)
    turn, waited, _ = _on_loop(turns, 0.1)
    assert not turn
    assert 0.1 <= waited < 0.4, waited
    holder.join()
    assert _on_loop(turns, 0.1)[0]


def test_a_read_on_the_loop_starts_when_a_slow_reads_lease_runs_out() -> None:
    turns = Turns(1, lease_s=0.1)
    holder = _hold(turns, 2.0)
    turn, waited, _ = _on_loop(turns, 5)
    assert turn
    assert waited < 1.0, waited  # the lease, not the slow read's 2 s
    holder.join()


def test_reads_on_a_loop_start_one_a_pass_so_what_arrives_meanwhile_waits_for_one() -> None:
    turns = Turns(1, lease_s=60)
    done: list[str] = []

    async def read(name: str) -> None:
        async with turns.turn_on_loop(5) as turn:
            assert turn
            time.sleep(0.005)  # a read's work, on the loop
            done.append(name)

    async def arrives() -> None:
        done.append("arrived")  # a request read from a socket, a write say

    async def main() -> None:
        reads = [asyncio.create_task(read(f"read {n}")) for n in range(10)]
        other = asyncio.create_task(arrives())  # ready in the same pass as the reads
        await asyncio.gather(*reads, other)

    asyncio.run(main())
    assert done.index("arrived") <= 1, done  # not after all ten reads
    assert sorted(done) == sorted(["arrived", *(f"read {n}" for n in range(10))])
    assert [name for name in done if name != "arrived"] == [f"read {n}" for n in range(10)]


def test_a_read_leaving_the_queue_of_a_loops_passes_holds_up_no_other() -> None:
    turns = Turns(1, lease_s=60)
    done: list[str] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        tasks: dict[str, asyncio.Task[None]] = {}

        async def read(name: str, *, then_cancel: str | None = None) -> None:
            async with turns.turn_on_loop(5):
                if then_cancel is not None:
                    # Runs in the next pass, once that pass has promised itself to the next
                    # in the queue: the promised read is cancelled before it runs.
                    loop.call_soon(tasks[then_cancel].cancel)
                done.append(name)

        tasks["first"] = asyncio.create_task(read("first", then_cancel="second"))
        for name in ("second", "third", "fourth"):
            tasks[name] = asyncio.create_task(read(name))
        await asyncio.sleep(0)
        tasks["third"].cancel()  # waiting in the queue
        await asyncio.wait(tasks.values(), timeout=5)
        assert tasks["second"].cancelled()
        assert tasks["third"].cancelled()

    asyncio.run(main())
    assert done == ["first", "fourth"]


def test_a_loop_that_has_ended_is_not_kept_by_the_turns() -> None:
    turns = Turns(1)

    async def read() -> None:
        async with turns.turn_on_loop(5) as turn:
            assert turn

    loop = asyncio.new_event_loop()
    loop.run_until_complete(read())
    loop.close()
    ended = weakref.ref(loop)
    del loop
    gc.collect()
    assert ended() is None


# A write in another process serving the same database (app.read_turns.WriteBeacon).

needs_ofd_locks = pytest.mark.skipif(
    not hasattr(fcntl, "F_OFD_GETLK"), reason="open file description locks are Linux's"
)
_HOLD_BEACON = """
import sys
from pathlib import Path
from app.read_turns import WriteBeacon
with WriteBeacon(Path(sys.argv[1])).writing():
    print("held", flush=True)
    sys.stdin.read()
"""


@contextmanager
def _writing_elsewhere(path: Path) -> Iterator[Callable[[], None]]:
    """Another process writing (holding the beacon at `path`) until the yielded callable ends
    its write, or the block ends."""
    with subprocess.Popen(
        [sys.executable, "-c", _HOLD_BEACON, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parent.parent,
    ) as child:  # waits for the child, its pipes closed
        assert child.stdin is not None
        assert child.stdout is not None
        assert child.stdout.readline() == "held\n"
        yield child.stdin.close


def _end_after(seconds: float, end: Callable[[], None]) -> threading.Timer:
    timer = threading.Timer(seconds, end)
    timer.start()
    return timer


@needs_ofd_locks
def test_the_beacon_shows_a_write_in_another_process_while_it_runs(tmp_path: Path) -> None:
    beacon = WriteBeacon(tmp_path / "beacon")
    assert not beacon.lit()
    with _writing_elsewhere(beacon.path) as end:
        assert beacon.lit()
        end()
        deadline = time.monotonic() + 10
        while beacon.lit() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not beacon.lit()


@needs_ofd_locks
def test_a_write_of_this_process_lights_the_beacon_until_it_ends(tmp_path: Path) -> None:
    beacon = WriteBeacon(tmp_path / "beacon")
    turns = Turns(1, beacon=beacon)
    with turns.write():
        assert beacon.lit()
        with turns.write():  # two at once: the first to end leaves the other's lit
            pass
        assert beacon.lit()
    assert not beacon.lit()


@needs_ofd_locks
def test_a_write_in_another_process_holds_reads_back_until_it_ends(tmp_path: Path) -> None:
    turns = Turns(1, lease_s=60, write_lease_s=60, beacon=WriteBeacon(tmp_path / "beacon"))
    with _writing_elsewhere(turns.beacon.path) as end:  # type: ignore[union-attr]
        timer = _end_after(0.3, end)
        started = time.monotonic()
        with turns.turn(10) as turn:
            assert turn
        waited = time.monotonic() - started
        timer.join()
    assert 0.25 <= waited < 3, waited  # the other process's write, not the 60 s lease


@needs_ofd_locks
def test_a_long_write_in_another_process_holds_reads_back_for_its_lease_only(
    tmp_path: Path,
) -> None:
    turns = Turns(1, lease_s=60, write_lease_s=0.1, beacon=WriteBeacon(tmp_path / "beacon"))
    with _writing_elsewhere(turns.beacon.path):  # type: ignore[union-attr]
        started = time.monotonic()
        with turns.turn(10) as turn:
            assert turn
        waited = time.monotonic() - started
    assert 0.09 <= waited < 1.5, waited  # the lease, while the write goes on


@needs_ofd_locks
def test_a_read_on_the_loop_waits_for_a_write_in_another_process(tmp_path: Path) -> None:
    turns = Turns(1, lease_s=60, write_lease_s=60, beacon=WriteBeacon(tmp_path / "beacon"))
    with _writing_elsewhere(turns.beacon.path) as end:  # type: ignore[union-attr]
        timer = _end_after(0.3, end)
        turn, waited, ticks = _on_loop(turns, 10)
        timer.join()
    assert turn
    assert 0.25 <= waited < 3, waited
    assert ticks >= 10  # the loop ran on while the read waited


@needs_ofd_locks
def test_a_write_goes_on_when_the_beacon_cannot_be_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    beacon = WriteBeacon(tmp_path / "beacon")
    turns = Turns(1, beacon=beacon)
    real = fcntl.fcntl

    def refuse(fd: int, command: int, arg: bytes) -> bytes:
        if command == fcntl.F_OFD_SETLK:
            raise OSError(errno.ENOLCK, "no locks left")
        return real(fd, command, arg)

    monkeypatch.setattr(fcntl, "fcntl", refuse)
    ran = False
    with turns.write():
        ran = True
        assert not beacon.lit()
    assert ran


def test_no_beacon_where_the_system_refuses_its_locks(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(fd: int, command: int, arg: bytes) -> bytes:
        raise OSError(errno.EINVAL, "no open file description locks")

    monkeypatch.setattr(fcntl, "fcntl", refuse)
    monkeypatch.setattr(fcntl, "F_OFD_GETLK", 36, raising=False)
    assert WriteBeacon.for_database("sqlite:///refused.db") is None
