"""participant: the Telegram account that opened the link, and when the coordinator removed the seat

`opened_by` is PersonalText (encrypted with DATA_KEY); no row holds one before this
revision, so there is nothing to convert.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 22:15:00
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opened_by', storage.types.PersonalText(), nullable=True))
        batch_op.add_column(sa.Column('removed_at', storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('removed_at')
        batch_op.drop_column('opened_by')
