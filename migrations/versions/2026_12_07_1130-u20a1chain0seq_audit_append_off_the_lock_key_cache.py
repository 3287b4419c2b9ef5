"""audit append off the lock, and the key cache's generation

Events are inserted unchained and chained later by the sequencer; ``key_generations`` holds
the number that every worker's cache of unwrapped agency keys compares with its own.

Revision ID: u20a1chain0seq
Revises: g18a1agerules
Create Date: 2026-12-07 11:30:00

``audit_events.seq`` becomes the event's id, given by the table's sequence at insert; the chain
position moves to ``chain_position`` (null until the sequencer chains the event), beside the
now nullable ``prev_hash``/``hash`` and the new ``chained_at``. Every existing event is chained
already and keeps its numbers: its position is its id, so its hash (which covers the position)
and the checkpoints (which name positions) hold unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import coordination.db


revision: str = 'u20a1chain0seq'
down_revision: str | None = 'g18a1agerules'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    key_generations = op.create_table('key_generations',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('generation', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_generations'))
    )
    op.bulk_insert(key_generations, [{'id': 1, 'generation': 1}])
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain_position', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('chained_at', coordination.db.UTCDateTime(timezone=True), nullable=True)
        )
    op.execute('UPDATE audit_events SET chain_position = seq, chained_at = occurred_at')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=True)
        batch_op.create_unique_constraint(
            batch_op.f('uq_audit_events_chain_position'), ['chain_position']
        )
        batch_op.create_index(
            'ix_audit_events_unchained',
            ['seq'],
            unique=False,
            postgresql_where=sa.text('chain_position IS NULL'),
            sqlite_where=sa.text('chain_position IS NULL'),
        )
    if op.get_bind().dialect.name == 'postgresql':
        # What SERIAL would have made: a sequence owned by the column, continuing after the
        # last event. (SQLite's INTEGER PRIMARY KEY numbers new rows by itself.)
        op.execute('CREATE SEQUENCE audit_events_seq_seq OWNED BY audit_events.seq')
        op.execute(
            "SELECT setval('audit_events_seq_seq', COALESCE((SELECT max(seq) FROM audit_events), 0) + 1, false)"
        )
        op.execute(
            "ALTER TABLE audit_events ALTER COLUMN seq SET DEFAULT nextval('audit_events_seq_seq')"
        )


def downgrade() -> None:
    bind = op.get_bind()
    renumbered = bind.execute(
        sa.text(
            'SELECT count(*) FROM audit_events '
            'WHERE chain_position IS NULL OR chain_position <> seq'
        )
    ).scalar()
    if renumbered:
        raise RuntimeError(
            'the audit log has events chained by the sequencer (or not yet chained): their '
            'ids are not their chain positions, which the earlier schema cannot hold'
        )
    if bind.dialect.name == 'postgresql':
        op.execute('ALTER TABLE audit_events ALTER COLUMN seq DROP DEFAULT')
        op.execute('DROP SEQUENCE audit_events_seq_seq')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_audit_events_unchained',
            postgresql_where=sa.text('chain_position IS NULL'),
            sqlite_where=sa.text('chain_position IS NULL'),
        )
        batch_op.drop_constraint(batch_op.f('uq_audit_events_chain_position'), type_='unique')
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_column('chained_at')
        batch_op.drop_column('chain_position')
    op.drop_table('key_generations')
