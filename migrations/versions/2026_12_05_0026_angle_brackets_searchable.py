"""PostgreSQL: words between angle brackets are searchable, as on SQLite

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 13:30:00

PostgreSQL's parser reads `<...>` as a markup tag and leaves it out of the vector: "Dear <name
redacted>", "40<2>" and "x<y and z>w" lost "name", "redacted", "2", "y", "and" and "z", which
SQLite's index keeps. The text now reaches the parser with its angle brackets as spaces. The
column is dropped and added again, as in 0023 (some 5 minutes at 1,000,000 entries, under an
exclusive lock), the GIN index built again.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As migration 0023 left them (a migration keeps its own copy: later code may change).
REFERENCE_PARTS = (
    "to_tsvector('simple'::regconfig, regexp_replace(reference, '[^[:alnum:]]+', ' ', 'g'))"
)
ALIAS_PARTS = (
    "to_tsvector('simple'::regconfig, regexp_replace("
    "coalesce(nullif(document, '')::jsonb ->> 'aliases', ''), '[^[:alnum:]]+', ' ', 'g'))"
)
TAGGED_TEXT = "to_tsvector('english'::regconfig, left(search_text, 250000))"
TEXT = "to_tsvector('english'::regconfig, translate(left(search_text, 250000), '<>', '  '))"


def _vector(expression: str) -> None:
    """The generated column again, with `expression`: the table rewritten, the index rebuilt."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS search_entry_vector")
    op.execute("ALTER TABLE disclosure_entry DROP COLUMN search_vector")
    op.execute(
        "ALTER TABLE disclosure_entry ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({expression}) STORED, "
        "ALTER COLUMN search_vector SET STORAGE MAIN"
    )
    op.execute("CREATE INDEX search_entry_vector ON disclosure_entry USING gin (search_vector)")


def upgrade() -> None:
    _vector(f"{REFERENCE_PARTS} || {ALIAS_PARTS} || {TEXT}")


def downgrade() -> None:
    _vector(f"{REFERENCE_PARTS} || {ALIAS_PARTS} || {TAGGED_TEXT}")
