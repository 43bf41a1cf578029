"""document: PDFs waiting in the outbox

The referat, an overview or a referral draft, decided in an update's transaction and sent
by the scheduler (outbox kind "document"). `filename`, `caption`, `pdf` and `source` are
PersonalText / PersonalBytes (encrypted with DATA_KEY); the table is new and empty.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 21:46:58.456256
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('dialog_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('filename', storage.types.PersonalText(), nullable=False),
    sa.Column('caption', storage.types.PersonalText(), nullable=False),
    sa.Column('pdf', storage.types.PersonalBytes(), nullable=True),
    sa.Column('source', storage.types.PersonalBytes(), nullable=True),
    sa.Column('protect', sa.Boolean(), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['dialog_id'], ['dialog.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True,
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_dialog_id'), ['dialog_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_dialog_id'))

    op.drop_table('document')
