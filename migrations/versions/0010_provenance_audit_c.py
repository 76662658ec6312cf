"""fingerprints of instrument files; AUDIT-C extended to the AUDIT

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00.000000

- ``instrument_fingerprints``: the fingerprint (SHA-256 of the canonical content) of every
  instrument, conversation-checklist and rule-set file seen, by kind, id and version.
- ``assessments``: the fingerprints of the instrument and rule set that produced the result
  (NULL for results stored before), and ``extends_id``: the AUDIT-C an AUDIT extends, unique
  among assessments not voided (a partial unique index, on SQLite and PostgreSQL alike).
- ``report_facts.is_extension`` and ``report_month_counts.extensions``: how many AUDITs began
  as an AUDIT-C. The count triggers of 0006 are replaced by the same triggers counting it too
  (this file then holds the only copy of the current triggers). Facts stored before are no
  extensions: the new count starts at 0 and needs no backfill.

``report_facts`` and ``report_month_counts`` get (and on downgrade lose) their column by a
plain ALTER TABLE ADD / DROP COLUMN, which SQLite (3.35 and later) and PostgreSQL both do in
place, once the triggers and the index that name the column are gone: batch mode would copy
``report_facts``, which loses its triggers and, on SQLite, its CHECK constraints.
``assessments`` is rebuilt in batch mode on SQLite. The downgrade puts back the triggers and
the index of 0006.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

TABLE = 'report_month_counts'
KEYS = {
    'instrument': '{row}instrument',
    'month': '{row}month',
    'zone': "coalesce({row}zone, '')",
    'positive': 'CASE WHEN {row}positive IS NULL THEN -1 WHEN {row}positive THEN 1 ELSE 0 END',
    'age_band': '{row}age_band',
    'sex': '{row}sex',
    'level': 'coalesce({row}level, -1)',
    'unit_id': '{row}unit_id',
    'setting': '{row}setting',
}
COUNTS_0006 = {
    'n': '{sign}',
    'conversations_delivered': 'CASE WHEN {row}conversation_delivered THEN {sign} ELSE 0 END',
    'on_time': "CASE WHEN {row}follow_up = 'on_time' THEN {sign} ELSE 0 END",
    'late': "CASE WHEN {row}follow_up = 'late' THEN {sign} ELSE 0 END",
    'pending': "CASE WHEN {row}follow_up = 'pending' THEN {sign} ELSE 0 END",
    'pw_elder_care': 'CASE WHEN {row}pw_elder_care THEN {sign} ELSE 0 END',
    'pw_gp': 'CASE WHEN {row}pw_gp THEN {sign} ELSE 0 END',
    'pw_substance_use_consultant':
        'CASE WHEN {row}pw_substance_use_consultant THEN {sign} ELSE 0 END',
    'pw_specialist_referral': 'CASE WHEN {row}pw_specialist_referral THEN {sign} ELSE 0 END',
}
COUNTS = {**COUNTS_0006, 'extensions': 'CASE WHEN {row}is_extension THEN {sign} ELSE 0 END'}
SQLITE_TRIGGERS = ('report_facts_count_insert', 'report_facts_count_update',
                   'report_facts_count_delete')
PG_TRIGGER = PG_FUNCTION = 'report_facts_count'
REPORT_INDEX = 'ix_report_facts_report'
REPORT_INDEX_COLUMNS = [
    'instrument', 'month', 'zone', 'positive', 'age_band', 'sex', 'level', 'setting', 'unit_id',
    'conversation_delivered', 'follow_up', 'pw_elder_care', 'pw_gp',
    'pw_substance_use_consultant', 'pw_specialist_referral',
]


def _apply(row: str, sign: int, counts: dict[str, str]) -> str:
    """Add one fact (``NEW.`` or ``OLD.``) to its key's row, times ``sign``."""
    columns = ', '.join([*KEYS, *counts])
    values = [e.format(row=row, sign=sign) for e in [*KEYS.values(), *counts.values()]]
    added = ', '.join(f'{c} = {TABLE}.{c} + excluded.{c}' for c in counts)
    return (f'INSERT INTO {TABLE} ({columns}) VALUES ({", ".join(values)}) '
            f'ON CONFLICT ({", ".join(KEYS)}) DO UPDATE SET {added}')


