"""SQLite's write-ahead log copied into the database file beside the writes, not inside them.

In WAL mode a commit appends pages to the log, and the commit that takes the log past 1,000
pages copies it into the database and syncs the file (a checkpoint) before it returns: every
tenth one-entry publication took 15-25 ms longer for it (at 100,000 entries, against 10 ms
for the rest). A serving process therefore checkpoints on a thread of its own every
`INTERVAL_S`, on a connection of its own, in SQLite's PASSIVE mode, which waits for no reader
and no writer; the log rarely reaches the commits' threshold, which stays as the fallback (a
bulk import, a stalled thread). The thread waits in SQLite, outside the interpreter's lock."""

import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine

log = logging.getLogger("foilog.checkpoints")

INTERVAL_S = 0.25


@contextmanager
def checkpointing(engine: Engine) -> Iterator[None]:
    """Checkpoint `engine`'s database in the background while the block runs, if it is a
    SQLite file."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    stop = threading.Event()
    uri = f"{Path(database).resolve().as_uri()}?mode=rw"  # never creates a file
    thread = threading.Thread(
        target=_checkpoint_until, args=(uri, stop), name="foilog-checkpoints", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _checkpoint_until(uri: str, stop: threading.Event) -> None:
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error:
        log.warning("no connection to checkpoint the database with", exc_info=True)
        return
    try:
        while not stop.wait(INTERVAL_S):
            try:
                connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error:
                log.warning("a checkpoint failed; the commits' own go on", exc_info=True)
    finally:
        connection.close()
