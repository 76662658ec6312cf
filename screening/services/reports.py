"""Anonymised reports: read the monthly report counts (and unit names), never a patient row
or a sealed column; add them up in the database with one GROUP BY; suppress in ``core``.

The counts (``report_month_counts``, :mod:`screening.models.report_counts`) are the report
facts counted per month and key, kept exact by database triggers on ``report_facts``. A
report reads them rather than the facts because they are a few thousand rows a year where
the facts are a row per assessment: a report then costs the same over a thousand facts or
a million. One query reads the period and its plan quarters, grouped by
month and by everything a table needs (zone or DUDIT outcome, age band, sex, level), with
the other figures as sums."""

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
from ..models import ReportMonthCount, Unit
from ..models.assessments import SETTINGS
from ..models.report_counts import fact_key


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
    """The report counts of the months the report needs, summed over the units and
    settings chosen: one row per month and group."""
    # The table's own columns, not the mapped class's: a plain Core statement whose rows are
    # tuples (an ORM statement would process each of the thousands of rows as ORM rows).
    counts = ReportMonthCount.__table__.c
    first, last = months_needed(filters.period)

    # n = 0: a row whose facts were all deleted (or moved to another key).
    conditions = [counts.instrument == filters.instrument, counts.month >= first,
                  counts.month <= last, counts.n > 0]
    if filters.unit_ids:
        conditions.append(counts.unit_id.in_(filters.unit_ids))
    if filters.setting is not None:
        conditions.append(counts.setting == filters.setting)
    # The keys in the order of the primary key (instrument, month, zone, positive, age_band,
    # sex, level, ...): SQLite then groups while it scans, without sorting.
    keys = (counts.month, counts.zone, counts.positive, counts.age_band, counts.sex,
            counts.level)
    statement = (
        select(*keys, *(func.sum(column) for column in (
            counts.n, counts.conversations_delivered, counts.on_time, counts.late, counts.pending,
            counts.pw_elder_care, counts.pw_gp, counts.pw_substance_use_consultant,
            counts.pw_specialist_referral, counts.extensions)))
        .where(and_(*conditions))
        .group_by(*keys)
    )
    # sum() of integer columns over at least one row: never NULL, and an int from both
    # drivers (PostgreSQL sums integers as bigint, which psycopg returns as int).
    rows = []
    for (month, zone, positive, age_band, sex, level, n, conv, on_time, late, pending,
         p1, p2, p3, p4, extensions) in session.connection().execute(statement):
        zone, positive, level = fact_key(zone, positive, level)
        rows.append(GroupRow(month, zone, positive, age_band, sex, level, n, conv, on_time,
                             late, pending, (p1, p2, p3, p4), extensions))
    return rows


def report(session: Session, filters: Filters, k: int) -> Report:
    """The suppressed report for ``filters`` (raises :class:`ReportError` on a bad filter)."""
    check(session, filters)
    return build_report(filters.instrument, filters.period, grouped_rows(session, filters), k)


def unit_names(session: Session, unit_ids: Sequence[int]) -> list[str]:
    if not unit_ids:
        return []
    return list(session.scalars(select(Unit.name).where(Unit.id.in_(unit_ids))
                                .order_by(Unit.name)))
