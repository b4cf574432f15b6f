"""The peer's database: the benchmark corpus flattened into one SQLite table for Datasette.

`entries` holds one row per entry document (id is the line number, as foilog numbers an import),
with the columns a reader filters and sorts on and the texts full text covers; `entries_fts` is
an external-content FTS5 table over it (`content=[entries]`, Datasette's convention, so its
`_search=` works), with the porter stemmer over unicode61 as foilog's FTS5 index. Indexes cover
the peer's side of each benchmark query: newest first, newest of a force, a force's reference.
Plain stdlib sqlite3: the file is built once per size and reused, since it is deterministic.

Run as `python -m bench.datasette_load CORPUS.ndjson OUT.db`.
"""

import argparse
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

COLUMNS = (
    "id",
    "force",
    "reference",
    "aliases",
    "title",
    "topics",
    "received_on",
    "published_at",
    "outcome",
    "exemptions",
    "request_text",
    "response_text",
)
SEARCHED = ("reference", "title", "topics", "request_text", "response_text")

SCHEMA = f"""
CREATE TABLE entries (
    id INTEGER PRIMARY KEY,
    force TEXT NOT NULL,
    reference TEXT NOT NULL,
    aliases TEXT NOT NULL,
    title TEXT NOT NULL,
    topics TEXT NOT NULL,
    received_on TEXT NOT NULL,
    published_at TEXT NOT NULL,
    outcome TEXT,
    exemptions TEXT NOT NULL,
    request_text TEXT NOT NULL,
    response_text TEXT NOT NULL
);
CREATE VIRTUAL TABLE entries_fts USING fts5(
    {", ".join(SEARCHED)}, content=[entries], content_rowid=id,
    tokenize='porter unicode61'
);
"""
INDEXES = (
    "CREATE INDEX entries_published_at ON entries (published_at)",
    "CREATE INDEX entries_force_published_at ON entries (force, published_at)",
    "CREATE INDEX entries_force_reference ON entries (force, reference)",
)


def flatten(entry_id: int, document: dict[str, Any]) -> tuple[Any, ...]:
    """One entry document as a row of `entries`: the request with its questions, every response
    with its answers, as foilog's full text covers them."""
    request = document["request"]
    request_text = "\n".join(
        [request["text"], *(f"{q['number']}. {q['text']}" for q in request["questions"])]
    )
    responses = document["responses"]
    response_text = "\n\n".join(
        "\n".join([r["text"], *(a["text"] for a in r["answers"])]) for r in responses
    )
    exemptions = sorted({c["exemption"] for r in responses for c in r["citations"]})
    return (
        entry_id,
        document["force"],
        document["reference"],
        json.dumps(document["aliases"]),
        document["title"],
        json.dumps(document["topics"]),
        document["received_on"],
        document["published_at"],
        responses[-1]["outcome"] if responses else None,
        json.dumps(exemptions),
        request_text,
        response_text,
    )


def _rows(corpus: Path) -> Iterator[tuple[Any, ...]]:
    with corpus.open("rb") as lines:
        for number, line in enumerate(lines, 1):
            yield flatten(number, json.loads(line))


def build(corpus: Path, out: Path) -> int:
    """Build the database at `out` (through a temporary file); returns the rows loaded."""
    partial = out.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(partial, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.executescript(SCHEMA)
        connection.execute("BEGIN")
        placeholders = ", ".join("?" for _ in COLUMNS)
        connection.executemany(f"INSERT INTO entries VALUES ({placeholders})", _rows(corpus))
        connection.execute("INSERT INTO entries_fts (entries_fts) VALUES ('rebuild')")
        connection.execute("INSERT INTO entries_fts (entries_fts) VALUES ('optimize')")
        for index in INDEXES:
            connection.execute(index)
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        (count,) = connection.execute("SELECT count(*) FROM entries").fetchone()
    finally:
        connection.close()
    os.replace(partial, out)
    return int(count)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("corpus", type=Path, help="NDJSON entry documents")
    parser.add_argument("out", type=Path, help="SQLite database to write")
    args = parser.parse_args()
    print(f"{build(args.corpus, args.out)} entries -> {args.out}")


if __name__ == "__main__":
    main()
