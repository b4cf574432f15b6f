"""forces name the holiday calendar their deadlines use

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 00:45:00

A FOIA working day skips a bank holiday in any part of the United Kingdom (s10(6)), and the
deadlines have always counted so; the forces said `england-and-wales` (or `northern-ireland`),
a calendar nothing uses. FOISA forces keep `scotland` (s73).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

force = sa.table("force", sa.column("law"), sa.column("country"), sa.column("holiday_calendar"))


def upgrade() -> None:
    op.execute(
        force.update().where(force.c.law == "FOIA").values(holiday_calendar="united-kingdom")
    )


def downgrade() -> None:
    op.execute(
        force.update()
        .where(force.c.law == "FOIA")
        .values(
            holiday_calendar=sa.case(
                (force.c.country == "northern-ireland", "northern-ireland"),
                else_="england-and-wales",
            )
        )
    )
