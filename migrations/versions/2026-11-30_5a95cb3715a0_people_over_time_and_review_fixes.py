"""People over time and the security review's fixes

Kept input belongs to one person in one browser; wrong second-factor codes are counted
per account; a password reset for an unknown email stores a spent token with no user.

Revision ID: 5a95cb3715a0
Revises: a18204800f77
Create Date: 2026-11-30 23:45:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5a95cb3715a0'
down_revision = 'a18204800f77'
branch_labels = None
depends_on = None


def upgrade():
    # Kept input lasts a day and had no owner: none of it can be given back safely.
    op.execute("DELETE FROM kept_inputs")
    with op.batch_alter_table('kept_inputs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('browser_hash', sa.String(length=64), nullable=False))
        batch_op.create_index(batch_op.f('ix_kept_inputs_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_kept_inputs_user_id_users'), 'users', ['user_id'], ['id'],
                                    ondelete='CASCADE')


    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_failures', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('code_locked_until', sa.DateTime(timezone=True), nullable=True))

    # A reset asked for an unknown email writes a spent stand-in token with no user.
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)


def downgrade():
    op.execute("DELETE FROM account_tokens WHERE user_id IS NULL")
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('code_locked_until')
        batch_op.drop_column('code_failures')
    with op.batch_alter_table('kept_inputs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_kept_inputs_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_kept_inputs_user_id'))
        batch_op.drop_column('browser_hash')
        batch_op.drop_column('user_id')
