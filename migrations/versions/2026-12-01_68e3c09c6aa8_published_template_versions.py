"""published template versions: a version published in the editor is frozen

Revision ID: 68e3c09c6aa8
Revises: 7c3e9a51d2b8
Create Date: 2026-12-01 03:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '68e3c09c6aa8'
down_revision = '7c3e9a51d2b8'
branch_labels = None
depends_on = None


def upgrade():
    # Versions stored before now count as published: nobody can tell which the editor published, and a
    # frozen version only means a later change is stored as the next version.
    # The default is the literal '1' (true in both engines), not sa.true(): with an expression, batch mode on
    # SQLite copies the table, and dropping the old one with foreign keys on would delete every version's
    # sections and questions (ON DELETE CASCADE).
    with op.batch_alter_table('audit_templates', schema=None) as batch_op:
        batch_op.add_column(sa.Column('published', sa.Boolean(), server_default='1', nullable=False))


def downgrade():
    # Not in batch mode, for the same reason: SQLite (3.35 and later) and PostgreSQL both drop a plain
    # column in place.
    op.drop_column('audit_templates', 'published')
