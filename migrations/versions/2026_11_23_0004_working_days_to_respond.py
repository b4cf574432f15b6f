"""working days each entry took to answer, for the stats' median

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-23 16:30:00

The count needs the bank-holiday calendar, which SQL does not have: the application stores it
when it builds an entry, and this revision fills it in for the entries that already exist.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.deadlines import working_days_between

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

entry = sa.table(
    "disclosure_entry",
    sa.column("id", sa.Integer),
    sa.column("law", sa.String),
    sa.column("received_on", sa.Date),
    sa.column("responded_on", sa.Date),
    sa.column("working_days_to_respond", sa.Integer),
)


def backfill() -> None:
    connection = op.get_bind()
    last = 0
    while True:
        rows = connection.execute(
            sa.select(entry.c.id, entry.c.law, entry.c.received_on, entry.c.responded_on)
            .where(entry.c.id > last, entry.c.responded_on.is_not(None))
            .order_by(entry.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            entry.update().where(entry.c.id == sa.bindparam("entry_id")),
            [
                {
                    "entry_id": row.id,
                    "working_days_to_respond": working_days_between(
                        row.received_on, row.responded_on, row.law
                    ),
                }
                for row in rows
            ],
        )
        last = rows[-1].id


def upgrade() -> None:
    op.add_column("disclosure_entry", sa.Column("working_days_to_respond", sa.Integer()))
    backfill()


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): rebuilding the table would lose the search triggers.
    op.drop_column("disclosure_entry", "working_days_to_respond")
