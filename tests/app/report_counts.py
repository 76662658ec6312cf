"""Test helpers: the monthly report counts as stored (kept by the triggers) and as counted
afresh from the report facts, in Python; and the GROUP BY over the facts themselves that
reports issued before they read the counts, to compare reports with."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from screening.core.report_tables import GroupRow, months_needed
from screening.models import ReportFact, ReportMonthCount
from screening.models.report_counts import fact_key
from screening.services.reports import Filters

# A key as the fact has it (None where the fact has NULL).
KEY = ("instrument", "month", "unit_id", "setting", "zone", "positive", "age_band", "sex",
       "level")
COUNTS = ("n", "conversations_delivered", "on_time", "late", "pending", "pw_elder_care",
          "pw_gp", "pw_substance_use_consultant", "pw_specialist_referral", "extensions")

Counts = dict[tuple[Any, ...], tuple[int, ...]]


def counted_from_facts(session: Session) -> Counts:
    """Every key of the stored facts and its counts, counted here one fact at a time."""
    fact = ReportFact.__table__.c
    totals: dict[tuple[Any, ...], Counter[str]] = {}
    for row in session.execute(select(fact)).mappings():
        key = tuple(row[k] for k in KEY)
        counter = totals.setdefault(key, Counter())
        counter.update(n=1, conversations_delivered=int(bool(row["conversation_delivered"])),
                       on_time=int(row["follow_up"] == "on_time"),
                       late=int(row["follow_up"] == "late"),
                       pending=int(row["follow_up"] == "pending"),
                       extensions=int(bool(row["is_extension"])),
                       **{c: int(bool(row[c])) for c in COUNTS[5:9]})
    return {key: tuple(counter[c] for c in COUNTS) for key, counter in totals.items()}


def stored_counts(session: Session) -> Counts:
    """The count rows as stored, NULLs put back; rows at n = 0 left out after checking that
    everything else on them is 0 too. No count is ever negative."""
    counts = ReportMonthCount.__table__.c
    stored: Counts = {}
    for row in session.execute(select(counts)).mappings():
        values = tuple(row[c] for c in COUNTS)
        assert min(values) >= 0, dict(row)
        if row["n"] == 0:
            assert not any(values), dict(row)
            continue
        zone, positive, level = fact_key(row["zone"], row["positive"], row["level"])
        stored[(row["instrument"], row["month"], row["unit_id"], row["setting"], zone,
                positive, row["age_band"], row["sex"], level)] = values
    return stored


def grouped_from_facts(session: Session, filters: Filters) -> list[GroupRow]:
    """The report's GROUP BY straight over the report facts (what ``services.reports`` did
    before it read the counts)."""
    fact = ReportFact.__table__.c
    first, last = months_needed(filters.period)
    conditions = [fact.instrument == filters.instrument, fact.month >= first,
                  fact.month <= last]
    if filters.unit_ids:
        conditions.append(fact.unit_id.in_(filters.unit_ids))
    if filters.setting is not None:
        conditions.append(fact.setting == filters.setting)
    keys = (fact.month, fact.zone, fact.positive, fact.age_band, fact.sex, fact.level)
    statement = (
        select(*keys, func.count(),
               *(func.count().filter(condition) for condition in (
                   fact.conversation_delivered.is_(True), fact.follow_up == "on_time",
                   fact.follow_up == "late", fact.follow_up == "pending",
                   fact.pw_elder_care.is_(True), fact.pw_gp.is_(True),
                   fact.pw_substance_use_consultant.is_(True),
                   fact.pw_specialist_referral.is_(True), fact.is_extension.is_(True))))
        .where(and_(*conditions))
        .group_by(*keys)
    )
    return [GroupRow(month, zone, positive, age_band, sex, level, n, conv, on_time, late,
                     pending, (p1, p2, p3, p4), extensions)
            for (month, zone, positive, age_band, sex, level, n, conv, on_time, late, pending,
                 p1, p2, p3, p4, extensions) in session.execute(statement)]
