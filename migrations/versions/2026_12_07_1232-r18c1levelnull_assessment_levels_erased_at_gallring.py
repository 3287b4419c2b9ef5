"""assessment levels erased at gallring

Revision ID: r18c1levelnull
Revises: n17a01network
Create Date: 2026-12-07 12:32:30.900927
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db

revision: str = 'r18c1levelnull'
down_revision: str | None = 'n17a01network'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The plain overall level of an assessment is erased when gallring shreds the child.
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.alter_column('overall_level',
               existing_type=sa.VARCHAR(length=40),
               nullable=True)


def downgrade() -> None:
    op.execute("UPDATE assessments SET overall_level = '' WHERE overall_level IS NULL")
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.alter_column('overall_level',
               existing_type=sa.VARCHAR(length=40),
               nullable=False)

