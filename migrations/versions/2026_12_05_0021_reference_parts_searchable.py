"""PostgreSQL: the parts of an entry's reference are searchable on their own

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 06:00:00

PostgreSQL's parser keeps `FOI2018/02892` whole (a file path) and reads `FOI-2026-40091` as a
word and two signed numbers (`-2026`, `-40091`), so a search for `02892` or `40091` found
nothing there, where SQLite's tokenizer indexes each run of letters and digits and finds the
entry. The vector now begins with the reference's runs of letters and digits, as words of the
`simple` configuration (no stemming, no stop words), before the text's english vector: the
reference's parts stand next to each other, so `"FOI 2018 02892"` is a phrase of them, and the
text's positions are moved up by the reference's few.

The column is generated, so it is dropped and added again: the table is rewritten and every
vector computed anew (about 270 us an entry: some 5 minutes at 1,000,000 entries, with an
exclusive lock), the GIN index built again. The vector is kept in the row (storage MAIN, as
migration 0017 set it), set in the same statement as the column is added, before the rewrite.
SQLite's index already splits references so: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As migration 0002 set it.
INDEXED_CHARS = 250_000
TEXT = f"to_tsvector('english'::regconfig, left(search_text, {INDEXED_CHARS}))"
REFERENCE_PARTS = (
    "to_tsvector('simple'::regconfig, regexp_replace(reference, '[^[:alnum:]]+', ' ', 'g'))"
)


def _vector(expression: str) -> None:
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
    _vector(f"{REFERENCE_PARTS} || {TEXT}")


def downgrade() -> None:
    _vector(TEXT)
