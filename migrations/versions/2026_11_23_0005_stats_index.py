"""an index covering the columns /v1/stats reads

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 17:10:00

Stats group the visible entries by force, outcome and month and take the median working days;
rows hold whole documents, so scanning them costs far more than scanning this index.
"""
from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = [
    "published_at",
    "withdrawn_at",
    "force_id",
    "outcome",
    "received_on",
    "responded_on",
    "responded_within_deadline",
    "working_days_to_respond",
]


def upgrade() -> None:
    op.create_index("ix_disclosure_entry_stats", "disclosure_entry", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_disclosure_entry_stats", table_name="disclosure_entry")
