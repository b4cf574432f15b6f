"""PostgreSQL: the parts of an entry's aliases are searchable on their own, as its reference's

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 08:15:00

Migration 0021 put the reference's runs of letters and digits at the head of the vector (the
`simple` configuration), so `02892` finds `FOI2018/02892` as on SQLite. An alias is a reference
too (`NOR/26/040096`, the number another system gave the request), but it reached the vector
only through the text, where PostgreSQL's parser keeps a path whole: `040096` found the entry on
SQLite and not here. The aliases' runs now follow the reference's, read from the entry
document (a generated column sees only its own row; the document holds them), about 35 us an
entry beside the text's 270.

The column is dropped and added again, as in 0021: the table is rewritten and every vector
computed anew (some 5 minutes at 1,000,000 entries, under an exclusive lock), the GIN index
built again. SQLite's index already splits aliases so: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As migration 0021 left them (a migration keeps its own copy: later code may change).
TEXT = "to_tsvector('english'::regconfig, left(search_text, 250000))"
REFERENCE_PARTS = (
    "to_tsvector('simple'::regconfig, regexp_replace(reference, '[^[:alnum:]]+', ' ', 'g'))"
)
# An entry's row is first written with an empty document, then given its own.
ALIAS_PARTS = (
    "to_tsvector('simple'::regconfig, regexp_replace("
    "coalesce(nullif(document, '')::jsonb ->> 'aliases', ''), '[^[:alnum:]]+', ' ', 'g'))"
)


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
    _vector(f"{REFERENCE_PARTS} || {TEXT}")
