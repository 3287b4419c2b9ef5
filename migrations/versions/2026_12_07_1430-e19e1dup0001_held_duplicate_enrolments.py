"""held duplicate enrolments

Revision ID: e19e1dup0001
Revises: s15b1slo0001
Create Date: 2026-12-07 14:30:00.000000

Downgrading drops the held cases' link to the case they duplicate; they keep no number index
of their own, so the older code would let the same number be enrolled once more. Cases closed
as duplicates get the close reason "other".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 'e19e1dup0001'
down_revision: str | None = 's15b1slo0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REASONS = "'goals_reached', 'moved', 'age_limit', 'consent_withdrawn', 'transferred', 'other'"


def upgrade() -> None:
    # A case enrolled with a number that is another case of the council already, by an agency
    # that may not be told so, is held: no blind index (the unique constraint keeps one indexed
    # case per number), a pointer to the case holding the number, and the coordinators' "keep
    # it" decision; a new close reason for the coordinators' "close it as a duplicate".
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('duplicate_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('duplicate_kept_at', coordination.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_children_duplicate_of_id'), ['duplicate_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_children_duplicate_of_id_children'), 'children', ['duplicate_of_id'], ['id'])
        batch_op.drop_constraint(op.f('ck_children_close_reason'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_children_close_reason'), f"close_reason IN ({REASONS}, 'duplicate')"
        )


def downgrade() -> None:
    # Cases closed as duplicates keep the nearest older reason ("other") on the way down.
    op.execute("UPDATE children SET close_reason = 'other' WHERE close_reason = 'duplicate'")
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_children_close_reason'), type_='check')
        batch_op.create_check_constraint(op.f('ck_children_close_reason'), f"close_reason IN ({REASONS})")
        batch_op.drop_constraint(batch_op.f('fk_children_duplicate_of_id_children'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_children_duplicate_of_id'))
        batch_op.drop_column('duplicate_kept_at')
        batch_op.drop_column('duplicate_of_id')
