"""age rules per council

Revision ID: g18a1agerules
Revises: a18a1assess01
Create Date: 2026-12-07 11:12:43.663893
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 'g18a1agerules'
down_revision: str | None = 'a18a1assess01'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each council's target age range (NULL until a coordinator sets one: the council kind's
    # default applies) and the exceptions (avsteg) from it, whose texts are sealed records.
    op.create_table('age_exceptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('age_at_decision', sa.Integer(), nullable=False),
    sa.Column('range_min', sa.Integer(), nullable=True),
    sa.Column('range_max', sa.Integer(), nullable=True),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('review_on', sa.Date(), nullable=False),
    sa.Column('details_record_id', sa.Integer(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('review_notified_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_age_exceptions_child_id_children')),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_age_exceptions_council_id_councils')),
    sa.ForeignKeyConstraint(['details_record_id'], ['records.id'], name=op.f('fk_age_exceptions_details_record_id_records')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_age_exceptions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_age_exceptions'))
    )
    with op.batch_alter_table('age_exceptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_age_exceptions_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_age_exceptions_council_id'), ['council_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_age_exceptions_review_on'), ['review_on'], unique=False)

    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.add_column(sa.Column('age_range_set', sa.Boolean(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('age_min', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('age_max', sa.Integer(), nullable=True))
        batch_op.create_check_constraint(
            'age_range_order',
            '(age_min IS NULL OR (age_min >= 0 AND age_min <= 99)) '
            'AND (age_max IS NULL OR (age_max >= 0 AND age_max <= 99)) '
            'AND (age_min IS NULL OR age_max IS NULL OR age_min <= age_max)',
        )


def downgrade() -> None:
    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_councils_age_range_order'), type_='check')
        batch_op.drop_column('age_max')
        batch_op.drop_column('age_min')
        batch_op.drop_column('age_range_set')

    with op.batch_alter_table('age_exceptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_age_exceptions_review_on'))
        batch_op.drop_index(batch_op.f('ix_age_exceptions_council_id'))
        batch_op.drop_index(batch_op.f('ix_age_exceptions_child_id'))

    op.drop_table('age_exceptions')
