"""information requests

Revision ID: h6b2req0info
Revises: h6a1d15c1o5e
Create Date: 2026-12-07 08:54:52.712530
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 'h6b2req0info'
down_revision: str | None = 'h6a1d15c1o5e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Requests for information (begäran om uppgifter), the disclosures that answer them, and
    # the council setting after how many days an open request is flagged.
    op.create_table('information_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('requesting_agency_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('owner_agency_id', sa.Integer(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=True),
    sa.Column('basis_id', sa.String(length=60), nullable=True),
    sa.Column('urgency', sa.Enum('normal', 'urgent', name='request_urgency', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('details_record_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'answered', 'refused', name='request_status', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('closed_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('answer_record_id', sa.Integer(), nullable=True),
    sa.Column('flagged_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['answer_record_id'], ['records.id'], name=op.f('fk_information_requests_answer_record_id_records')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_information_requests_child_id_children')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['users.id'], name=op.f('fk_information_requests_closed_by_id_users')),
    sa.ForeignKeyConstraint(['details_record_id'], ['records.id'], name=op.f('fk_information_requests_details_record_id_records')),
    sa.ForeignKeyConstraint(['owner_agency_id'], ['agencies.id'], name=op.f('fk_information_requests_owner_agency_id_agencies')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['users.id'], name=op.f('fk_information_requests_requested_by_id_users')),
    sa.ForeignKeyConstraint(['requesting_agency_id'], ['agencies.id'], name=op.f('fk_information_requests_requesting_agency_id_agencies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_information_requests'))
    )
    op.create_index(op.f('ix_information_requests_child_id'), 'information_requests', ['child_id'], unique=False)
    op.create_index(op.f('ix_information_requests_owner_agency_id'), 'information_requests', ['owner_agency_id'], unique=False)
    op.create_index(op.f('ix_information_requests_requesting_agency_id'), 'information_requests', ['requesting_agency_id'], unique=False)
    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_flag_days', sa.Integer(), server_default='14', nullable=False))
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('request_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_disclosures_request_id'), ['request_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_disclosures_request_id_information_requests'), 'information_requests', ['request_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_disclosures_request_id_information_requests'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_disclosures_request_id'))
        batch_op.drop_column('request_id')
    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.drop_column('request_flag_days')
    op.drop_index(op.f('ix_information_requests_requesting_agency_id'), table_name='information_requests')
    op.drop_index(op.f('ix_information_requests_owner_agency_id'), table_name='information_requests')
    op.drop_index(op.f('ix_information_requests_child_id'), table_name='information_requests')
    op.drop_table('information_requests')
