"""each response keeps how many of its sections are completed: the tracker sorts by it without counting

Revision ID: a8e3d5c1b7f9
Revises: f4c8a2d6b9e1
Create Date: 2026-12-01 21:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a8e3d5c1b7f9'
down_revision = 'f4c8a2d6b9e1'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'responses', sa.Column('sections_completed', sa.Integer(), server_default='0', nullable=False)
    )
    # Counted from the progress already saved, so the figure is right from the first page after the upgrade.
    op.execute(
        "UPDATE responses SET sections_completed = ("
        "SELECT count(*) FROM section_progress"
        " WHERE section_progress.response_id = responses.id AND section_progress.state = 'completed')"
        " WHERE EXISTS (SELECT 1 FROM section_progress WHERE section_progress.response_id = responses.id)"
    )


def downgrade():
    with op.batch_alter_table('responses') as batch_op:
        batch_op.drop_column('sections_completed')
