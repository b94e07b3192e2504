"""drop the indexes that a unique constraint's index already serves (it leads with the same column)

answers.response_id, section_progress.response_id, assignments.cycle_id and action_items.cycle_id each
had an index of their own beside a unique constraint that starts with the same column: every row
written filled both, and no query needs the single-column one.

Revision ID: 425c81706854
Revises: d3a7c9e1f5b2
Create Date: 2026-12-01 07:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '425c81706854'
down_revision = 'd3a7c9e1f5b2'
branch_labels = None
depends_on = None

INDEXES = [
    ('answers', 'ix_answers_response_id', 'response_id'),
    ('section_progress', 'ix_section_progress_response_id', 'response_id'),
    ('assignments', 'ix_assignments_cycle_id', 'cycle_id'),
    ('action_items', 'ix_action_items_cycle_id', 'cycle_id'),
]


def upgrade():
    for table, name, _column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)


def downgrade():
    for table, name, column in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, [column], unique=False)
