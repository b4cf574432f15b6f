"""webhook secrets sealed at rest, and the deliveries log pruned by age

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 04:30:00

`webhook.secret` grows to hold a Fernet token of the secret (longer than the secret itself)
when FOILOG_SECRET_KEY is set; secrets stored before stay as they are until the background
runner seals them. The deliveries log gets an index by attempt time, which pruning reads.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("webhook") as batch:
        batch.alter_column(
            "secret", existing_type=sa.String(length=100), type_=sa.Text(), existing_nullable=False
        )
    op.create_index(
        "ix_webhook_delivery_attempted_at", "webhook_delivery", ["attempted_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_webhook_delivery_attempted_at", table_name="webhook_delivery")
    with op.batch_alter_table("webhook") as batch:
        batch.alter_column(
            "secret", existing_type=sa.Text(), type_=sa.String(length=100), existing_nullable=False
        )
