"""late participants approval and revoked invitations

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 19:59:49.390089
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('approval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dialog_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('approver_id', sa.Integer(), nullable=False),
    sa.Column('approved', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['approver_id'], ['participant.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dialog_id'], ['dialog.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('participant_id', 'approver_id')
    )
    with op.batch_alter_table('approval', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_approval_dialog_id'), ['dialog_id'], unique=False)

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', storage.types.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('approval', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('approval')

    with op.batch_alter_table('invitation', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')

    with op.batch_alter_table('approval', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_approval_dialog_id'))

    op.drop_table('approval')
