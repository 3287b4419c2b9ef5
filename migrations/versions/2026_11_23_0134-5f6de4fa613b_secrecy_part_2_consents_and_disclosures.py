"""secrecy part 2: consents and disclosures

Revision ID: 5f6de4fa613b
Revises: 178d68aa082a
Create Date: 2026-11-23 01:34:49.544818
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = '5f6de4fa613b'
down_revision: str | None = '178d68aa082a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('registered_by_agency_id', sa.Integer(), nullable=False),
    sa.Column('registered_by_id', sa.Integer(), nullable=False),
    sa.Column('registered_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('signers', sa.JSON(), nullable=False),
    sa.Column('two_guardians', sa.Boolean(), nullable=False),
    sa.Column('agency_ids', sa.JSON(), nullable=False),
    sa.Column('agency_kinds', sa.JSON(), nullable=False),
    sa.Column('categories', sa.JSON(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('details_record_id', sa.Integer(), nullable=False),
    sa.Column('revoked_on', sa.Date(), nullable=True),
    sa.Column('revoked_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.Enum('withdrawn_by_guardian', 'withdrawn_by_young_person', 'registered_in_error', 'other', name='consent_revoke_reason', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_consents_child_id_children')),
    sa.ForeignKeyConstraint(['details_record_id'], ['records.id'], name=op.f('fk_consents_details_record_id_records')),
    sa.ForeignKeyConstraint(['registered_by_agency_id'], ['agencies.id'], name=op.f('fk_consents_registered_by_agency_id_agencies')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['users.id'], name=op.f('fk_consents_registered_by_id_users')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_consents_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_child_id'), ['child_id'], unique=False)

    op.create_table('disclosures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('recipient_agency_id', sa.Integer(), nullable=False),
    sa.Column('basis_id', sa.String(length=60), nullable=False),
    sa.Column('confirmations', sa.JSON(), nullable=False),
    sa.Column('consent_id', sa.Integer(), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.Enum('no_longer_needed', 'decided_in_error', 'other', name='disclosure_end_reason', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('lapsed_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lapse_reason', sa.String(length=40), nullable=True),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], name=op.f('fk_disclosures_consent_id_consents')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_disclosures_decided_by_id_users')),
    sa.ForeignKeyConstraint(['recipient_agency_id'], ['agencies.id'], name=op.f('fk_disclosures_recipient_agency_id_agencies')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_disclosures_record_id_records')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['users.id'], name=op.f('fk_disclosures_revoked_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_disclosures'))
    )
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_disclosures_consent_id'), ['consent_id'], unique=False)
        batch_op.create_index('ix_disclosures_recipient_agency_id', ['recipient_agency_id'], unique=False)
        batch_op.create_index('ix_disclosures_record_id_recipient', ['record_id', 'recipient_agency_id'], unique=False)
        batch_op.create_index('uq_disclosures_live', ['record_id', 'recipient_agency_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL AND lapsed_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL AND lapsed_at IS NULL'))

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('osl_applies', sa.Boolean(), server_default='1', nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('osl_applies')

    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_index('uq_disclosures_live', sqlite_where=sa.text('revoked_at IS NULL AND lapsed_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL AND lapsed_at IS NULL'))
        batch_op.drop_index('ix_disclosures_record_id_recipient')
        batch_op.drop_index('ix_disclosures_recipient_agency_id')
        batch_op.drop_index(batch_op.f('ix_disclosures_consent_id'))

    op.drop_table('disclosures')
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_child_id'))

    op.drop_table('consents')
