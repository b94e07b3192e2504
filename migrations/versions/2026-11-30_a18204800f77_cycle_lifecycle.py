"""Cycles over time: draft and archived states, when a cycle closed, per-establishment extensions, and the day
an establishment that closed left a cycle's counts

Revision ID: a18204800f77
Revises: e4a1c7b2d9f3
Create Date: 2026-11-30 23:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a18204800f77'
down_revision = 'e4a1c7b2d9f3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.alter_column(
            'state',
            existing_type=sa.Enum('open', 'closed', name='cyclestate', native_enum=False, length=20),
            type_=sa.Enum('draft', 'open', 'closed', 'archived', name='cyclestate', native_enum=False, length=20),
            existing_nullable=False,
        )
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('left_on', sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table('assignments', schema=None) as batch_op:
        batch_op.drop_column('left_on')
        batch_op.drop_column('due_on')
    with op.batch_alter_table('cycles', schema=None) as batch_op:
        batch_op.alter_column(
            'state',
            existing_type=sa.Enum('draft', 'open', 'closed', 'archived', name='cyclestate', native_enum=False, length=20),
            type_=sa.Enum('open', 'closed', name='cyclestate', native_enum=False, length=20),
            existing_nullable=False,
        )
        batch_op.drop_column('closed_at')
