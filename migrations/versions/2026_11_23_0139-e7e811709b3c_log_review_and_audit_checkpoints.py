"""log review and audit checkpoints

Revision ID: e7e811709b3c
Revises: 5f6de4fa613b
Create Date: 2026-11-23 01:39:26.310832

Adds the object index of the audit log (backfilled from the events already written), the
signed chain checkpoints and the monthly log review sign-offs.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 'e7e811709b3c'
down_revision: str | None = '5f6de4fa613b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL_BATCH = 5000


def upgrade() -> None:
    op.create_table('audit_checkpoints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('chain_hash', sa.String(length=64), nullable=False),
    sa.Column('signed_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('public_key', sa.String(length=64), nullable=False),
    sa.Column('signature', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_checkpoints'))
    )
    with op.batch_alter_table('audit_checkpoints', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_checkpoints_seq'), ['seq'], unique=False)

    op.create_table('log_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('signed_by_id', sa.Integer(), nullable=False),
    sa.Column('signed_at', coordination.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('outcome', sa.Enum('inga_avvikelser', 'avvikelser_utredda', 'avvikelser_rapporterade', name='review_outcome', native_enum=False, create_constraint=True, length=40), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_log_reviews_agency_id_agencies')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_log_reviews_signed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_log_reviews')),
    sa.UniqueConstraint('agency_id', 'month', name=op.f('uq_log_reviews_agency_id_month'))
    )
    op.create_table('audit_event_objects',
    sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['seq'], ['audit_events.seq'], name=op.f('fk_audit_event_objects_seq_audit_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('seq', 'object_type', 'object_id', name=op.f('pk_audit_event_objects'))
    )
    with op.batch_alter_table('audit_event_objects', schema=None) as batch_op:
        batch_op.create_index(op.f('ix_audit_event_objects_object_type_object_id'), ['object_type', 'object_id'], unique=False)

    _backfill_event_objects()


def _is_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _indexed_objects(object_type: str | None, object_ids: Any, details: Any) -> set[tuple[str, int]]:
    # A frozen copy of coordination.audit.log.indexed_objects as of this revision.
    pairs = {(object_type, i) for i in object_ids or [] if _is_id(i)} if object_type else set()
    for key in ('child_id', 'child_ids'):
        value = (details or {}).get(key)
        for child_id in value if isinstance(value, list) else [value]:
            if _is_id(child_id):
                pairs.add(('child', child_id))
    return pairs


def _backfill_event_objects() -> None:
    """Index the events written before this revision, as record_event does for new ones."""
    events = sa.table(
        'audit_events',
        sa.column('seq', sa.Integer),
        sa.column('object_type', sa.String),
        sa.column('object_ids', sa.JSON),
        sa.column('details', sa.JSON),
    )
    objects = sa.table(
        'audit_event_objects',
        sa.column('seq', sa.Integer),
        sa.column('object_type', sa.String),
        sa.column('object_id', sa.Integer),
    )
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(events).where(events.c.seq > last).order_by(events.c.seq).limit(BACKFILL_BATCH)
        ).all()
        if not rows:
            return
        values = [
            {'seq': row.seq, 'object_type': object_type, 'object_id': object_id}
            for row in rows
            for object_type, object_id in sorted(
                _indexed_objects(row.object_type, row.object_ids, row.details)
            )
        ]
        if values:
            bind.execute(sa.insert(objects), values)
        last = rows[-1].seq


def downgrade() -> None:
    with op.batch_alter_table('audit_event_objects', schema=None) as batch_op:
        batch_op.drop_index(op.f('ix_audit_event_objects_object_type_object_id'))

    op.drop_table('audit_event_objects')
    op.drop_table('log_reviews')
    with op.batch_alter_table('audit_checkpoints', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_checkpoints_seq'))

    op.drop_table('audit_checkpoints')
