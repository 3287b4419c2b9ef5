"""scim clients and links

Revision ID: sc15a1scim01
Revises: h6b2req0info
Create Date: 2026-12-07 11:14:14.075775
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db

revision: str = 'sc15a1scim01'
down_revision: str | None = 'h6b2req0info'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SCIM provisioning: an agency's clients (token hashes) and the users they know.
    op.create_table('scim_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('prefix', sa.String(length=12), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('revoked_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_scim_clients_agency_id_agencies')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_scim_clients_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_clients')),
    sa.UniqueConstraint('secret_hash', name=op.f('uq_scim_clients_secret_hash'))
    )
    with op.batch_alter_table('scim_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scim_clients_agency_id'), ['agency_id'], unique=False)

    op.create_table('scim_links',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=200), nullable=True),
    sa.Column('provisioned', sa.Boolean(), nullable=False),
    sa.Column('deactivated_by_provider', sa.Boolean(), nullable=False),
    sa.Column('deleted_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_scim_links_agency_id_agencies')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_scim_links_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_scim_links')),
    sa.UniqueConstraint('agency_id', 'external_id', name=op.f('uq_scim_links_agency_id_external_id'))
    )
    with op.batch_alter_table('scim_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scim_links_agency_id'), ['agency_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('scim_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scim_links_agency_id'))

    op.drop_table('scim_links')
    with op.batch_alter_table('scim_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scim_clients_agency_id'))

    op.drop_table('scim_clients')
