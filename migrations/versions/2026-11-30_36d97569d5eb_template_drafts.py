"""template drafts: the next version of a template while the lead edits it in the browser

Revision ID: 36d97569d5eb
Revises: 1b0002e54180
Create Date: 2026-11-30 23:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '36d97569d5eb'
down_revision = '1b0002e54180'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('template_drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('based_on_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['based_on_id'], ['audit_templates.id'], name=op.f('fk_template_drafts_based_on_id_audit_templates'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_template_drafts_created_by_id_users')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_template_drafts_updated_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_template_drafts')),
    sa.UniqueConstraint('key', name=op.f('uq_template_drafts_key'))
    )
    with op.batch_alter_table('template_drafts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_template_drafts_based_on_id'), ['based_on_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_template_drafts_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_template_drafts_updated_by_id'), ['updated_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('template_drafts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_template_drafts_updated_by_id'))
        batch_op.drop_index(batch_op.f('ix_template_drafts_created_by_id'))
        batch_op.drop_index(batch_op.f('ix_template_drafts_based_on_id'))
    op.drop_table('template_drafts')
