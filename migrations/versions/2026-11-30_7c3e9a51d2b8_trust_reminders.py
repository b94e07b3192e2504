"""trust reminders: a reminder chases an establishment or a trust

Revision ID: 7c3e9a51d2b8
Revises: 36d97569d5eb
Create Date: 2026-11-30 23:55:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e9a51d2b8'
down_revision = '36d97569d5eb'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.add_column(sa.Column('trust_id', sa.Integer(), nullable=True))
        batch_op.alter_column('establishment_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_reminders_trust_id'), ['trust_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_reminders_trust_id_trusts'), 'trusts', ['trust_id'], ['id'])


def downgrade():
    with op.batch_alter_table('reminders', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_reminders_trust_id_trusts'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_reminders_trust_id'))
        batch_op.alter_column('establishment_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('trust_id')
