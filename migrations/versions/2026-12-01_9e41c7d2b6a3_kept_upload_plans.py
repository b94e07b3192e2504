"""kept uploads keep their plan: what the import would do, and the register it was made against

Revision ID: 9e41c7d2b6a3
Revises: 2a4e806febee
Create Date: 2026-12-01 04:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9e41c7d2b6a3'
down_revision = '2a4e806febee'
branch_labels = None
depends_on = None


def upgrade():
    # Uploads kept from before have no plan: their next preview or confirmation makes one from the file.
    with op.batch_alter_table('kept_uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('plan_options', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('register_version', sa.String(length=64), nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('kept_uploads', schema=None) as batch_op:
        batch_op.drop_column('register_version')
        batch_op.drop_column('plan_options')
        batch_op.drop_column('plan')
