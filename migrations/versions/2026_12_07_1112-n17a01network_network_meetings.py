"""network meetings

Revision ID: n17a01network
Revises: s15a1idp0001
Create Date: 2026-12-07 11:12:21.276290
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 'n17a01network'
down_revision: str | None = 's15a1idp0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Network meetings about one child, their external participants (names sealed), the
    # invitation letters (sealed) and the young person's voice (sealed).
    op.create_table('network_meetings',
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('child_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('custom_under_18', 'sspf_network', 'sip_like', name='network_kind', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('purpose', sa.Enum('agree_plan', 'follow_up', 'support_offer', name='network_purpose', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('inviting_agency_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['child_id'], ['children.id'], name=op.f('fk_network_meetings_child_id_children')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_network_meetings_created_by_id_users')),
    sa.ForeignKeyConstraint(['inviting_agency_id'], ['agencies.id'], name=op.f('fk_network_meetings_inviting_agency_id_agencies')),
    sa.ForeignKeyConstraint(['meeting_id'], ['meetings.id'], name=op.f('fk_network_meetings_meeting_id_meetings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('meeting_id', name=op.f('pk_network_meetings'))
    )
    with op.batch_alter_table('network_meetings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_meetings_child_id'), ['child_id'], unique=False)

    op.create_table('network_participants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.Enum('young_person', 'guardian', 'relative', 'support_person', 'other', name='participant_role', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('name_record_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('invited', 'present', 'absent', name='participant_status', native_enum=False, create_constraint=True, length=40), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_network_participants_added_by_id_users')),
    sa.ForeignKeyConstraint(['meeting_id'], ['network_meetings.meeting_id'], name=op.f('fk_network_participants_meeting_id_network_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['name_record_id'], ['records.id'], name=op.f('fk_network_participants_name_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_participants'))
    )
    with op.batch_alter_table('network_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_participants_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('network_voices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['network_meetings.meeting_id'], name=op.f('fk_network_voices_meeting_id_network_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_network_voices_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_voices'))
    )
    with op.batch_alter_table('network_voices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_voices_meeting_id'), ['meeting_id'], unique=False)

    op.create_table('network_invitation_letters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_network_invitation_letters_created_by_id_users')),
    sa.ForeignKeyConstraint(['meeting_id'], ['network_meetings.meeting_id'], name=op.f('fk_network_invitation_letters_meeting_id_network_meetings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['network_participants.id'], name=op.f('fk_network_invitation_letters_participant_id_network_participants')),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], name=op.f('fk_network_invitation_letters_record_id_records')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_invitation_letters'))
    )
    with op.batch_alter_table('network_invitation_letters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_network_invitation_letters_meeting_id'), ['meeting_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('network_invitation_letters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_invitation_letters_meeting_id'))

    op.drop_table('network_invitation_letters')
    with op.batch_alter_table('network_voices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_voices_meeting_id'))

    op.drop_table('network_voices')
    with op.batch_alter_table('network_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_participants_meeting_id'))

    op.drop_table('network_participants')
    with op.batch_alter_table('network_meetings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_network_meetings_child_id'))

    op.drop_table('network_meetings')
