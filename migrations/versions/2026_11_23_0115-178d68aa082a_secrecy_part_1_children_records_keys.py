"""secrecy part 1: children, records, keys

Revision ID: 178d68aa082a
Revises: 7236f6c755ed
Create Date: 2026-11-23 01:15:23.855574
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = '178d68aa082a'
down_revision: str | None = '7236f6c755ed'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('system_keys',
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('master_version', sa.Integer(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('purpose', name=op.f('pk_system_keys'))
    )
    op.create_table('agency_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('master_version', sa.Integer(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_agency_keys_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_keys')),
    sa.UniqueConstraint('agency_id', 'version', name=op.f('uq_agency_keys_agency_id_version'))
    )
    op.create_table('children',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('pseudonym', sa.String(length=40), nullable=False),
    sa.Column('status', sa.Enum('active', 'closed', 'shredded', name='child_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('enrolled_on', sa.Date(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('close_reason', sa.Enum('goals_reached', 'moved', 'age_limit', 'consent_withdrawn', 'transferred', 'other', name='close_reason', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('shredded_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('enrolling_agency_id', sa.Integer(), nullable=False),
    sa.Column('identity_index', sa.String(length=64), nullable=True),
    sa.Column('birth_date_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_children_council_id_councils')),
    sa.ForeignKeyConstraint(['enrolling_agency_id'], ['agencies.id'], name=op.f('fk_children_enrolling_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children')),
    sa.UniqueConstraint('council_id', 'identity_index', name=op.f('uq_children_council_id_identity_index')),
    sa.UniqueConstraint('pseudonym', name=op.f('uq_children_pseudonym'))
    )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_children_council_id'), ['council_id'], unique=False)

    op.create_table('pseudonym_counters',
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_pseudonym_counters_council_id_councils')),
    sa.PrimaryKeyConstraint('council_id', 'year', name=op.f('pk_pseudonym_counters'))
    )
    op.create_table('records',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('owner_agency_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('supersedes_id', sa.Integer(), nullable=True),
    sa.Column('superseded_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ciphertext', sa.LargeBinary(), nullable=True),
    sa.Column('shredded_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_records_author_id_users')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_records_child_id_children')),
    sa.ForeignKeyConstraint(['owner_agency_id'], ['agencies.id'], name=op.f('fk_records_owner_agency_id_agencies')),
    sa.ForeignKeyConstraint(['supersedes_id'], ['records.id'], name=op.f('fk_records_supersedes_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_records')),
    sa.UniqueConstraint('supersedes_id', name=op.f('uq_records_supersedes_id'))
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index('ix_records_child_id_category', ['child_id', 'category'], unique=False)

    op.create_table('record_keys',
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('agency_key_version', sa.Integer(), nullable=False),
    sa.Column('wrapped_key', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_record_keys_agency_id_agencies')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_record_keys_record_id_records'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('record_id', 'agency_id', name=op.f('pk_record_keys'))
    )
    with op.batch_alter_table('record_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_keys_agency_id'), ['agency_id'], unique=False)

    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention_months', sa.Integer(), server_default='12', nullable=False))
        batch_op.create_check_constraint(
            op.f('ck_councils_retention_months_range'),
            'retention_months >= 0 AND retention_months <= 600',
        )



def downgrade() -> None:
    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_councils_retention_months_range'), type_='check')
        batch_op.drop_column('retention_months')

    with op.batch_alter_table('record_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_keys_agency_id'))

    op.drop_table('record_keys')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index('ix_records_child_id_category')

    op.drop_table('records')
    op.drop_table('pseudonym_counters')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_children_council_id'))

    op.drop_table('children')
    op.drop_table('agency_keys')
    op.drop_table('system_keys')
