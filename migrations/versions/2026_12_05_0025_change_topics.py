"""each change of the feed records the entry's topics once it was made

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-05 13:00:00

The feed serves an entry's current document only. A webhook filtered by topic was not sent an
update that took an entry off its topics, since the document no longer matched, and a mirror of
that topic kept the entry as it was. A change now records the entry's topics, so the dispatcher
knows what the entry's change before an update left them as. Changes recorded before get the
entry's topics as they stand now: true of each entry's latest change, which is the one a
later update looks back to.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def fill_sqlite() -> None:
    op.execute(
        "UPDATE entry_change SET topics = (SELECT json_group_array(topic_slug) FROM "
        "(SELECT topic_slug FROM entry_topic WHERE entry_topic.entry_id = entry_change.entry_id "
        "ORDER BY topic_slug))"
    )


def fill_postgres() -> None:
    op.execute(
        "UPDATE entry_change SET topics = coalesce((SELECT json_agg(topic_slug ORDER BY "
        "topic_slug) FROM entry_topic WHERE entry_topic.entry_id = entry_change.entry_id), "
        "'[]'::json)"
    )


def upgrade() -> None:
    with op.batch_alter_table("entry_change") as batch:
        batch.add_column(sa.Column("topics", sa.JSON(), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        fill_postgres()
    else:
        fill_sqlite()


def downgrade() -> None:
    with op.batch_alter_table("entry_change") as batch:
        batch.drop_column("topics")
