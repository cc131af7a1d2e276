"""a holder's new phone or e-mail waits for the code sent to it (pending contact changes)

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import titlecred.db.models

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contactchange',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('destination', sa.String(length=254), nullable=False),
    sa.Column('code_hmac', sa.String(length=64), nullable=False),
    sa.Column('created_at', titlecred.db.models.UtcDateTime(), nullable=False),
    sa.Column('expires_at', titlecred.db.models.UtcDateTime(), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('used_at', titlecred.db.models.UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_contactchange_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contactchange')),
    sa.UniqueConstraint('account_id', 'channel', name=op.f('uq_contactchange_account_id_channel'))
    )
    with op.batch_alter_table('contactchange', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contactchange_account_id'), ['account_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contactchange', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contactchange_account_id'))

    op.drop_table('contactchange')
