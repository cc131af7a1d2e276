"""batch runs and their per-row outcome (issue 17; issue 13 item 6)

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import titlecred.db.models

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('batchrun',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('actor', sa.String(length=120), nullable=False),
    sa.Column('upload_batch_id', sa.Integer(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('created_at', titlecred.db.models.UtcDateTime(), nullable=False),
    sa.Column('finished_at', titlecred.db.models.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['upload_batch_id'], ['uploadbatch.id'],
                            name=op.f('fk_batchrun_upload_batch_id_uploadbatch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batchrun'))
    )
    with op.batch_alter_table('batchrun', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batchrun_state'), ['state'], unique=False)

    op.create_table('batchitem',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.Column('certificate_number', sa.String(length=32), nullable=True),
    sa.Column('code', sa.String(length=48), nullable=True),
    sa.Column('message', sa.String(length=500), nullable=True),
    sa.Column('worker', sa.String(length=64), nullable=True),
    sa.Column('updated_at', titlecred.db.models.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'],
                            name=op.f('fk_batchitem_application_id_application')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'],
                            name=op.f('fk_batchitem_certificate_id_certificate')),
    sa.ForeignKeyConstraint(['run_id'], ['batchrun.id'], name=op.f('fk_batchitem_run_id_batchrun')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batchitem')),
    sa.UniqueConstraint('run_id', 'application_id', name=op.f('uq_batchitem_run_id_application_id'))
    )
    with op.batch_alter_table('batchitem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_batchitem_application_id'), ['application_id'], unique=False)
        batch_op.create_index('ix_batchitem_run_id_state_id', ['run_id', 'state', 'id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('batchitem', schema=None) as batch_op:
        batch_op.drop_index('ix_batchitem_run_id_state_id')
        batch_op.drop_index(batch_op.f('ix_batchitem_application_id'))
    op.drop_table('batchitem')
    with op.batch_alter_table('batchrun', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_batchrun_state'))
    op.drop_table('batchrun')
