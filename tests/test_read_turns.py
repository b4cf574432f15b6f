"""Public reads take turns (app.read_turns): at most `size` at once, each turn ending when its
read does or its lease runs out, whichever is first; a read that finds no turn in time is told
so."""

import threading
import time

from app.read_turns import Turns


def _hold(turns: Turns, seconds: float, started: threading.Event) -> threading.Thread:
    def read() -> None:
        with turns.turn(5) as turn:
            assert turn
            started.set()
            time.sleep(seconds)

    thread = threading.Thread(target=read)
    thread.start()
    assert started.wait(5)
    return thread


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
    holder = _hold(turns, 0.5, threading.Event())
    started = time.monotonic()
    with turns.turn(0.1) as turn:
        assert not turn
    assert 0.1 <= time.monotonic() - started < 0.4
    holder.join()
    with turns.turn(0.1) as turn:
        assert turn


def test_a_read_ending_gives_its_turn_to_the_next_at_once() -> None:
    turns = Turns(1, lease_s=60)
    holder = _hold(turns, 0.2, threading.Event())
    started = time.monotonic()
    with turns.turn(5) as turn:
        assert turn
    assert time.monotonic() - started < 0.5  # the holder's 0.2 s, not the 60 s lease
    holder.join()


def test_a_slow_read_gives_up_its_turn_when_its_lease_runs_out() -> None:
    turns = Turns(1, lease_s=0.1)
    holder = _hold(turns, 2.0, threading.Event())  # a statistics scan, say
    started = time.monotonic()
    with turns.turn(5) as turn:
        assert turn
    waited = time.monotonic() - started
    assert waited < 1.0, waited  # the lease, not the slow read's 2 s
    holder.join()


def test_a_read_told_no_turn_holds_up_no_one_while_it_answers() -> None:
    turns = Turns(1, lease_s=60)
    holder = _hold(turns, 1.0, threading.Event())
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
