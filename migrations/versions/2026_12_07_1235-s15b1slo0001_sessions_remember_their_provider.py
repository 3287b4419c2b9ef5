"""sessions remember their identity provider

Revision ID: s15b1slo0001
Revises: u20b1discidx
Create Date: 2026-12-07 12:35:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 's15b1slo0001'
down_revision: str | None = 'u20b1discidx'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A session opened by a provider's log-in keeps the provider and the provider's names for
    # the user and the session (SAML NameID/SessionIndex, OIDC sub/sid): what the provider's
    # single logout or back-channel logout request names.
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('identity_provider_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('provider_subject', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('provider_session', sa.String(length=255), nullable=True))
        batch_op.create_index(batch_op.f('ix_user_sessions_identity_provider_id'), ['identity_provider_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_user_sessions_identity_provider_id_identity_providers'), 'identity_providers', ['identity_provider_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_sessions_identity_provider_id_identity_providers'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_user_sessions_identity_provider_id'))
        batch_op.drop_column('provider_session')
        batch_op.drop_column('provider_subject')
        batch_op.drop_column('identity_provider_id')
