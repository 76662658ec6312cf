"""patients, assessments, conversations, access log

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 01:25:49.415881
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=24), nullable=False),
    sa.Column('patient_pseudonym', sa.String(length=32), nullable=True),
    sa.Column('purpose', sa.String(length=24), nullable=False),
    sa.Column('outcome', sa.String(length=8), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log')),
    sa.UniqueConstraint('hash', name=op.f('uq_access_log_hash'))
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_patient_pseudonym'), ['patient_pseudonym'], unique=False)

    op.create_table('access_log_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('last_id', sa.Integer(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log_head'))
    )
    op.create_table('patients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('fnr_index', sa.LargeBinary(length=32), nullable=False),
    sa.Column('fnr_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('name_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('birth_date_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('sex_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('data_key_wrapped', sa.LargeBinary(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_patients_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patients')),
    sa.UniqueConstraint('fnr_index', name=op.f('uq_patients_fnr_index')),
    sa.UniqueConstraint('uuid', name=op.f('uq_patients_uuid'))
    )
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_patients_unit_id'), ['unit_id'], unique=False)

    op.create_table('report_facts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('age_band', sa.String(length=8), nullable=False),
    sa.Column('sex', sa.String(length=6), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('setting', sa.String(length=16), nullable=False),
    sa.Column('instrument', sa.String(length=32), nullable=False),
    sa.Column('zone', sa.String(length=3), nullable=True),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('positive', sa.Boolean(), nullable=True),
    sa.Column('pw_elder_care', sa.Boolean(), nullable=False),
    sa.Column('pw_gp', sa.Boolean(), nullable=False),
    sa.Column('pw_substance_use_consultant', sa.Boolean(), nullable=False),
    sa.Column('pw_specialist_referral', sa.Boolean(), nullable=False),
    sa.Column('conversation_delivered', sa.Boolean(), nullable=False),
    sa.Column('follow_up', sa.String(length=8), nullable=False),
    sa.CheckConstraint("age_band IN ('under_65', '65_74', '75_84', '85_plus')", name=op.f('ck_report_facts_age_band')),
    sa.CheckConstraint("follow_up IN ('none', 'pending', 'on_time', 'late')", name=op.f('ck_report_facts_follow_up')),
    sa.CheckConstraint("setting IN ('home_care', 'gp_practice')", name=op.f('ck_report_facts_setting')),
    sa.CheckConstraint("sex IN ('male', 'female')", name=op.f('ck_report_facts_sex')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_report_facts_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_facts'))
    )
    with op.batch_alter_table('report_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_facts_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_facts_unit_id'), ['unit_id'], unique=False)

    op.create_table('assessments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('fact_id', sa.Integer(), nullable=False),
    sa.Column('submission_token', sa.String(length=64), nullable=False),
    sa.Column('instrument', sa.String(length=32), nullable=False),
    sa.Column('instrument_version', sa.String(length=32), nullable=False),
    sa.Column('item_text_version', sa.String(length=64), nullable=False),
    sa.Column('rule_set', sa.String(length=32), nullable=False),
    sa.Column('rule_set_version', sa.String(length=32), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('zone', sa.String(length=3), nullable=True),
    sa.Column('level', sa.Integer(), nullable=True),
    sa.Column('flags', sa.Text(), nullable=False),
    sa.Column('pathways', sa.Text(), nullable=False),
    sa.Column('follow_up_weeks', sa.Integer(), nullable=True),
    sa.Column('setting', sa.String(length=16), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answers_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('context_sealed', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['staff.id'], name=op.f('fk_assessments_created_by_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fact_id'], ['report_facts.id'], name=op.f('fk_assessments_fact_id_report_facts')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_assessments_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_assessments_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessments')),
    sa.UniqueConstraint('submission_token', name=op.f('uq_assessments_submission_token')),
    sa.UniqueConstraint('uuid', name=op.f('uq_assessments_uuid'))
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assessments_patient_id'), ['patient_id'], unique=False)

    op.create_table('break_glass',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.Integer(), nullable=True),
    sa.Column('reason_sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_break_glass_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reviewed_by'], ['staff.id'], name=op.f('fk_break_glass_reviewed_by_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_break_glass_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_break_glass')),
    sa.UniqueConstraint('uuid', name=op.f('uq_break_glass_uuid'))
    )
    with op.batch_alter_table('break_glass', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_break_glass_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_break_glass_staff_id'), ['staff_id'], unique=False)

    op.create_table('drafts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('instrument', sa.String(length=32), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answers_sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_drafts_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], name=op.f('fk_drafts_staff_id_staff'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drafts')),
    sa.UniqueConstraint('staff_id', 'patient_id', 'instrument', name=op.f('uq_drafts_staff_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_drafts_uuid'))
    )
    op.create_table('conversations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('chosen_level', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('record_sealed', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_conversations_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by'], ['staff.id'], name=op.f('fk_conversations_created_by_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_conversations_patient_id_patients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversations')),
    sa.UniqueConstraint('assessment_id', name=op.f('uq_conversations_assessment_id')),
    sa.UniqueConstraint('uuid', name=op.f('uq_conversations_uuid'))
    )
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conversations_patient_id'), ['patient_id'], unique=False)

    op.create_table('follow_ups',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uuid', sa.String(length=36), nullable=False),
    sa.Column('patient_id', sa.Integer(), nullable=False),
    sa.Column('assessment_id', sa.Integer(), nullable=False),
    sa.Column('fact_id', sa.Integer(), nullable=False),
    sa.Column('pathway', sa.String(length=32), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('repeat_audit', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=9), nullable=False),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note_sealed', sa.LargeBinary(), nullable=True),
    sa.CheckConstraint("mode IN ('home_visit', 'phone', 'consultation')", name=op.f('ck_follow_ups_mode')),
    sa.CheckConstraint("pathway IN ('elder_care', 'gp', 'substance_use_consultant', 'specialist_referral')", name=op.f('ck_follow_ups_pathway')),
    sa.CheckConstraint("status IN ('open', 'done', 'cancelled')", name=op.f('ck_follow_ups_status')),
    sa.ForeignKeyConstraint(['assessment_id'], ['assessments.id'], name=op.f('fk_follow_ups_assessment_id_assessments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['done_by'], ['staff.id'], name=op.f('fk_follow_ups_done_by_staff'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fact_id'], ['report_facts.id'], name=op.f('fk_follow_ups_fact_id_report_facts')),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_follow_ups_patient_id_patients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_follow_ups_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups')),
    sa.UniqueConstraint('uuid', name=op.f('uq_follow_ups_uuid'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_due_date'), ['due_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_patient_id'), ['patient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_unit_id'), ['unit_id'], unique=False)
    _create_append_only_triggers()


def downgrade() -> None:
    _drop_append_only_triggers()
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_ups_unit_id'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_patient_id'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_due_date'))

    op.drop_table('follow_ups')
    with op.batch_alter_table('conversations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conversations_patient_id'))

    op.drop_table('conversations')
    op.drop_table('drafts')
    with op.batch_alter_table('break_glass', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_break_glass_staff_id'))
        batch_op.drop_index(batch_op.f('ix_break_glass_patient_id'))

    op.drop_table('break_glass')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assessments_patient_id'))

    op.drop_table('assessments')
    with op.batch_alter_table('report_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_facts_unit_id'))
        batch_op.drop_index(batch_op.f('ix_report_facts_month'))

    op.drop_table('report_facts')
    with op.batch_alter_table('patients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_patients_unit_id'))

    op.drop_table('patients')
    op.drop_table('access_log_head')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_patient_pseudonym'))

    op.drop_table('access_log')


# The access log is append-only: no UPDATE or DELETE, enforced by the database itself.
SQLITE_TRIGGERS = (
    "CREATE TRIGGER access_log_no_update BEFORE UPDATE ON access_log "
    "BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END",
    "CREATE TRIGGER access_log_no_delete BEFORE DELETE ON access_log "
    "BEGIN SELECT RAISE(ABORT, 'access log is append-only'); END",
)
PG_FUNCTION = """
CREATE FUNCTION access_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access log is append-only';
END;
$$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER access_log_no_update BEFORE UPDATE OR DELETE ON access_log "
    "FOR EACH ROW EXECUTE FUNCTION access_log_append_only()",
    "CREATE TRIGGER access_log_no_truncate BEFORE TRUNCATE ON access_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION access_log_append_only()",
)


def _create_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    else:
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)


def _drop_append_only_triggers() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS access_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS access_log_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS access_log_no_update ON access_log")
        op.execute("DROP TRIGGER IF EXISTS access_log_no_truncate ON access_log")
        op.execute("DROP FUNCTION IF EXISTS access_log_append_only()")
