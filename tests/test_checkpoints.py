"""A serving process copies SQLite's write-ahead log into the database file on a thread of its
own (app.checkpoints), so no commit has to."""

import time
from pathlib import Path

from sqlalchemy import create_engine

from app.checkpoints import checkpointing


def test_the_log_reaches_the_database_file_with_no_commit_copying_it(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    engine = create_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")  # commits copy nothing
        connection.exec_driver_sql("CREATE TABLE letter (body BLOB)")
        connection.exec_driver_sql("INSERT INTO letter VALUES (zeroblob(1000000))")
        connection.commit()
        assert path.stat().st_size < 100_000  # the megabyte is in the log only
        with checkpointing(engine):
            deadline = time.monotonic() + 5
            while path.stat().st_size < 1_000_000:
                assert time.monotonic() < deadline, "nothing copied in 5 s"
                time.sleep(0.05)
        assert connection.exec_driver_sql("SELECT length(body) FROM letter").scalar() == 1_000_000
    engine.dispose()


def test_a_database_file_that_is_not_there_is_not_made(tmp_path: Path) -> None:
    path = tmp_path / "gone.db"
    with checkpointing(create_engine(f"sqlite:///{path}")):
        time.sleep(0.5)
    assert not path.exists()
