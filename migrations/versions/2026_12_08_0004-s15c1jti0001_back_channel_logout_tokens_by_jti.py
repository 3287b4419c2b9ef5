"""back-channel logout tokens remembered by jti

Revision ID: s15c1jti0001
Revises: c19c1syncagcy
Create Date: 2026-12-08 00:04:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 's15c1jti0001'
down_revision: str | None = 'c19c1syncagcy'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The jti of each back-channel logout token accepted, hashed, while the token could still
    # be accepted: the unique key refuses a replay, also two deliveries at once; the nightly
    # job prunes rows past the window.
    op.create_table('accepted_logout_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('jti_hash', sa.String(length=64), nullable=False),
    sa.Column('seen_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_providers.id'], name=op.f('fk_accepted_logout_tokens_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accepted_logout_tokens')),
    sa.UniqueConstraint('provider_id', 'jti_hash', name=op.f('uq_accepted_logout_tokens_provider_id_jti_hash'))
    )
    with op.batch_alter_table('accepted_logout_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accepted_logout_tokens_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    # Forgets the tokens seen: one accepted in the last minutes could be replayed once more.
    with op.batch_alter_table('accepted_logout_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accepted_logout_tokens_seen_at'))

    op.drop_table('accepted_logout_tokens')
