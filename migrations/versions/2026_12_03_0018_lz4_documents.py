"""PostgreSQL: entry documents and indexed texts compressed with LZ4

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 17:00:00

Every page of the log reads its entries' documents (4.2 kB on average, stored compressed, out
of line), and a search page their indexed texts for highlights. With PostgreSQL's default
compression (pglz) most of that read was decompression: 32 documents by id took 0.60-0.78 ms
with their pages in memory, 0.15 ms for the ids alone; compressed with LZ4 the same read took
0.39 ms (0.59 against 0.82-1.10 ms with the pages in the OS cache; 100,000 entries).

Values written before this stay as they were until rewritten (`VACUUM FULL` copies them as they
are): an entry's next update, or at once, for every entry:
`UPDATE disclosure_entry SET document = document || '', search_text = search_text || ''`
(25 s per 100,000 entries for the documents alone; the texts' search vectors are computed again),
then `VACUUM FULL disclosure_entry`. A server built without LZ4 keeps pglz: nothing changes.
SQLite compresses nothing: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("document", "search_text")


def _compression(method: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    offered = bind.execute(
        text(
            "SELECT :method = ANY(enumvals) FROM pg_settings"
            " WHERE name = 'default_toast_compression'"
        ),
        {"method": method},
    ).scalar_one()
    if offered:
        changes = ", ".join(f"ALTER COLUMN {c} SET COMPRESSION {method}" for c in COLUMNS)
        op.execute(f"ALTER TABLE disclosure_entry {changes}")


def upgrade() -> None:
    _compression("lz4")


def downgrade() -> None:
    _compression("pglz")
