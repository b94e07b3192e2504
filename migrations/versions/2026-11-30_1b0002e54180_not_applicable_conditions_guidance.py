"""Questions may allow Not applicable, be asked only on a condition, and cite guidance

Revision ID: 1b0002e54180
Revises: e4a1c7b2d9f3
Create Date: 2026-11-30 23:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1b0002e54180'
down_revision = 'e4a1c7b2d9f3'
branch_labels = None
depends_on = None


def upgrade():
    # server defaults fill the rows of versions stored before these fields existed
    with op.batch_alter_table('template_questions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_applicable', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('condition', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('guidance', sa.JSON(), nullable=False, server_default='[]'))


def downgrade():
    with op.batch_alter_table('template_questions', schema=None) as batch_op:
        batch_op.drop_column('guidance')
        batch_op.drop_column('condition')
        batch_op.drop_column('not_applicable')
