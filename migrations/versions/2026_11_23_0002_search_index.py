"""full-text search index and filter indexes of the public log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 16:00:00

The search index is kept in step by the database itself (SQLite triggers into an FTS5 table,
a generated tsvector column on PostgreSQL), so no write path can forget it. Every search object
is named `search_...`, which migrations/env.py leaves out of `alembic check`.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# PostgreSQL refuses a tsvector whose lexemes pass 1 MB; 250,000 characters of at most 4 bytes
# stay below it whatever the text, and no real FOI document comes near.
PG_INDEXED_CHARS = 250_000

# (name, table, columns) of the B-tree indexes the log's filters and sorts need.
FILTER_INDEXES = [
    ("ix_disclosure_entry_outcome_published", "disclosure_entry", ["outcome", "published_at", "id"]),
    ("ix_disclosure_entry_force_received", "disclosure_entry", ["force_id", "received_on", "id"]),
    ("ix_entry_topic_topic_entry", "entry_topic", ["topic_slug", "entry_id"]),
    ("ix_entry_exemption_exemption_entry", "entry_exemption", ["exemption_id", "entry_id"]),
    ("ix_entry_reference_key_entry", "entry_reference", ["reference_key", "entry_id"]),
]
# Single-column indexes the composite ones above make redundant.
REPLACED_INDEXES = [
    ("ix_disclosure_entry_outcome", "disclosure_entry", ["outcome"]),
    ("ix_entry_topic_topic_slug", "entry_topic", ["topic_slug"]),
    ("ix_entry_exemption_exemption_id", "entry_exemption", ["exemption_id"]),
]


def create_sqlite_search() -> None:
    """An external-content FTS5 table over disclosure_entry.search_text, kept by triggers."""
    op.execute(
        "CREATE VIRTUAL TABLE search_entry USING fts5(search_text, content='disclosure_entry', "
        "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER search_entry_insert AFTER INSERT ON disclosure_entry BEGIN "
        "INSERT INTO search_entry(rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER search_entry_delete AFTER DELETE ON disclosure_entry BEGIN "
        "INSERT INTO search_entry(search_entry, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); END"
    )
    op.execute(
        "CREATE TRIGGER search_entry_update AFTER UPDATE OF search_text ON disclosure_entry BEGIN "
        "INSERT INTO search_entry(search_entry, rowid, search_text) "
        "VALUES ('delete', old.id, old.search_text); "
        "INSERT INTO search_entry(rowid, search_text) VALUES (new.id, new.search_text); END"
    )
    op.execute("INSERT INTO search_entry(search_entry) VALUES ('rebuild')")


def drop_sqlite_search() -> None:
    for trigger in ("search_entry_insert", "search_entry_delete", "search_entry_update"):
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS search_entry")


def create_postgres_search() -> None:
    """A generated tsvector column (english configuration) with a GIN index."""
    op.execute(
        "ALTER TABLE disclosure_entry ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
        f"(to_tsvector('english'::regconfig, left(search_text, {PG_INDEXED_CHARS}))) STORED"
    )
    op.execute("CREATE INDEX search_entry_vector ON disclosure_entry USING gin (search_vector)")


def drop_postgres_search() -> None:
    op.execute("DROP INDEX IF EXISTS search_entry_vector")
    op.execute("ALTER TABLE disclosure_entry DROP COLUMN IF EXISTS search_vector")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        create_sqlite_search()
    else:
        create_postgres_search()
    for name, table, columns in FILTER_INDEXES:
        op.create_index(name, table, columns)
    for name, table, _ in REPLACED_INDEXES:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, columns in REPLACED_INDEXES:
        op.create_index(name, table, columns)
    for name, table, _ in FILTER_INDEXES:
        op.drop_index(name, table_name=table)
    if op.get_bind().dialect.name == "sqlite":
        drop_sqlite_search()
    else:
        drop_postgres_search()
