"""disclosure assessments and rule-set versions

Revision ID: h6a1d15c1o5e
Revises: h3a1b2c3d4e5
Create Date: 2026-12-07 08:42:26.167183
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op



revision: str = 'h6a1d15c1o5e'
down_revision: str | None = 'h3a1b2c3d4e5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every disclosure decision's written assessment (a sealed record of the owner agency) and
    # the rule-set version it was decided under; both null for earlier decisions.
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assessment_record_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ruleset_version', sa.String(length=80), nullable=True))
        batch_op.create_index(batch_op.f('ix_disclosures_assessment_record_id'), ['assessment_record_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_disclosures_assessment_record_id_records'), 'records', ['assessment_record_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('disclosures', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_disclosures_assessment_record_id_records'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_disclosures_assessment_record_id'))
        batch_op.drop_column('ruleset_version')
        batch_op.drop_column('assessment_record_id')
