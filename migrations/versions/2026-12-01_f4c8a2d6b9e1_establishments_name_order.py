"""establishments in name order: the tracker's default sort reads its first pages from an index

Revision ID: f4c8a2d6b9e1
Revises: e7b2c4a9d1f3
Create Date: 2026-12-01 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f4c8a2d6b9e1'
down_revision = 'e7b2c4a9d1f3'
branch_labels = None
depends_on = None


def upgrade():
    # PostgreSQL only, as in the model: SQLite cannot reflect an index on an expression, and its databases
    # are the small ones.
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.create_index(
        'ix_establishments_name_order', 'establishments', [sa.text('lower(name)'), 'name', 'id'], unique=False
    )


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.drop_index('ix_establishments_name_order', table_name='establishments')
