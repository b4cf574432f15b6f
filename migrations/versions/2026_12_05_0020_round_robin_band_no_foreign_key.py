"""the band keys without a foreign key to the entries

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 03:40:00

round_robin_band is an index the application derives from each entry's signature and can
build again (`foilog round-robins backfill`), as the search index is. Entries are never
deleted (a withdrawal takes its entry's band keys away itself), so the key's ON DELETE CASCADE
never ran, while PostgreSQL checked the key for every band key written, sixteen an entry
linked: 6 s of an import of 20,000 entries that took 48 (pg_stat_statements; 43.8 s without
it). Candidates are read through round_robin_entry, which keeps its key, so a band key left
naming an entry that is not there would never be anyone's candidate.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "fk_round_robin_band_entry_id_disclosure_entry"


def upgrade() -> None:
    with op.batch_alter_table("round_robin_band") as batch:
        batch.drop_constraint(NAME, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("round_robin_band") as batch:
        batch.create_foreign_key(
            NAME, "disclosure_entry", ["entry_id"], ["id"], ondelete="CASCADE"
        )
