"""schema and reference data

Revision ID: 0001
Revises:
Create Date: 2026-11-23 15:44:16.412813
"""
from collections.abc import Sequence

import json
from importlib.resources import files

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.db

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('api_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('forces', sa.JSON(), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('key_prefix', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', app.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', app.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', app.db.UtcDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_key')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_key_key_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_api_key_name'))
    )
    op.create_table('change_counter',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_change_counter'))
    )
    op.create_table('exemption',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('law', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('section', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('heading', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('test', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('ncnd_subsection', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exemption'))
    )
    with op.batch_alter_table('exemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exemption_law'), ['law'], unique=False)

    op.create_table('force',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('law', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('holiday_calendar', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_force'))
    )
    op.create_table('topic',
    sa.Column('slug', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.PrimaryKeyConstraint('slug', name=op.f('pk_topic'))
    )
    op.create_table('audit_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', app.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=True),
    sa.Column('key_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('entity_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('entity_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['key_id'], ['api_key.id'], name=op.f('fk_audit_event_key_id_api_key')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_event'))
    )
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_event_at'), ['at'], unique=False)

    op.create_table('foi_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('force_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('reference_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('aliases', sa.JSON(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('clarification_received_on', sa.Date(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('extended_due_on', sa.Date(), nullable=True),
    sa.Column('requester_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('requester_email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('requester_address', sa.Text(), nullable=True),
    sa.Column('requester_category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('created_at', app.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['force_id'], ['force.id'], name=op.f('fk_foi_request_force_id_force')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_foi_request')),
    sa.UniqueConstraint('force_id', 'reference_key', name=op.f('uq_foi_request_force_id_reference_key'))
    )
    with op.batch_alter_table('foi_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_foi_request_due_on'), ['due_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_foi_request_status'), ['status'], unique=False)

    op.create_table('disclosure_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('force_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('law', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('reference', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('responded_on', sa.Date(), nullable=True),
    sa.Column('responded_within_deadline', sa.Boolean(), nullable=True),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('published_at', app.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('announced_at', app.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', app.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('withdrawal_reason', sa.Text(), nullable=True),
    sa.Column('updated_at', app.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['force_id'], ['force.id'], name=op.f('fk_disclosure_entry_force_id_force')),
    sa.ForeignKeyConstraint(['request_id'], ['foi_request.id'], name=op.f('fk_disclosure_entry_request_id_foi_request')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosure_entry')),
    sa.UniqueConstraint('request_id', name=op.f('uq_disclosure_entry_request_id'))
    )
    with op.batch_alter_table('disclosure_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosure_entry_announced_at'), ['announced_at'], unique=False)
        batch_op.create_index('ix_disclosure_entry_force_published', ['force_id', 'published_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_disclosure_entry_outcome'), ['outcome'], unique=False)
        batch_op.create_index('ix_disclosure_entry_published', ['published_at', 'id'], unique=False)
        batch_op.create_index('ix_disclosure_entry_received', ['received_on', 'id'], unique=False)

    op.create_table('foi_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('number', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['foi_request.id'], name=op.f('fk_foi_question_request_id_foi_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_foi_question')),
    sa.UniqueConstraint('request_id', 'number', name=op.f('uq_foi_question_request_id_number'))
    )
    op.create_table('foi_response',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('responded_on', sa.Date(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('signatory_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('signatory_role', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('created_at', app.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['foi_request.id'], name=op.f('fk_foi_response_request_id_foi_request'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_foi_response'))
    )
    with op.batch_alter_table('foi_response', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_foi_response_request_id'), ['request_id'], unique=False)

    op.create_table('request_topic',
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('topic_slug', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['foi_request.id'], name=op.f('fk_request_topic_request_id_foi_request'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_slug'], ['topic.slug'], name=op.f('fk_request_topic_topic_slug_topic')),
    sa.PrimaryKeyConstraint('request_id', 'topic_slug', name=op.f('pk_request_topic'))
    )
    with op.batch_alter_table('request_topic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_topic_topic_slug'), ['topic_slug'], unique=False)

    op.create_table('entry_change',
    sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('at', app.db.UtcDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['disclosure_entry.id'], name=op.f('fk_entry_change_entry_id_disclosure_entry')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_entry_change'))
    )
    with op.batch_alter_table('entry_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_change_entry_id'), ['entry_id'], unique=False)

    op.create_table('entry_exemption',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('exemption_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['disclosure_entry.id'], name=op.f('fk_entry_exemption_entry_id_disclosure_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['exemption_id'], ['exemption.id'], name=op.f('fk_entry_exemption_exemption_id_exemption')),
    sa.PrimaryKeyConstraint('entry_id', 'exemption_id', name=op.f('pk_entry_exemption'))
    )
    with op.batch_alter_table('entry_exemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_exemption_exemption_id'), ['exemption_id'], unique=False)

    op.create_table('entry_reference',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('reference_key', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('force_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['disclosure_entry.id'], name=op.f('fk_entry_reference_entry_id_disclosure_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['force_id'], ['force.id'], name=op.f('fk_entry_reference_force_id_force')),
    sa.PrimaryKeyConstraint('entry_id', 'reference_key', name=op.f('pk_entry_reference'))
    )
    with op.batch_alter_table('entry_reference', schema=None) as batch_op:
        batch_op.create_index('ix_entry_reference_lookup', ['force_id', 'reference_key'], unique=False)

    op.create_table('entry_topic',
    sa.Column('entry_id', sa.Integer(), nullable=False),
    sa.Column('topic_slug', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['disclosure_entry.id'], name=op.f('fk_entry_topic_entry_id_disclosure_entry'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['topic_slug'], ['topic.slug'], name=op.f('fk_entry_topic_topic_slug_topic')),
    sa.PrimaryKeyConstraint('entry_id', 'topic_slug', name=op.f('pk_entry_topic'))
    )
    with op.batch_alter_table('entry_topic', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_entry_topic_topic_slug'), ['topic_slug'], unique=False)

    op.create_table('foi_answer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['foi_response.id'], name=op.f('fk_foi_answer_response_id_foi_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_foi_answer'))
    )
    with op.batch_alter_table('foi_answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_foi_answer_response_id'), ['response_id'], unique=False)

    op.create_table('foi_citation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('exemption_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('provision', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('ncnd', sa.Boolean(), nullable=False),
    sa.Column('questions', sa.JSON(), nullable=False),
    sa.Column('public_interest', sa.JSON(), nullable=True),
    sa.Column('harm', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['exemption_id'], ['exemption.id'], name=op.f('fk_foi_citation_exemption_id_exemption')),
    sa.ForeignKeyConstraint(['response_id'], ['foi_response.id'], name=op.f('fk_foi_citation_response_id_foi_response'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_foi_citation'))
    )
    with op.batch_alter_table('foi_citation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_foi_citation_exemption_id'), ['exemption_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_foi_citation_response_id'), ['response_id'], unique=False)



    _load_reference_data()


def _load_reference_data() -> None:
    reference = files("app") / "reference"
    forces = json.loads((reference / "forces.json").read_text("utf-8"))
    exemptions = json.loads((reference / "exemptions.json").read_text("utf-8"))
    force = sa.table("force", *[sa.column(c) for c in ("id", "name", "country", "law", "holiday_calendar")])
    exemption = sa.table(
        "exemption",
        *[sa.column(c) for c in ("id", "law", "section", "heading", "kind", "test", "ncnd_subsection", "notes")],
    )
    op.bulk_insert(force, forces)
    op.bulk_insert(exemption, exemptions)
    op.bulk_insert(sa.table("change_counter", sa.column("id"), sa.column("value")), [{"id": 1, "value": 0}])

def downgrade() -> None:
    with op.batch_alter_table('foi_citation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_foi_citation_response_id'))
        batch_op.drop_index(batch_op.f('ix_foi_citation_exemption_id'))

    op.drop_table('foi_citation')
    with op.batch_alter_table('foi_answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_foi_answer_response_id'))

    op.drop_table('foi_answer')
    with op.batch_alter_table('entry_topic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_topic_topic_slug'))

    op.drop_table('entry_topic')
    with op.batch_alter_table('entry_reference', schema=None) as batch_op:
        batch_op.drop_index('ix_entry_reference_lookup')

    op.drop_table('entry_reference')
    with op.batch_alter_table('entry_exemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_exemption_exemption_id'))

    op.drop_table('entry_exemption')
    with op.batch_alter_table('entry_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_entry_change_entry_id'))

    op.drop_table('entry_change')
    with op.batch_alter_table('request_topic', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_request_topic_topic_slug'))

    op.drop_table('request_topic')
    with op.batch_alter_table('foi_response', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_foi_response_request_id'))

    op.drop_table('foi_response')
    op.drop_table('foi_question')
    with op.batch_alter_table('disclosure_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_disclosure_entry_received')
        batch_op.drop_index('ix_disclosure_entry_published')
        batch_op.drop_index(batch_op.f('ix_disclosure_entry_outcome'))
        batch_op.drop_index('ix_disclosure_entry_force_published')

    op.drop_table('disclosure_entry')
    with op.batch_alter_table('foi_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_foi_request_status'))
        batch_op.drop_index(batch_op.f('ix_foi_request_due_on'))

    op.drop_table('foi_request')
    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_at'))

    op.drop_table('audit_event')
    op.drop_table('topic')
    op.drop_table('force')
    with op.batch_alter_table('exemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exemption_law'))

    op.drop_table('exemption')
    op.drop_table('change_counter')
    op.drop_table('api_key')
