"""refused jobs: a job the work itself declined is not offered to run again

Revision ID: e7b2c4a9d1f3
Revises: 425c81706854
Create Date: 2026-12-01 11:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7b2c4a9d1f3'
down_revision = '425c81706854'
branch_labels = None
depends_on = None


def upgrade():
    # Jobs that failed before now keep their offer to run again: nobody can tell which were refusals.
    # The default is the literal '0' (false in both engines), so SQLite adds the column in place.
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('refused', sa.Boolean(), server_default='0', nullable=False))


def downgrade():
    op.drop_column('jobs', 'refused')
