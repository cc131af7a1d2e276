"""the e-license outbox: license events for the provincial library, delivered by leased claims

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import titlecred.db.models

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('elicense_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=160), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('event', sa.String(length=16), nullable=False),
    sa.Column('created_at', titlecred.db.models.UtcDateTime(), nullable=False),
    sa.Column('next_attempt_at', titlecred.db.models.UtcDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', titlecred.db.models.UtcDateTime(), nullable=True),
    sa.Column('delivered_at', titlecred.db.models.UtcDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'],
                            name=op.f('fk_elicense_outbox_certificate_id_certificate')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_elicense_outbox')),
    sa.UniqueConstraint('event_key', name=op.f('uq_elicense_outbox_event_key'))
    )
    with op.batch_alter_table('elicense_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_elicense_outbox_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index('ix_elicense_outbox_delivered_at_next_attempt_at', ['delivered_at', 'next_attempt_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('elicense_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_elicense_outbox_delivered_at_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_elicense_outbox_certificate_id'))
    op.drop_table('elicense_outbox')
