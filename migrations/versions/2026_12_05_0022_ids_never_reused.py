"""ids of deleted attachments, round-robins and webhooks never given again, on SQLite

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 08:00:00

SQLite gives a new row the largest id plus one, so the id of a deleted last row went to the
next row: `/v1/attachments/214`, once removed, served another entry's file under the address a
mirror had kept; an emptied round-robin's id named an unrelated group; a webhook's message ids
(`msg_<webhook>_<seq>`) repeated a deleted subscription's. AUTOINCREMENT never hands an id out
twice; SQLite sets it only when a table is created, so the three tables are copied into new
ones (alembic's batch mode, foreign keys not enforced meanwhile: see migrations/env.py).
PostgreSQL's sequences never gave one out twice: nothing changes there.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("attachment", "round_robin", "webhook")


def _recreate(autoincrement: bool) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in TABLES:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": autoincrement}
        ):
            pass


def upgrade() -> None:
    _recreate(True)


def downgrade() -> None:
    _recreate(False)
