"""contact details of coordinators

A coordinator's phone, e-mail and when they can be reached, on `person`: three nullable
PersonalText columns (encrypted with DATA_KEY), set by the coordinator in the bot and shown
to the families of their dialogs (the consent card, help, the invitation letter, "Contact
the coordinator").

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 00:20:00
"""
from alembic import op
import sqlalchemy as sa
import storage.types


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_phone', storage.types.PersonalText(), nullable=True))
        batch_op.add_column(sa.Column('contact_email', storage.types.PersonalText(), nullable=True))
        batch_op.add_column(sa.Column('contact_hours', storage.types.PersonalText(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('person', schema=None) as batch_op:
        batch_op.drop_column('contact_hours')
        batch_op.drop_column('contact_email')
        batch_op.drop_column('contact_phone')
