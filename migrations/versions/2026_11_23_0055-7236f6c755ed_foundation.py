"""foundation: agencies users councils audit

Revision ID: 7236f6c755ed
Revises: 
Create Date: 2026-11-23 00:55:59.598189
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = '7236f6c755ed'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agencies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('social_services', 'police', 'school', 'leisure', 'disability_support', 'healthcare', 'other', name='agency_kind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agencies')),
    sa.UniqueConstraint('name', name=op.f('uq_agencies_name'))
    )
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    # The chain starts at its genesis: sequence 0, a hash of zeros. Appends lock this row.
    op.bulk_insert(
        sa.table('audit_chain_head', sa.column('id', sa.Integer), sa.column('seq', sa.Integer),
                 sa.column('hash', sa.String)),
        [{'id': 1, 'seq': 0, 'hash': '0' * 64}],
    )
    op.create_table('councils',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('bob', 'sspf', 'sig', name='council_kind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('area', sa.String(length=200), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_councils')),
    sa.UniqueConstraint('code', name=op.f('uq_councils_code')),
    sa.UniqueConstraint('name', name=op.f('uq_councils_name'))
    )
    op.create_table('council_agencies',
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_council_agencies_agency_id_agencies')),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_council_agencies_council_id_councils'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('council_id', 'agency_id', name=op.f('pk_council_agencies'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('totp_secret_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('totp_confirmed_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('password_changed_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('session_epoch', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=5), nullable=True),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_users_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('email', name=op.f('uq_users_email'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_agency_id'), ['agency_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('occurred_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_user_id', sa.Integer(), nullable=True),
    sa.Column('actor_agency_id', sa.Integer(), nullable=True),
    sa.Column('tag', sa.String(length=80), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=True),
    sa.Column('object_ids', sa.JSON(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['actor_agency_id'], ['agencies.id'], name=op.f('fk_audit_events_actor_agency_id_agencies')),
    sa.ForeignKeyConstraint(['actor_user_id'], ['users.id'], name=op.f('fk_audit_events_actor_user_id_users')),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_agency_id'), ['actor_agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_user_id'), ['actor_user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_tag'), ['tag'], unique=False)

    op.create_table('council_memberships',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('council_role', sa.Enum('coordinator', 'member', name='council_role', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_council_memberships_council_id_councils'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_council_memberships_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_council_memberships')),
    sa.UniqueConstraint('council_id', 'user_id', name=op.f('uq_council_memberships_council_id_user_id'))
    )
    with op.batch_alter_table('council_memberships', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_council_memberships_user_id'), ['user_id'], unique=False)

    op.create_table('recovery_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('used_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes'))
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)

    op.create_table('user_roles',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('admin', 'coordinator', 'member', 'auditor', name='role', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_roles_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'role', name=op.f('pk_user_roles'))
    )


def downgrade() -> None:
    op.drop_table('user_roles')
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))

    op.drop_table('recovery_codes')
    with op.batch_alter_table('council_memberships', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_council_memberships_user_id'))

    op.drop_table('council_memberships')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_tag'))
        batch_op.drop_index(batch_op.f('ix_audit_events_occurred_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_user_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_agency_id'))

    op.drop_table('audit_events')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_agency_id'))

    op.drop_table('users')
    op.drop_table('council_agencies')
    op.drop_table('councils')
    op.drop_table('audit_chain_head')
    op.drop_table('agencies')
