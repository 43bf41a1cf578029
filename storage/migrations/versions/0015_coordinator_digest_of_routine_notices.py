"""coordinator digest of routine notices

Adds `notice_preference` (one row per coordinator who chose how to get their routine
notices: 'digest' at local times, or 'at_once'; no row means the defaults
COORDINATOR_NOTICES and DIGEST_TIMES) and the partial index `ix_outbox_held` on the
outbox rows held for a digest (status 'held', by the time the digest goes). No
existing row changes: a held row is a new status of the outbox.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 00:20:00
"""
import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('notice_preference',
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('digest_times', sa.String(length=40), nullable=True),
    sa.Column('updated_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id'),
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_held', ['due_at'], unique=False,
                              sqlite_where=sa.text("status = 'held'"), postgresql_where=sa.text("status = 'held'"))


def downgrade() -> None:
    # Held notices go out at once rather than never.
    op.execute("UPDATE outbox SET status = 'pending' WHERE status = 'held'")
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_held', sqlite_where=sa.text("status = 'held'"),
                            postgresql_where=sa.text("status = 'held'"))
    op.drop_table('notice_preference')
