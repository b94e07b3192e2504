"""kept uploads in the database

Revision ID: 30b7cd05e429
Revises: f84448744e11
Create Date: 2026-11-30 23:59:00

An import file kept between its preview and its confirmation moves from the receiving host's
instance folder to the database, so that behind a load balancer any host can confirm it.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '30b7cd05e429'
down_revision = 'f84448744e11'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kept_uploads',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_kept_uploads_owner_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kept_uploads')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_kept_uploads_token_hash'))
    )
    with op.batch_alter_table('kept_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kept_uploads_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_kept_uploads_uploaded_at'), ['uploaded_at'], unique=False)


def downgrade():
    with op.batch_alter_table('kept_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kept_uploads_uploaded_at'))
        batch_op.drop_index(batch_op.f('ix_kept_uploads_owner_id'))
    op.drop_table('kept_uploads')
