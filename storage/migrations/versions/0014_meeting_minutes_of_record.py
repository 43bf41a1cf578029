"""meeting minutes of record

Closing a meeting records who was there and what was discussed and decided; the
referat is reissued when the family agrees a plan after the meeting. Adds:
- `meeting_attendance` (meeting, participant, status present | apologies | absent), new and empty;
- `meeting.summary` (PersonalText: encrypted with DATA_KEY), `meeting.referat_edition`
  (0 on existing rows) and `meeting.referat_made_at`;
- `dialog.case_ref`, the municipality's case reference (PersonalText).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 00:20:00
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('meeting_attendance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('meeting_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.ForeignKeyConstraint(['meeting_id'], ['meeting.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['participant_id'], ['participant.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('meeting_id', 'participant_id')
    )
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary', storage.types.PersonalText(), nullable=True))
        batch_op.add_column(sa.Column('referat_edition', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('referat_made_at', storage.types.UTCDateTime(timezone=True),
                                      nullable=True))
    with op.batch_alter_table('dialog', schema=None) as batch_op:
        batch_op.add_column(sa.Column('case_ref', storage.types.PersonalText(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('dialog', schema=None) as batch_op:
        batch_op.drop_column('case_ref')
    with op.batch_alter_table('meeting', schema=None) as batch_op:
        batch_op.drop_column('referat_made_at')
        batch_op.drop_column('referat_edition')
        batch_op.drop_column('summary')
    op.drop_table('meeting_attendance')
