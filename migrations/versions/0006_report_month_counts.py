"""report facts counted by month, kept by triggers

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 10:12:00.000000

Reports read ``report_month_counts`` (see screening/models/report_counts.py): the facts
counted per month and key. Triggers on ``report_facts`` keep it exact (a fact inserted
adds its counts to its key's row, a fact deleted takes them away, an update does both, so a
changed key moves the fact), and this migration fills it from the facts already stored.
The SQL below is the only copy of the triggers: the schema is only ever made by migrations.

PostgreSQL: the trigger is a constraint trigger deferred to the commit, so a transaction
locks a count row only while it commits, after every other lock it takes. Each write
transaction of the app writes one fact, so it locks one count row (an insert, or an update
that keeps the key): whoever waits for a count row waits for a transaction that waits for
nothing, and no cycle of waits can form. With an immediate trigger one could: the
access-log chain head (locked FOR UPDATE when an access is logged) is taken by some write
paths before their fact is written and by others after (tests/app/test_report_summary.py
shows the difference). Statements that move many facts between keys in concurrent
transactions could still deadlock (PostgreSQL then fails one); the app issues none.
SQLite has one writer at a time, so its plain AFTER triggers cannot deadlock.
TRUNCATE is not counted; nothing truncates report facts (they are referenced).
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

TABLE = 'report_month_counts'
# The key: a fact's NULL zone, DUDIT outcome and level are stored as '', -1 and -1
# (NO_ZONE, NO_OUTCOME, NO_LEVEL in the model), so that no key column is NULL.
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
# What one fact adds to each count (times the sign: +1 added, -1 taken away).
COUNTS = {
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
COLUMNS = ', '.join([*KEYS, *COUNTS])
SQLITE_TRIGGERS = ('report_facts_count_insert', 'report_facts_count_update',
                   'report_facts_count_delete')
PG_TRIGGER = PG_FUNCTION = 'report_facts_count'


def _apply(row: str, sign: int) -> str:
    """Add one fact (``NEW.`` or ``OLD.``) to its key's row, times ``sign``."""
    values = [e.format(row=row, sign=sign) for e in [*KEYS.values(), *COUNTS.values()]]
    added = ', '.join(f'{c} = {TABLE}.{c} + excluded.{c}' for c in COUNTS)
    return (f'INSERT INTO {TABLE} ({COLUMNS}) VALUES ({", ".join(values)}) '
            f'ON CONFLICT ({", ".join(KEYS)}) DO UPDATE SET {added}')


def _backfill() -> str:
    keys = [e.format(row='') for e in KEYS.values()]
    sums = [f'sum({e.format(row="", sign=1)})' for e in COUNTS.values()]
    return (f'INSERT INTO {TABLE} ({COLUMNS}) SELECT {", ".join(keys + sums)} '
            f'FROM report_facts GROUP BY {", ".join(keys)}')


def _sqlite_triggers() -> list[str]:
    bodies = {'INSERT': [_apply('NEW.', 1)], 'UPDATE': [_apply('OLD.', -1), _apply('NEW.', 1)],
              'DELETE': [_apply('OLD.', -1)]}
    return [f'CREATE TRIGGER {name} AFTER {event} ON report_facts FOR EACH ROW BEGIN '
            + ''.join(f'{statement}; ' for statement in bodies[event]) + 'END'
            for name, event in zip(SQLITE_TRIGGERS, bodies, strict=True)]


def _pg_trigger() -> list[str]:
    return [
        f"CREATE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN\n"
        f"  IF TG_OP <> 'INSERT' THEN {_apply('OLD.', -1)}; END IF;\n"
        f"  IF TG_OP <> 'DELETE' THEN {_apply('NEW.', 1)}; END IF;\n"
        f"  RETURN NULL;\n"
        f"END\n$$",
        f'CREATE CONSTRAINT TRIGGER {PG_TRIGGER} AFTER INSERT OR UPDATE OR DELETE '
        f'ON report_facts DEFERRABLE INITIALLY DEFERRED FOR EACH ROW '
        f'EXECUTE FUNCTION {PG_FUNCTION}()',
    ]


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column('instrument', sa.String(length=32), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('zone', sa.String(length=3), nullable=False),
        sa.Column('positive', sa.SmallInteger(), nullable=False),
        sa.Column('age_band', sa.String(length=8), nullable=False),
        sa.Column('sex', sa.String(length=6), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=False),
        sa.Column('setting', sa.String(length=16), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.Column('conversations_delivered', sa.Integer(), nullable=False),
        sa.Column('on_time', sa.Integer(), nullable=False),
        sa.Column('late', sa.Integer(), nullable=False),
        sa.Column('pending', sa.Integer(), nullable=False),
        sa.Column('pw_elder_care', sa.Integer(), nullable=False),
        sa.Column('pw_gp', sa.Integer(), nullable=False),
        sa.Column('pw_substance_use_consultant', sa.Integer(), nullable=False),
        sa.Column('pw_specialist_referral', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('instrument', 'month', 'zone', 'positive', 'age_band', 'sex',
                                'level', 'unit_id', 'setting', name=op.f('pk_report_month_counts')),
    )
    # Triggers first, then the backfill, in the migration's transaction: on PostgreSQL a
    # fact written meanwhile waits for the migration and is then counted by the trigger.
    postgres = op.get_bind().dialect.name == 'postgresql'
    for statement in _pg_trigger() if postgres else _sqlite_triggers():
        op.execute(statement)
    op.execute(_backfill())


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'DROP TRIGGER IF EXISTS {PG_TRIGGER} ON report_facts')
        op.execute(f'DROP FUNCTION IF EXISTS {PG_FUNCTION}()')
    else:
        for name in SQLITE_TRIGGERS:
            op.execute(f'DROP TRIGGER IF EXISTS {name}')
    op.drop_table(TABLE)
