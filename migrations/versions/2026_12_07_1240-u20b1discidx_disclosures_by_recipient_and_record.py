"""disclosures by recipient and record

Revision ID: u20b1discidx
Revises: n17a01network
Create Date: 2026-12-07 12:40:00

A reveal reads the live disclosures of a page's records to the viewer's agency
(``record_id = ANY(...) AND recipient_agency_id = ...``). With the record ids as an array
literal PostgreSQL estimated that condition poorly and chose a bitmap scan of every disclosure
to the agency by ``ix_disclosures_recipient_agency_id`` (thousands of rows for a police
authority), filtering the page's few out. An index on (recipient, record) answers both
conditions and serves every query by recipient alone, so it replaces the one-column index.
"""

from collections.abc import Sequence

from alembic import op


revision: str = 'u20b1discidx'
down_revision: str | None = 'n17a01network'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        'ix_disclosures_recipient_record',
        'disclosures',
        ['recipient_agency_id', 'record_id'],
        unique=False,
    )
    op.drop_index('ix_disclosures_recipient_agency_id', table_name='disclosures')


def downgrade() -> None:
    op.create_index(
        'ix_disclosures_recipient_agency_id', 'disclosures', ['recipient_agency_id'], unique=False
    )
    op.drop_index('ix_disclosures_recipient_record', table_name='disclosures')
