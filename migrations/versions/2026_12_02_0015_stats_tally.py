"""stats counted on write: the tally /v1/stats sums, and what each entry added to it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 05:00:00

Filled here by counting every entry (app/tally/service.py `rebuild`): about a minute per
million entries.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlmodel import Session

from app.tally import service as tally

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "stats_tally",
        sa.Column("scope", sa.String(length=90), nullable=False),
        sa.Column("force_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("law", sa.String(length=8), nullable=False),
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("facet", sa.String(length=90), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("responded", sa.Integer(), nullable=False),
        sa.Column("within_deadline", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope", "force_id", "outcome", "law", "year", "facet", name=op.f("pk_stats_tally")
        ),
    )
    op.create_table(
        "stats_counted",
        sa.Column("entry_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("counted", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_stats_counted")),
    )
    tally.rebuild(Session(bind=op.get_bind()))


def downgrade() -> None:
    op.drop_table("stats_counted")
    op.drop_table("stats_tally")
