"""round-robin band keys found by entry

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 04:40:00

Withdrawing an entry deletes its band keys, and the backfill looks for entries with none:
both by entry id, which the band table's primary key (band key first) cannot answer without
reading the whole table (16 rows an entry).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_round_robin_band_entry", "round_robin_band", ["entry_id"])


def downgrade() -> None:
    op.drop_index("ix_round_robin_band_entry", table_name="round_robin_band")
