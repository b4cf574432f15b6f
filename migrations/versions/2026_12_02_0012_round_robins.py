"""round-robin requests: groups, each entry's LSH band keys, and the band index

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:40:00

round_robin_band's primary key leads with the band key, so finding the entries that share a
band with a new one is an index lookup on both databases. Entries published before this
revision have no signature and are grouped with nothing until their text is next written
(README, "Round-robin requests").
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UtcDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "round_robin",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_round_robin")),
    )
    op.create_index("ix_round_robin_size", "round_robin", ["size", "id"])
    op.create_table(
        "round_robin_entry",
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("round_robin_id", sa.Integer(), nullable=True),
        sa.Column("signature", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["disclosure_entry.id"],
            name=op.f("fk_round_robin_entry_entry_id_disclosure_entry"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["round_robin_id"],
            ["round_robin.id"],
            name=op.f("fk_round_robin_entry_round_robin_id_round_robin"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_round_robin_entry")),
    )
    op.create_index(
        "ix_round_robin_entry_group", "round_robin_entry", ["round_robin_id", "entry_id"]
    )
    op.create_table(
        "round_robin_band",
        sa.Column("band", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["disclosure_entry.id"],
            name=op.f("fk_round_robin_band_entry_id_disclosure_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("band", "entry_id", name=op.f("pk_round_robin_band")),
    )


def downgrade() -> None:
    op.drop_table("round_robin_band")
    op.drop_index("ix_round_robin_entry_group", table_name="round_robin_entry")
    op.drop_table("round_robin_entry")
    op.drop_index("ix_round_robin_size", table_name="round_robin")
    op.drop_table("round_robin")
