"""Agencies record their authority (board, organisation number) and whether they are an
independent branch of activity; councils a consent policy; consents a maturity assessment.

Revision ID: h5a1b2c3d4e5
Revises: h7a1sessions
Create Date: 2026-12-07 08:36:17.973180
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 'h5a1b2c3d4e5'
down_revision: str | None = 'h7a1sessions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('authority_name', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('authority_org_number', sa.String(length=11), nullable=True))
        batch_op.add_column(sa.Column('independent_branch', sa.Boolean(), server_default='1', nullable=False))

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('maturity_assessed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('maturity_assessed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_consents_maturity_assessed_by_id_users'), 'users', ['maturity_assessed_by_id'], ['id'])

    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.add_column(sa.Column('maturity_consent', sa.Boolean(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('councils', schema=None) as batch_op:
        batch_op.drop_column('maturity_consent')

    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_consents_maturity_assessed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('maturity_assessed_by_id')
        batch_op.drop_column('maturity_assessed_on')

    with op.batch_alter_table('agencies', schema=None) as batch_op:
        batch_op.drop_column('independent_branch')
        batch_op.drop_column('authority_org_number')
        batch_op.drop_column('authority_name')
