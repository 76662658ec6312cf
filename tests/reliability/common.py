"""Helpers shared by the reliability tests: row counts of every table, the actions that
only read, and a clinic (units, staff, one patient with an assessment and a conversation)
built through the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select, text

from screening.models import AccessLogEntry, Base

# Access-log actions of requests that only read (a refusal is logged too); every other
# action records a change.
READ_ACTIONS = frozenset({
    "patient_search", "patient_view", "assessment_view", "assessment_export", "draft_view",
    "conversation_view", "access_report", "access_denied", "undecryptable", "patient_list",
    "duplicate_refused", "referral_view",
})
LOG_TABLES = frozenset({"access_log", "access_log_head"})

# Level-2 AUDIT answers of clinical-rules §6 example 3 (7 points) and a conversation record
# that is complete at levels 1 to 3.
AUDIT_ANSWERS = (2, 1, 1, 1, 0, 0, 1, 1, 0, 0)


def conversation_record(due: date | None = None) -> dict[str, Any]:
    due = due or date.today() + timedelta(weeks=4)
    return {
        "feedback": {"given": True},
        "goal": {"type": "reduce", "units_per_week": 7},
        "follow_up": {"date": due.isoformat(), "by": "elder_care", "mode": "home_visit",
                      "repeat_audit": True},
    }


def table_counts(db: Any) -> dict[str, int]:
    """Rows of every table of the models, in one statement."""
    names = [t.name for t in Base.metadata.sorted_tables]
    quote = db.engine.dialect.identifier_preparer.quote
    query = text("SELECT " + ", ".join(f"(SELECT count(*) FROM {quote(n)})" for n in names))
    session = db.read_session()
    try:
        row = session.execute(query).one()
        return {name: int(n) for name, n in zip(names, row, strict=True)}
    finally:
        session.close()


def new_log_actions(db: Any, after_id: int) -> list[str]:
    session = db.read_session()
    try:
        return list(session.scalars(select(AccessLogEntry.action)
                                    .where(AccessLogEntry.id > after_id)))
    finally:
        session.close()


def last_log_id(db: Any) -> int:
    session = db.read_session()
    try:
        return int(session.scalar(select(func.max(AccessLogEntry.id))) or 0)
    finally:
        session.close()


@dataclass
class Stored:
    """What a request stored, from counts before and after it."""

    grown: dict[str, int] = field(default_factory=dict)

    @classmethod
    def between(cls, before: dict[str, int], after: dict[str, int]) -> Stored:
        return cls({t: after[t] - before[t] for t in after if after[t] != before.get(t)})
