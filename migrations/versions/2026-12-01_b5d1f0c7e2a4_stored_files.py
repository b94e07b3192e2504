"""stored files: files kept in the database in 1 MB pieces, so that no step holds one whole; jobs keep theirs there

A job's file made before this change is not carried over: such files are exports kept for seven days at
most, and the job's page says the file is no longer kept (the lead starts the export again).

Revision ID: b5d1f0c7e2a4
Revises: 9e41c7d2b6a3
Create Date: 2026-12-01 06:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5d1f0c7e2a4'
down_revision = '9e41c7d2b6a3'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'stored_files',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stored_files')),
        sqlite_autoincrement=True,
    )
    op.create_table(
        'stored_file_pieces',
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ['file_id'], ['stored_files.id'], name=op.f('fk_stored_file_pieces_file_id_stored_files'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('file_id', 'number', name=op.f('pk_stored_file_pieces')),
    )
    op.execute("UPDATE jobs SET file_name = '', file_type = '' WHERE file_data IS NOT NULL")
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_jobs_file_id_stored_files'), 'stored_files', ['file_id'], ['id'], ondelete='SET NULL'
        )
        batch_op.drop_column('file_data')


def downgrade():
    op.execute("UPDATE jobs SET file_name = '', file_type = '' WHERE file_id IS NOT NULL")
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_data', sa.LargeBinary(), nullable=True))
        batch_op.drop_constraint(batch_op.f('fk_jobs_file_id_stored_files'), type_='foreignkey')
        batch_op.drop_column('file_id')
    op.drop_table('stored_file_pieces')
    op.drop_table('stored_files')
