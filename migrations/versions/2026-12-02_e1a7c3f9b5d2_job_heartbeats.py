"""job heartbeats: a running job's worker beats every few seconds, so a lost one is known in a minute or two

Revision ID: e1a7c3f9b5d2
Revises: b9d4e6a2c8f1
Create Date: 2026-12-02 18:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e1a7c3f9b5d2'
down_revision = 'b9d4e6a2c8f1'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_heartbeats',
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('run', sa.Integer(), nullable=False),
        sa.Column('beat_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['job_id'], ['jobs.id'], name=op.f('fk_job_heartbeats_job_id_jobs'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('job_id', name=op.f('pk_job_heartbeats')),
    )


def downgrade():
    op.drop_table('job_heartbeats')
