"""change numbers without a locked counter row

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 00:40:00

The change feed took its numbers from one counter row, locked by each writer until commit, so
on PostgreSQL a long import blocked every publish. Now PostgreSQL takes them from a sequence and
each change carries a `horizon` (a transaction id) that tells readers when its number is safe to
pass (app/db.py, `insert_numbered`); SQLite, whose writers the write lock serialises, numbers
after the largest. Changes written before this revision have no horizon: they are settled.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def create_postgres_sequence() -> None:
    """Owned by the column, so TRUNCATE ... RESTART IDENTITY restarts it; no cache, so numbers
    are handed out in the order they are asked for, whichever session asks."""
    op.execute("CREATE SEQUENCE entry_change_seq AS bigint CACHE 1 OWNED BY entry_change.seq")
    op.execute(
        "SELECT setval('entry_change_seq', GREATEST("
        "(SELECT value FROM change_counter WHERE id = 1), "
        "(SELECT coalesce(max(seq), 0) FROM entry_change), 1), "
        "EXISTS (SELECT 1 FROM change_counter WHERE id = 1 AND value > 0))"
    )


def drop_postgres_sequence() -> None:
    op.execute("DROP SEQUENCE entry_change_seq")


def upgrade() -> None:
    with op.batch_alter_table("entry_change") as batch:
        batch.add_column(sa.Column("horizon", sa.BigInteger(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        create_postgres_sequence()
    op.drop_table("change_counter")


def downgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_counter")),
    )
    op.execute(
        "INSERT INTO change_counter (id, value) SELECT 1, coalesce(max(seq), 0) FROM entry_change"
    )
    if op.get_bind().dialect.name == "postgresql":
        drop_postgres_sequence()
    with op.batch_alter_table("entry_change") as batch:
        batch.drop_column("horizon")
