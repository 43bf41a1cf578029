"""participants without telegram

A participant who takes part without Telegram (a young person under 16, a grandparent without a
smartphone): `participant.offline` (false for every existing seat). The coordinator enters their
consent, input and number on the ruler for them, and that is stored as a fact:
`consent.recorded_by_id` and `consent.given_how` ('oral' | 'paper'), `input_entry.written_by_id`,
`score.written_by_id` (the coordinator's person id; no foreign key, as in the audit log; NULL
everywhere before this revision: everything so far was written by the participants themselves).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 00:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offline', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('given_how', sa.String(length=8), nullable=True))
    with op.batch_alter_table('input_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('written_by_id', sa.Integer(), nullable=True))
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.add_column(sa.Column('written_by_id', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('score', schema=None) as batch_op:
        batch_op.drop_column('written_by_id')
    with op.batch_alter_table('input_entry', schema=None) as batch_op:
        batch_op.drop_column('written_by_id')
    with op.batch_alter_table('consent', schema=None) as batch_op:
        batch_op.drop_column('given_how')
        batch_op.drop_column('recorded_by_id')
    with op.batch_alter_table('participant', schema=None) as batch_op:
        batch_op.drop_column('offline')
