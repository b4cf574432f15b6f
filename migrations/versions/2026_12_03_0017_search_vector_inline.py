"""PostgreSQL: an entry's search vector kept in its row

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 14:00:00

Ranked search reads the tsvector of up to 1,001 entries per request (ts_rank), and a search in
id or date order tests it on the entries it walks. At 2.7 kB on average, uncompressible, each
vector went to the TOAST table: every test or rank of an entry read it through the TOAST index,
and the test and the rank each read it again (EXPLAIN ANALYZE of a ranked window at 100,000
entries: 9,037 buffers, 12.9 ms). Kept in the row (storage MAIN; a vector too large for a page
still goes out of line), the same window read 583 buffers in 2.9 ms, and ranked search went from
44-48 to 31 ms a request (p50, in-process); pages that read no vector took as long as before.

Rows written before this keep their vectors where they are until rewritten: an update of the
entry, or at once `VACUUM FULL disclosure_entry` (an exclusive lock: 30 s at 100,000 entries).
SQLite has no such setting: nothing to do there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _storage(kind: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE disclosure_entry ALTER COLUMN search_vector SET STORAGE {kind}")


def upgrade() -> None:
    _storage("MAIN")


def downgrade() -> None:
    _storage("EXTENDED")
