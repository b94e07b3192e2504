"""kept uploads in stored files: a register upload kept between preview and confirmation is kept in pieces

Uploads already kept are moved into stored files, so a preview open during the upgrade can still be confirmed.

Revision ID: d3a7c9e1f5b2
Revises: b5d1f0c7e2a4
Create Date: 2026-12-01 07:10:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd3a7c9e1f5b2'
down_revision = 'b5d1f0c7e2a4'
branch_labels = None
depends_on = None

PIECE_SIZE = 1 << 20


def upgrade():
    with op.batch_alter_table('kept_uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('file_id', sa.Integer(), nullable=True))
    connection = op.get_bind()
    files = sa.table('stored_files', sa.column('id', sa.Integer), sa.column('size', sa.Integer),
                     sa.column('created_at', sa.DateTime(timezone=True)))
    pieces = sa.table('stored_file_pieces', sa.column('file_id', sa.Integer), sa.column('number', sa.Integer),
                      sa.column('data', sa.LargeBinary))
    kept = sa.table('kept_uploads', sa.column('id', sa.Integer), sa.column('data', sa.LargeBinary),
                    sa.column('file_id', sa.Integer))
    for upload_id in connection.execute(sa.select(kept.c.id)).scalars().all():
        data = connection.execute(sa.select(kept.c.data).where(kept.c.id == upload_id)).scalar() or b""
        file_id = connection.execute(
            files.insert().values(size=len(data), created_at=datetime.now(timezone.utc)).returning(files.c.id)
        ).scalar_one()
        for number, start in enumerate(range(0, len(data), PIECE_SIZE)):
            connection.execute(pieces.insert().values(file_id=file_id, number=number, data=data[start:start + PIECE_SIZE]))
        connection.execute(kept.update().where(kept.c.id == upload_id).values(file_id=file_id))
    with op.batch_alter_table('kept_uploads', schema=None) as batch_op:
        batch_op.alter_column('file_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_index(batch_op.f('ix_kept_uploads_file_id'), ['file_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_kept_uploads_file_id_stored_files'), 'stored_files', ['file_id'], ['id'], ondelete='CASCADE'
        )
        batch_op.drop_column('data')


def downgrade():
    with op.batch_alter_table('kept_uploads', schema=None) as batch_op:
        batch_op.add_column(sa.Column('data', sa.LargeBinary(), nullable=True))
    connection = op.get_bind()
    pieces = sa.table('stored_file_pieces', sa.column('file_id', sa.Integer), sa.column('number', sa.Integer),
                      sa.column('data', sa.LargeBinary))
    kept = sa.table('kept_uploads', sa.column('id', sa.Integer), sa.column('data', sa.LargeBinary),
                    sa.column('file_id', sa.Integer))
    for upload_id, file_id in connection.execute(sa.select(kept.c.id, kept.c.file_id)).all():
        data = b"".join(
            connection.execute(
                sa.select(pieces.c.data).where(pieces.c.file_id == file_id).order_by(pieces.c.number)
            ).scalars()
        )
        connection.execute(kept.update().where(kept.c.id == upload_id).values(data=data))
    with op.batch_alter_table('kept_uploads', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_kept_uploads_file_id_stored_files'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_kept_uploads_file_id'))
        batch_op.drop_column('file_id')
        batch_op.alter_column('data', existing_type=sa.LargeBinary(), nullable=False)
    op.execute("DELETE FROM stored_files WHERE id NOT IN (SELECT file_id FROM jobs WHERE file_id IS NOT NULL)")
