"""patient search terms and recently opened patients

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:00:00.000000

``patient_search_terms`` holds keyed 16-bit terms of each patient's name prefixes and birth
date (screening/services/search_terms.py); ``recent_patients`` the patients each staff
member opened last. The terms need the key file and every patient's name opened, which a
migration has no business doing: after upgrading a database that already holds patients,
run ``flask --app wsgi patients reindex`` (``make run`` does) to index them; until then
they are found by fødselsnummer only.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'patient_search_terms',
        sa.Column('unit_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('term', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('patient_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name=op.f('fk_patient_search_terms_patient_id_patients'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'],
                                name=op.f('fk_patient_search_terms_unit_id_units')),
        sa.PrimaryKeyConstraint('unit_id', 'term', 'patient_id',
                                name=op.f('pk_patient_search_terms')),
    )
    with op.batch_alter_table('patient_search_terms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patient_search_terms_patient_id'), ['patient_id'],
                              unique=False)

    op.create_table(
        'recent_patients',
        sa.Column('staff_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('patient_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                                name=op.f('fk_recent_patients_patient_id_patients'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['staff.id'],
                                name=op.f('fk_recent_patients_staff_id_staff'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('staff_id', 'patient_id', name=op.f('pk_recent_patients')),
    )
    with op.batch_alter_table('recent_patients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recent_patients_patient_id'), ['patient_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('recent_patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recent_patients_patient_id'))
    op.drop_table('recent_patients')
    with op.batch_alter_table('patient_search_terms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patient_search_terms_patient_id'))
    op.drop_table('patient_search_terms')
