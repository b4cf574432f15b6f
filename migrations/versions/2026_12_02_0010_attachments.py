"""attachments: the documents a response released, and their bytes

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 00:50:00

The bytes are rows of attachment_chunk (1 MiB each), in the same database and transaction as
the entry: a failed upload or a rolled-back write leaves nothing, a backup or a mirror copies
one thing, and the embedded default needs no other store. Chunks let a download stream a piece
at a time on both databases.
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def store_chunks_uncompressed_postgres() -> None:
    """Attachments are mostly compressed already (PDF streams, zip-based documents, images):
    PostgreSQL's TOAST compression of each chunk would spend CPU on every write for nothing."""
    op.execute("ALTER TABLE attachment_chunk ALTER COLUMN data SET STORAGE EXTERNAL")


def upgrade() -> None:
    op.create_table(
        "attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("media_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", app.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["foi_response.id"],
            name=op.f("fk_attachment_response_id_foi_response"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attachment")),
    )
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_attachment_response_id"), ["response_id"], unique=False
        )
    op.create_table(
        "attachment_chunk",
        sa.Column("attachment_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachment.id"],
            name=op.f("fk_attachment_chunk_attachment_id_attachment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attachment_id", "seq", name=op.f("pk_attachment_chunk")),
    )
    if op.get_bind().dialect.name != "sqlite":  # SQLite stores blobs as given
        store_chunks_uncompressed_postgres()
    # Stored documents list their attachments last; those stored before have none yet.
    op.execute(
        "UPDATE disclosure_entry SET document = "
        "substr(document, 1, length(document) - 1) || ',\"attachments\":[]}' "
        "WHERE document LIKE '{%}' AND document NOT LIKE '%\"attachments\":%'"
    )


def downgrade() -> None:
    op.drop_table("attachment_chunk")
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attachment_response_id"))
    op.drop_table("attachment")
