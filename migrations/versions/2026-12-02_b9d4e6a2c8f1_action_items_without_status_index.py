"""action items without an index on status: no query can use it, and every action written fills it

The only filter on an action's status is the overdue list's "not done", which an index on the status
cannot serve (nearly every action is not done); the list reads by cycle and target date. The index cost
every action the import writes (a national cycle's 231,000) and every save.

Revision ID: b9d4e6a2c8f1
Revises: c6f2a9d4e8b1
Create Date: 2026-12-02 18:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'b9d4e6a2c8f1'
down_revision = 'c6f2a9d4e8b1'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_action_items_status', table_name='action_items')


def downgrade():
    op.create_index('ix_action_items_status', 'action_items', ['status'], unique=False)
