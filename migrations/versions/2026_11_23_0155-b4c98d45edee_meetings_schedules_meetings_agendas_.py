"""meetings: schedules, meetings, agendas, case sync, notifications

Revision ID: b4c98d45edee
Revises: e7e811709b3c
Create Date: 2026-11-23 01:55:20.238794
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 'b4c98d45edee'
down_revision: str | None = 'e7e811709b3c'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.String(length=60), nullable=False),
    sa.Column('started_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome', sa.String(length=40), nullable=True),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs'))
    )
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_job_runs_job_id'), ['job_id'], unique=False)

    op.create_table('schedules',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('rrule', sa.String(length=500), nullable=False),
    sa.Column('start_time', sa.Time(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('video_link', sa.String(length=500), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_schedules_council_id_councils')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_schedules'))
    )
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_schedules_council_id'), ['council_id'], unique=False)

    op.create_table('calendar_feed_tokens',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_calendar_feed_tokens_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_feed_tokens')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_calendar_feed_tokens_token_hash'))
    )
    with op.batch_alter_table('calendar_feed_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_feed_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('council_id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('occurrence_on', sa.Date(), nullable=True),
    sa.Column('starts_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Enum('planned', 'held', 'cancelled', name='meeting_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('location', sa.String(length=300), nullable=True),
    sa.Column('video_link', sa.String(length=500), nullable=True),
    sa.Column('chair_id', sa.Integer(), nullable=True),
    sa.Column('minute_taker_id', sa.Integer(), nullable=True),
    sa.Column('detached', sa.Boolean(), nullable=False),
    sa.Column('holiday', sa.String(length=100), nullable=True),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['chair_id'], ['users.id'], name=op.f('fk_meetings_chair_id_users')),
    sa.ForeignKeyConstraint(['council_id'], ['councils.id'], name=op.f('fk_meetings_council_id_councils')),
    sa.ForeignKeyConstraint(['minute_taker_id'], ['users.id'], name=op.f('fk_meetings_minute_taker_id_users')),
    sa.ForeignKeyConstraint(['schedule_id'], ['schedules.id'], name=op.f('fk_meetings_schedule_id_schedules')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('council_id', 'schedule_id', 'occurrence_on', name=op.f('uq_meetings_council_id_schedule_id_occurrence_on'))
    )
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.create_index('ix_meetings_council_id_starts_at', ['council_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_meetings_starts_at', ['starts_at'], unique=False)

    op.create_table('notification_preferences',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('email_enabled', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notification_preferences'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=500), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('read_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('email_status', sa.Enum('pending', 'sent', 'failed', 'skipped', name='email_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.Column('dedup_key', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['recipient_id'], ['users.id'], name=op.f('fk_notifications_recipient_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_notifications_dedup_key'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_email_status_next_attempt_at', ['email_status', 'next_attempt_at'], unique=False)
        batch_op.create_index('ix_notifications_recipient_id_read_at', ['recipient_id', 'read_at'], unique=False)

    op.create_table('agenda_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('reason_category', sa.String(length=40), nullable=False),
    sa.Column('brief_record_id', sa.Integer(), nullable=True),
    sa.Column('source', sa.Enum('manual', 'open_actions', 'case_sync', name='agenda_source', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_agenda_items_added_by_id_users')),
    sa.ForeignKeyConstraint(['brief_record_id'], ['records.id'], name=op.f('fk_agenda_items_brief_record_id_records')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_agenda_items_child_id_children')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_agenda_items_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agenda_items')),
    sa.UniqueConstraint('meeting_id', 'child_id', name=op.f('uq_agenda_items_meeting_id_child_id'))
    )
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agenda_items_child_id'), ['child_id'], unique=False)

    op.create_table('attendances',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('invited', 'present', 'absent', 'excused', name='attendance_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('guest', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_attendances_meeting_id_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attendances_user_id_users')),
    sa.PrimaryKeyConstraint('meeting_id', 'user_id', name=op.f('pk_attendances'))
    )
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attendances_user_id'), ['user_id'], unique=False)

    op.create_table('case_sync_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=False),
    sa.Column('submitted_by_agency_id', sa.Integer(), nullable=False),
    sa.Column('submitted_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('identity_index', sa.String(length=64), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('police_record_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('matched', 'proposed', 'accepted', 'declined', name='case_sync_state', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('decline_reason', sa.String(length=40), nullable=True),
    sa.Column('answer_record_id', sa.Integer(), nullable=True),
    sa.Column('answered_at', coordination.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['answer_record_id'], ['records.id'], name=op.f('fk_case_sync_entries_answer_record_id_records')),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_case_sync_entries_child_id_children')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_case_sync_entries_meeting_id_meetings')),
    sa.ForeignKeyConstraint(['police_record_id'], ['records.id'], name=op.f('fk_case_sync_entries_police_record_id_records')),
    sa.ForeignKeyConstraint(['submitted_by_agency_id'], ['agencies.id'], name=op.f('fk_case_sync_entries_submitted_by_agency_id_agencies')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_case_sync_entries_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_sync_entries')),
    sa.UniqueConstraint('meeting_id', 'identity_index', name=op.f('uq_case_sync_entries_meeting_id_identity_index'))
    )
    with op.batch_alter_table('case_sync_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_sync_entries_meeting_id'), ['meeting_id'], unique=False)


    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('existence_secret', sa.Boolean(), server_default='0', nullable=False))

    # Bob case sync: two new case states (the CHECK constraint lists the allowed values).
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_children_child_status'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_children_child_status'),
            "status IN ('active', 'closed', 'shredded', 'proposed', 'declined')",
        )


def downgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_column('existence_secret')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_children_child_status'), type_='check')
        batch_op.create_check_constraint(
            op.f('ck_children_child_status'), "status IN ('active', 'closed', 'shredded')"
        )
    with op.batch_alter_table('case_sync_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_sync_entries_meeting_id'))

    op.drop_table('case_sync_entries')
    with op.batch_alter_table('attendances', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendances_user_id'))

    op.drop_table('attendances')
    with op.batch_alter_table('agenda_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agenda_items_child_id'))

    op.drop_table('agenda_items')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_recipient_id_read_at')
        batch_op.drop_index('ix_notifications_email_status_next_attempt_at')

    op.drop_table('notifications')
    op.drop_table('notification_preferences')
    with op.batch_alter_table('meetings', schema=None) as batch_op:
        batch_op.drop_index('ix_meetings_starts_at')
        batch_op.drop_index('ix_meetings_council_id_starts_at')

    op.drop_table('meetings')
    with op.batch_alter_table('calendar_feed_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_feed_tokens_user_id'))

    op.drop_table('calendar_feed_tokens')
    with op.batch_alter_table('schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_schedules_council_id'))

    op.drop_table('schedules')
    with op.batch_alter_table('job_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_job_runs_job_id'))

    op.drop_table('job_runs')