def _sqlite_triggers(counts: dict[str, str]) -> list[str]:
    bodies = {'INSERT': [_apply('NEW.', 1, counts)],
              'UPDATE': [_apply('OLD.', -1, counts), _apply('NEW.', 1, counts)],
              'DELETE': [_apply('OLD.', -1, counts)]}
    return [f'CREATE TRIGGER {name} AFTER {event} ON report_facts FOR EACH ROW BEGIN '
            + ''.join(f'{statement}; ' for statement in bodies[event]) + 'END'
            for name, event in zip(SQLITE_TRIGGERS, bodies, strict=True)]


def _pg_triggers(counts: dict[str, str]) -> list[str]:
    return [
        f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n"
        f"  IF TG_OP <> 'INSERT' THEN {_apply('OLD.', -1, counts)}; END IF;\n"
        f"  IF TG_OP <> 'DELETE' THEN {_apply('NEW.', 1, counts)}; END IF;\n"
        f"  RETURN NULL;\n"
        f"END\n$$",
        f'CREATE CONSTRAINT TRIGGER {PG_TRIGGER} AFTER INSERT OR UPDATE OR DELETE '
        f'ON report_facts DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
        f'EXECUTE FUNCTION {PG_FUNCTION}()',
    ]


def _postgres() -> bool:
    return op.get_bind().dialect.name == 'postgresql'


def _drop_triggers() -> None:
    if _postgres():
        op.execute(f'DROP TRIGGER IF EXISTS {PG_TRIGGER} ON report_facts')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_FUNCTION}()')
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')


def _create_triggers(counts: dict[str, str]) -> None:
    for statement in _pg_triggers(counts) if _postgres() else _sqlite_triggers(counts):
        op.execute(statement)


def upgrade() -> None:
    op.create_table(
        'instrument_fingerprints',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('file_id', sa.String(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=255), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('instrument', 'conversation', 'rule_set')",
                           name=op.f('ck_instrument_fingerprints_kind')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_instrument_fingerprints')),
        sa.UniqueConstraint('kind', 'file_id', 'version',
                            name=op.f('uq_instrument_fingerprints_kind')),
    )
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instrument_fingerprint', sa.String(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('rule_set_fingerprint', sa.String(length=64),
                                      nullable=True))
        batch_op.add_column(sa.Column('extends_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_assessments_extends_id_assessments'),
                                    'assessments', ['extends_id'], ['id'], ondelete='SET NULL')
    op.create_index('ix_assessments_extends_id', 'assessments', ['extends_id'], unique=True,
                    sqlite_where=sa.text('voided_at IS NULL'),
                    postgresql_where=sa.text('voided_at IS NULL'))
    # Triggers off while the columns change; every statement here runs in the migration's
    # transaction, so no fact is written uncounted in between.
    _drop_triggers()
    op.add_column('report_facts', sa.Column('is_extension', sa.Boolean(),
                                            server_default=sa.false(), nullable=False))
    op.add_column(TABLE, sa.Column('extensions', sa.Integer(), server_default=sa.text('0'),
                                   nullable=False))
    op.drop_index(REPORT_INDEX, table_name='report_facts')
    op.create_index(REPORT_INDEX, 'report_facts', [*REPORT_INDEX_COLUMNS, 'is_extension'])
    _create_triggers(COUNTS)


def downgrade() -> None:
    _drop_triggers()
    op.drop_index(REPORT_INDEX, table_name='report_facts')
    op.drop_column(TABLE, 'extensions')
    op.drop_column('report_facts', 'is_extension')
    op.create_index(REPORT_INDEX, 'report_facts', REPORT_INDEX_COLUMNS)
    _create_triggers(COUNTS_0006)
    op.drop_index('ix_assessments_extends_id', table_name='assessments')
    with op.batch_alter_table('assessments', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_assessments_extends_id_assessments'),
                                 type_='foreignkey')
        batch_op.drop_column('extends_id')
        batch_op.drop_column('rule_set_fingerprint')
        batch_op.drop_column('instrument_fingerprint')
    op.drop_table('instrument_fingerprints')
