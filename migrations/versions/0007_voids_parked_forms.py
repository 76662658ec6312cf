"""voided assessments, forms parked across an ended session

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 08:00:00.000000

An assessment can be voided (kept, left out of reports): who, when and a sealed reason; its
report fact is deleted then, so ``fact_id`` of assessments and follow-ups may be NULL. A form
sent after the login session ended is kept sealed in ``parked_forms`` until its author logs in.
Batch mode rebuilds ``assessments`` and ``follow_ups`` on SQLite; the report triggers are on
``report_facts`` and are not touched.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.alter_column('fact_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('voided_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('void_reason_sealed', sa.LargeBinary(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_assessments_voided_by_staff'), 'staff',
                                    ['voided_by'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.alter_column('fact_id', existing_type=sa.Integer(), nullable=True)
    op.create_table(
        'parked_forms',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('uuid', sa.String(length=36), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=False),
        sa.Column('patient_id', sa.Integer(), nullable=True),
        sa.Column('endpoint', sa.String(length=64), nullable=False),
        sa.Column('path', sa.String(length=255), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('fields_sealed', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                                name=op.f('fk_parked_forms_staff_id_staff'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name=op.f('fk_parked_forms_patient_id_patients'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_parked_forms')),
        sa.UniqueConstraint('uuid', name=op.f('uq_parked_forms_uuid')),
    )
    op.create_index(op.f('ix_parked_forms_staff_id'), 'parked_forms', ['staff_id'])
    op.create_index(op.f('ix_parked_forms_expires_at'), 'parked_forms', ['expires_at'])
    op.create_index(op.f('ix_parked_forms_patient_id'), 'parked_forms', ['patient_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_parked_forms_patient_id'), table_name='parked_forms')
    op.drop_index(op.f('ix_parked_forms_expires_at'), table_name='parked_forms')
    op.drop_index(op.f('ix_parked_forms_staff_id'), table_name='parked_forms')
    op.drop_table('parked_forms')
    # A voided assessment has no report fact; it cannot be kept by the older schema.
    op.execute('DELETE FROM follow_ups WHERE fact_id IS NULL')
    op.execute('DELETE FROM assessments WHERE fact_id IS NULL')
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.alter_column('fact_id', existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessments_voided_by_staff'),
                                 type_='foreignkey')
        batch_op.drop_column('void_reason_sealed')
        batch_op.drop_column('voided_by')
        batch_op.drop_column('voided_at')
        batch_op.alter_column('fact_id', existing_type=sa.Integer(), nullable=False)
