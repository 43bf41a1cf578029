"""coordinator desk and handover: desk_mark

`desk_mark`: per dialog, the newest safeguarding alert (score id), message from the family
(outbox id) and "talk to the coordinator first" consent answer (consent id) the coordinator
marked as seen on their desk (`/dialoger`). Ids only; the table is new and empty. Handing a
dialog over changes existing columns only (dialog.coordinator_id, the coordinator's seat).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 00:20:00
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('desk_mark',
    sa.Column('dialog_id', sa.Integer(), nullable=False),
    sa.Column('alert_score_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('consent_id', sa.Integer(), nullable=True),
    sa.Column('seen_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['dialog_id'], ['dialog.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('dialog_id'),
    )


def downgrade() -> None:
    op.drop_table('desk_mark')
