"""referrals; follow-up outcomes, responsible clinician, rescheduling

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:00:00.000000

``referrals`` holds a pathway sent to a receiving unit with the patient's consent, and its
answer (screening/models/referrals.py). From this revision an accepted referral is what
gives a unit other than the patient's own access to the patient; before it, any follow-up
assigned to a unit did. So that access of the old kind keeps working, and says why, every
follow-up assigned to another unit than the patient's becomes an accepted referral here:
consent and reason not recorded (NULL: they were never asked for), sent and accepted when
the follow-up was made, by nobody (the app made it). The patient page shows such a
referral as made before referrals existed.

``follow_ups``: ``status`` ``done`` becomes ``closed`` with the outcome ``done``; new
columns ``outcome``, ``responsible_id`` and ``rescheduled_from_id``.

Downgrade: ``referrals`` is dropped (a referral not yet accepted is lost; an accepted one
left a follow-up, which the old rule reads as access); closed follow-ups become ``done``
whatever their outcome was.
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

PATHWAYS = "('elder_care', 'gp', 'substance_use_consultant', 'specialist_referral')"
OUTCOMES = "('done', 'not_reached', 'declined', 'rescheduled')"
STATUSES = "('sent', 'accepted', 'returned', 'consent_refused', 'external', 'withdrawn')"


def upgrade() -> None:
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_follow_ups_status'), type_='check')
        batch_op.add_column(sa.Column('outcome', sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column('responsible_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('rescheduled_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_responsible_id_staff'), 'staff',
                                    ['responsible_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_follow_ups_rescheduled_from_id_follow_ups'),
                                    'follow_ups', ['rescheduled_from_id'], ['id'],
                                    ondelete='SET NULL')
        batch_op.create_index(batch_op.f('ix_follow_ups_responsible_id'), ['responsible_id'],
                              unique=False)
    op.execute("UPDATE follow_ups SET status = 'closed', outcome = 'done' WHERE status = 'done'")
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_check_constraint(
            batch_op.f('ck_follow_ups_status'), "status IN ('open', 'closed', 'cancelled')")
        batch_op.create_check_constraint(batch_op.f('ck_follow_ups_outcome'),
                                         f"outcome IN {OUTCOMES}")
        batch_op.create_check_constraint(batch_op.f('ck_follow_ups_closed_outcome'),
                                         "(status = 'closed') = (outcome IS NOT NULL)")

    referrals = op.create_table('referrals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('pathway', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('consent', sa.Boolean(), nullable=True),
    sa.Column('from_unit_id', sa.Integer(), nullable=True),
    sa.Column('to_unit_id', sa.Integer(), nullable=True),
    sa.Column('sent_by', sa.Integer(), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_by', sa.Integer(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('follow_up_id', sa.Integer(), nullable=True),
    sa.Column('reason_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('answer_note_sealed', sa.LargeBinary(), nullable=True),
    sa.CheckConstraint(f"pathway IN {PATHWAYS}", name=op.f('ck_referrals_pathway')),
    sa.CheckConstraint(f"status IN {STATUSES}", name=op.f('ck_referrals_status')),
    sa.CheckConstraint("(status = 'consent_refused') = (consent IS NOT NULL AND NOT consent)",
                       name=op.f('ck_referrals_consent')),
    sa.CheckConstraint("(status IN ('external', 'consent_refused')) OR to_unit_id IS NOT NULL",
                       name=op.f('ck_referrals_receiver')),
    sa.ForeignKeyConstraint(['answered_by'], ['staff.id'],
                            name=op.f('fk_referrals_answered_by_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'],
                            name=op.f('fk_referrals_assessment_id_assessments'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['follow_up_id'], ['follow_ups.id'],
                            name=op.f('fk_referrals_follow_up_id_follow_ups'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['from_unit_id'], ['units.id'],
                            name=op.f('fk_referrals_from_unit_id_units')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'],
                            name=op.f('fk_referrals_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['sent_by'], ['staff.id'], name=op.f('fk_referrals_sent_by_staff'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['to_unit_id'], ['units.id'],
                            name=op.f('fk_referrals_to_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals')),
    sa.UniqueConstraint('uuid', name=op.f('uq_referrals_uuid'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_assessment_id'), ['assessment_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_patient_id'), ['patient_id'],
                              unique=False)
        batch_op.create_index('ix_referrals_to_unit_status', ['to_unit_id', 'status'],
                              unique=False)
    _referrals_for_follow_ups_of_other_units(referrals)


def _referrals_for_follow_ups_of_other_units(referrals: sa.Table) -> None:
    """Access the old rule gave (a follow-up assigned to another unit than the patient's)
    becomes an accepted referral, so that it goes on under the new rule."""
    bind = op.get_bind()
    rows = bind.execute(sa.text(
        "SELECT f.id, f.patient_id, f.assessment_id, f.pathway, f.unit_id, f.created_at, "
        "p.unit_id FROM follow_ups f JOIN patients p ON p.id = f.patient_id "
        "WHERE f.unit_id <> p.unit_id ORDER BY f.id")
        .columns(sa.column('id', sa.Integer()), sa.column('patient_id', sa.Integer()),
                 sa.column('assessment_id', sa.Integer()), sa.column('pathway', sa.String()),
                 sa.column('unit_id', sa.Integer()),
                 sa.column('created_at', sa.DateTime(timezone=True)),
                 sa.column('patient_unit', sa.Integer()))).all()
    if rows:
        op.bulk_insert(referrals, [
            {'uuid': str(uuid.uuid4()), 'patient_id': patient_id,
             'assessment_id': assessment_id, 'pathway': pathway, 'status': 'accepted',
             'consent': None, 'from_unit_id': patient_unit, 'to_unit_id': unit_id,
             'sent_by': None, 'sent_at': created_at, 'answered_by': None,
             'answered_at': created_at, 'follow_up_id': follow_up_id}
            for follow_up_id, patient_id, assessment_id, pathway, unit_id, created_at,
            patient_unit in rows])


def downgrade() -> None:
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index('ix_referrals_to_unit_status')
        batch_op.drop_index(batch_op.f('ix_referrals_patient_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_assessment_id'))
    op.drop_table('referrals')

    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_follow_ups_closed_outcome'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_follow_ups_outcome'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_follow_ups_status'), type_='check')
    op.execute("UPDATE follow_ups SET status = 'done' WHERE status = 'closed'")
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_ups_responsible_id'))
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_rescheduled_from_id_follow_ups'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_follow_ups_responsible_id_staff'),
                                 type_='foreignkey')
        batch_op.drop_column('rescheduled_from_id')
        batch_op.drop_column('responsible_id')
        batch_op.drop_column('outcome')
        batch_op.create_check_constraint(
            batch_op.f('ck_follow_ups_status'), "status IN ('open', 'done', 'cancelled')")
