"""Anonymised reports: read the clear report facts (and unit names), never a patient row or a
sealed column; count in the database with one GROUP BY; suppress in ``core``.

One query reads the period and its plan quarters, grouped by month and by everything a
table needs (zone or DUDIT outcome, age band, sex, level), with the other figures as sums,
so a million facts are one scan and a few thousand groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..core.report_tables import (
    INSTRUMENTS,
    GroupRow,
    Period,
    Report,
    build_report,
    months_needed,
)
from ..models import ReportFact, Unit
from ..models.assessments import SETTINGS


class ReportError(ValueError):
    """A filter that cannot be used; ``code`` names the problem for the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Filters:
    period: Period
    instrument: str = "audit"
    unit_ids: tuple[int, ...] = ()  # empty: every unit
    setting: str | None = None  # None: both settings


@dataclass(frozen=True)
class UnitChoice:
    id: int
    name: str
    active: bool


def unit_choices(session: Session) -> list[UnitChoice]:
    """Every unit a report may be filtered by (inactive ones too: their facts remain)."""
    rows = session.execute(select(Unit.id, Unit.name, Unit.active)
                           .order_by(Unit.active.desc(), Unit.name)).all()
    return [UnitChoice(int(i), str(n), bool(a)) for i, n, a in rows]


def check(session: Session, filters: Filters) -> None:
    if filters.instrument not in INSTRUMENTS:
        raise ReportError("unknown_instrument")
    if filters.setting is not None and filters.setting not in SETTINGS:
        raise ReportError("unknown_setting")
    if filters.unit_ids:
        known = set(session.scalars(select(Unit.id).where(Unit.id.in_(filters.unit_ids))))
        if known != set(filters.unit_ids):
            raise ReportError("unknown_unit")


def grouped_rows(session: Session, filters: Filters) -> list[GroupRow]:
    """The GROUP BY over report facts for the months the report needs."""
    # The table's own columns, not the mapped class's: a plain Core statement whose rows are
    # tuples (an ORM statement would process each of the thousands of rows as ORM rows).
    fact = ReportFact.__table__.c
    first, last = months_needed(filters.period)

    conditions = [fact.instrument == filters.instrument, fact.month >= first,
                  fact.month <= last]
    if filters.unit_ids:
        conditions.append(fact.unit_id.in_(filters.unit_ids))
    if filters.setting is not None:
        conditions.append(fact.setting == filters.setting)
    # The keys in the order of the proposed covering index (instrument, month, zone, positive,
    # age_band, sex, level, ...): SQLite then groups while it scans, without sorting.
    keys = (fact.month, fact.zone, fact.positive, fact.age_band, fact.sex, fact.level)
    statement = (
        select(*keys, func.count(),
               *(func.count().filter(condition) for condition in (
                   fact.conversation_delivered.is_(True), fact.follow_up == "on_time",
                   fact.follow_up == "late", fact.follow_up == "pending",
                   fact.pw_elder_care.is_(True), fact.pw_gp.is_(True),
                   fact.pw_substance_use_consultant.is_(True),
                   fact.pw_specialist_referral.is_(True))))
        .where(and_(*conditions))
        .group_by(*keys)
    )
    # count() is never NULL, and both drivers return it as int.
    return [GroupRow(month, zone, positive, age_band, sex, level, n, conv, on_time, late,
                     pending, (p1, p2, p3, p4))
            for (month, zone, positive, age_band, sex, level, n, conv, on_time, late, pending,
                 p1, p2, p3, p4) in session.connection().execute(statement)]


def report(session: Session, filters: Filters, k: int) -> Report:
    """The suppressed report for ``filters`` (raises :class:`ReportError` on a bad filter)."""
    check(session, filters)
    return build_report(filters.instrument, filters.period, grouped_rows(session, filters), k)


def unit_names(session: Session, unit_ids: Sequence[int]) -> list[str]:
    if not unit_ids:
        return []
    return list(session.scalars(select(Unit.name).where(Unit.id.in_(unit_ids))
                                .order_by(Unit.name)))
