"""covering index for reports

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 02:36:05.033207
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('report_facts', schema=None) as batch_op:
        batch_op.create_index('ix_report_facts_report', ['instrument', 'month', 'zone', 'positive', 'age_band', 'sex', 'level', 'setting', 'unit_id', 'conversation_delivered', 'follow_up', 'pw_elder_care', 'pw_gp', 'pw_substance_use_consultant', 'pw_specialist_referral'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('report_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_report_facts_report')

