"""section progress indexed by response and state: the tracker counts completed sections from the index

Revision ID: c4f1a7e2d953
Revises: d3a7c9e1f5b2
Create Date: 2026-12-01 07:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4f1a7e2d953'
down_revision = 'd3a7c9e1f5b2'
branch_labels = None
depends_on = None


def upgrade():
    # The new index starts with response_id, so it replaces the index on response_id alone.
    with op.batch_alter_table('section_progress', schema=None) as batch_op:
        batch_op.create_index('ix_section_progress_response_id_state', ['response_id', 'state'], unique=False)
        batch_op.drop_index(batch_op.f('ix_section_progress_response_id'))


def downgrade():
    with op.batch_alter_table('section_progress', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_section_progress_response_id'), ['response_id'], unique=False)
        batch_op.drop_index('ix_section_progress_response_id_state')
