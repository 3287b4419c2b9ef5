"""case sync entries unique per meeting, number and submitting agency

Revision ID: c19c1syncagcy
Revises: e19e1dup0001
Create Date: 2026-12-07 15:05:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = 'c19c1syncagcy'
down_revision: str | None = 'e19e1dup0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = 'uq_case_sync_entries_meeting_id_identity_index'
NEW = 'uq_case_sync_entries_meeting_agency_index'


def upgrade() -> None:
    # A number is submitted once per meeting by each police agency, not once in all: a refusal
    # because another agency submitted it would tell the submitter that the number is a case
    # or a proposal (issue 19). The name is explicit: the convention's would pass PostgreSQL's
    # 63 characters.
    with op.batch_alter_table('case_sync_entries', schema=None) as batch_op:
        batch_op.drop_constraint(OLD, type_='unique')
        batch_op.create_unique_constraint(
            NEW, ['meeting_id', 'submitted_by_agency_id', 'identity_index']
        )


def downgrade() -> None:
    # Fails if two agencies submitted the same number for one meeting: those rows must be
    # resolved by hand before going back.
    with op.batch_alter_table('case_sync_entries', schema=None) as batch_op:
        batch_op.drop_constraint(NEW, type_='unique')
        batch_op.create_unique_constraint(OLD, ['meeting_id', 'identity_index'])
