"""identity providers

Revision ID: s15a1idp0001
Revises: u20a1chain0seq
Create Date: 2026-12-07 11:14:07.119716
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 's15a1idp0001'
down_revision: str | None = 'u20a1chain0seq'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Identity providers per agency (single sign-on), the users' links to a provider's subject,
    # accounts waiting for approval after a first log-in, and the agency's required assurance.
    op.create_table('identity_providers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('oidc', 'saml', name='provider_kind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('issuer', sa.String(length=500), nullable=False),
    sa.Column('client_id', sa.String(length=200), nullable=False),
    sa.Column('client_secret_env', sa.String(length=100), nullable=False),
    sa.Column('claims', sa.JSON(), nullable=False),
    sa.Column('acr_levels', sa.JSON(), nullable=False),
    sa.Column('requested_acr', sa.String(length=200), nullable=True),
    sa.Column('minimum_assurance', sa.String(length=10), nullable=True),
    sa.Column('jit_provisioning', sa.Boolean(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('discovered', sa.JSON(), nullable=False),
    sa.Column('checked_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_identity_providers_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_providers')),
    sa.UniqueConstraint('agency_id', name=op.f('uq_identity_providers_agency_id'))
    )
    op.create_table('user_identities',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('provider_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_login_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['provider_id'], ['identity_providers.id'], name=op.f('fk_user_identities_provider_id_identity_providers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_identities_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_identities')),
    sa.UniqueConstraint('provider_id', 'subject', name=op.f('uq_user_identities_provider_id_subject')),
    sa.UniqueConstraint('provider_id', 'user_id', name=op.f('uq_user_identities_provider_id_user_id'))
    )
    with op.batch_alter_table('user_identities', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_identities_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('required_assurance', sa.String(length=10), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pending_approval', sa.Boolean(), server_default='0', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('pending_approval')

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('required_assurance')

    with op.batch_alter_table('user_identities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_identities_user_id'))

    op.drop_table('user_identities')
    op.drop_table('identity_providers')
