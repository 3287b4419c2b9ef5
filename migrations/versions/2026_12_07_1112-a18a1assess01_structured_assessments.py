"""structured assessments

Revision ID: a18a1assess01
Revises: p17a1plans
Create Date: 2026-12-07 11:12:59.479598
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 'a18a1assess01'
down_revision: str | None = 'p17a1plans'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Structured assessments: one row per assessment, one per area (its sealed record, or none
    # when not assessed), and the council's reassessment interval (None: no reminders). The
    # overall level for the council's counts is sealed (child-facts key) and erased (null) at
    # gallring.
    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('instrument_id', sa.String(length=40), nullable=False),
    sa.Column('instrument_version', sa.String(length=20), nullable=False),
    sa.Column('assessed_on', sa.Date(), nullable=False),
    sa.Column('assessor_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('overall_level_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('overall_record_id', sa.Integer(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_assessments_agency_id_agencies')),
    sa.ForeignKeyConstraint(['assessor_id'], ['users.id'], name=op.f('fk_assessments_assessor_id_users')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_assessments_child_id_children')),
    sa.ForeignKeyConstraint(['overall_record_id'], ['records.id'], name=op.f('fk_assessments_overall_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index('ix_assessments_child_assessed', ['child_id', 'assessed_on'], unique=False)

    op.create_table('assessment_areas',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=40), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=True),
    sa.Column('not_assessed', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_assessment_areas_assessment_id_assessments')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_assessment_areas_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_areas')),
    sa.UniqueConstraint('assessment_id', 'area_code', name=op.f('uq_assessment_areas_assessment_id_area_code'))
    )
    with op.batch_alter_table('assessment_areas', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessment_areas_assessment_id'), ['assessment_id'], unique=False)

    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assessment_interval_days', sa.Integer(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.drop_column('assessment_interval_days')

    with op.batch_alter_table('assessment_areas', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessment_areas_assessment_id'))

    op.drop_table('assessment_areas')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index('ix_assessments_child_assessed')

    op.drop_table('assessments')
