"""idempotency keys of POST /credentials/issue

Revision ID: 0006
Revises: 0004
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import titlecred.db.models

revision: str = '0006'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('idempotencykey',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_credential_id', sa.Integer(), nullable=False),
    sa.Column('created_at', titlecred.db.models.UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_idempotencykey_account_id_account')),
    sa.ForeignKeyConstraint(['issued_credential_id'], ['issuedcredential.id'],
                            name=op.f('fk_idempotencykey_issued_credential_id_issuedcredential')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotencykey')),
    sa.UniqueConstraint('account_id', 'key', name=op.f('uq_idempotencykey_account_id_key'))
    )
    with op.batch_alter_table('idempotencykey', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotencykey_account_id'), ['account_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('idempotencykey', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotencykey_account_id'))
    op.drop_table('idempotencykey')
