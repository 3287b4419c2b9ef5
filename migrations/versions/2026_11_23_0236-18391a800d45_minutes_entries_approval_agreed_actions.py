"""minutes: entries, approval, agreed actions

Revision ID: 18391a800d45
Revises: b4c98d45edee
Create Date: 2026-11-23 02:36:47.016011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = '18391a800d45'
down_revision: str | None = 'b4c98d45edee'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('agreed_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('description_record_id', sa.Integer(), nullable=False),
    sa.Column('responsible_agency_id', sa.Integer(), nullable=False),
    sa.Column('responsible_user_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('status', sa.Enum('open', 'in_progress', 'done', 'not_done', 'cancelled', name='action_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('not_done_reason', sa.Enum('circumstances_changed', 'not_carried_out', name='not_done_reason', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_agreed_actions_child_id_children')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_agreed_actions_created_by_id_users')),
    sa.ForeignKeyConstraint(['description_record_id'], ['records.id'], name=op.f('fk_agreed_actions_description_record_id_records')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_agreed_actions_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['responsible_agency_id'], ['agencies.id'], name=op.f('fk_agreed_actions_responsible_agency_id_agencies')),
    sa.ForeignKeyConstraint(['responsible_user_id'], ['users.id'], name=op.f('fk_agreed_actions_responsible_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreed_actions'))
    )
    with op.batch_alter_table('agreed_actions', schema=None) as batch_op:
        batch_op.create_index('ix_agreed_actions_agency_status_due', ['responsible_agency_id', 'status', 'due_on'], unique=False)
        batch_op.create_index('ix_agreed_actions_child_status', ['child_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreed_actions_meeting_id'), ['meeting_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_agreed_actions_responsible_user_id'), ['responsible_user_id'], unique=False)
        batch_op.create_index('ix_agreed_actions_status_due', ['status', 'due_on'], unique=False)

    op.create_table('minutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'approved', name='minutes_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('adjuster_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('digest', sa.String(length=64), nullable=True),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['adjuster_id'], ['users.id'], name=op.f('fk_minutes_adjuster_id_users')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_minutes_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_minutes_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes')),
    sa.UniqueConstraint('meeting_id', name=op.f('uq_minutes_meeting_id'))
    )
    op.create_table('action_updates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('action_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.Enum('open', 'in_progress', 'done', 'not_done', 'cancelled', name='from_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('to_status', sa.Enum('open', 'in_progress', 'done', 'not_done', 'cancelled', name='to_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('comment_record_id', sa.Integer(), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['action_id'], ['agreed_actions.id'], name=op.f('fk_action_updates_action_id_agreed_actions')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_action_updates_author_id_users')),
    sa.ForeignKeyConstraint(['comment_record_id'], ['records.id'], name=op.f('fk_action_updates_comment_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_action_updates'))
    )
    with op.batch_alter_table('action_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_action_updates_action_id'), ['action_id'], unique=False)

    op.create_table('minutes_approvals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('minutes_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('chair', 'adjuster', name='approval_role', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('approved_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], name=op.f('fk_minutes_approvals_minutes_id_minutes')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_minutes_approvals_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_approvals')),
    sa.UniqueConstraint('minutes_id', 'role', name=op.f('uq_minutes_approvals_minutes_id_role'))
    )
    op.create_table('minutes_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('minutes_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('entry', 'decision', name='entry_kind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('amends_id', sa.Integer(), nullable=True),
    sa.Column('amendment_reason', sa.Enum('factual_error', 'omission', 'wrong_child', 'other', name='amendment_reason', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.Column('conflict_with_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['amends_id'], ['minutes_entries.id'], name=op.f('fk_minutes_entries_amends_id_minutes_entries')),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_minutes_entries_author_id_users')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_minutes_entries_child_id_children')),
    sa.ForeignKeyConstraint(['conflict_with_id'], ['minutes_entries.id'], name=op.f('fk_minutes_entries_conflict_with_id_minutes_entries')),
    sa.ForeignKeyConstraint(['minutes_id'], ['minutes.id'], name=op.f('fk_minutes_entries_minutes_id_minutes')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_minutes_entries_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_minutes_entries'))
    )
    with op.batch_alter_table('minutes_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_minutes_entries_child_id'), ['child_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_minutes_entries_minutes_id'), ['minutes_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('minutes_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_minutes_entries_minutes_id'))
        batch_op.drop_index(batch_op.f('ix_minutes_entries_child_id'))

    op.drop_table('minutes_entries')
    op.drop_table('minutes_approvals')
    with op.batch_alter_table('action_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_action_updates_action_id'))

    op.drop_table('action_updates')
    op.drop_table('minutes')
    with op.batch_alter_table('agreed_actions', schema=None) as batch_op:
        batch_op.drop_index('ix_agreed_actions_status_due')
        batch_op.drop_index(batch_op.f('ix_agreed_actions_responsible_user_id'))
        batch_op.drop_index(batch_op.f('ix_agreed_actions_meeting_id'))
        batch_op.drop_index('ix_agreed_actions_child_status')
        batch_op.drop_index('ix_agreed_actions_agency_status_due')

    op.drop_table('agreed_actions')
