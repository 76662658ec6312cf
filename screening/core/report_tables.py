"""The anonymised report: periods, the tables it shows, and how grouped report facts become
monthly atoms and then releases (standard library only; suppression in ``aggregation``).

Tables per instrument:

- ``results``: AUDIT zone (AUDIT-C or DUDIT outcome) x sex and age band, with totals;
- ``levels`` (AUDIT): action level x brief conversation delivered or not, with totals;
- ``origin`` (AUDIT): asked whole, or extended from an AUDIT-C (items 1-3 carried over),
  with the total;
- ``follow_ups``: follow-up status (none, pending, on time, late) with the total;
- ``pathways``: assessments with each pathway recommended (one may have several), hidden
  when a figure they follow from under the rule set is hidden (levels, or the positives).

A screening in two steps is one AUDIT-C in the AUDIT-C report (the positive result it had)
and one AUDIT in the AUDIT report, counted there as extended: the two reports are never one
screening counted twice in one table, and the people screened are the AUDIT-C screenings
plus the AUDITs asked whole.

The trend covers the plan period: the eight quarters ending with the quarter of the period's
last month, each quarter released like any other period.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .aggregation import (
    GRID,
    LIST,
    PLAIN,
    TOTAL,
    Rate,
    Release,
    Series,
    TableSpec,
    cell,
    protect_series,
    rate,
    row_total,
)

INSTRUMENTS = ("audit", "audit_c", "dudit")
ZONES = ("I", "II", "III", "IV")
OUTCOMES = ("negative", "positive")
LEVELS = ("1", "2", "3", "4")
UNKNOWN = "unknown"
SEXES = ("female", "male")
AGE_BANDS = ("under_65", "65_74", "75_84", "85_plus")
SEX_AGE = tuple(f"{sex}:{band}" for sex in SEXES for band in AGE_BANDS)
CONVERSATION = ("delivered", "not_delivered")
FOLLOW_UPS = ("none", "pending", "on_time", "late")
ORIGINS = ("whole", "extended")
PATHWAYS = ("elder_care", "gp", "substance_use_consultant", "specialist_referral")
PLAN_QUARTERS = 8
MAX_MONTHS = 120
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


class PeriodError(ValueError):
    """A period that cannot be used; ``code`` names the problem for the message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def month_index(month: str) -> int:
    match = _MONTH.match(month or "")
    if not match:
        raise PeriodError("bad_month")
    year, number = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2100 and 1 <= number <= 12):
        raise PeriodError("bad_month")
    return year * 12 + number - 1


def month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


@dataclass(frozen=True)
class Period:
    """Whole months from ``start`` to ``end`` (YYYY-MM), both included."""

    start: str
    end: str

    def __post_init__(self) -> None:
        first, last = month_index(self.start), month_index(self.end)
        if first > last:
            raise PeriodError("start_after_end")
        if last - first >= MAX_MONTHS:
            raise PeriodError("too_long")

    @property
    def months(self) -> tuple[str, ...]:
        return tuple(month_name(i) for i in range(month_index(self.start),
                                                  month_index(self.end) + 1))

    @classmethod
    def month(cls, month: str) -> Period:
        return cls(month, month)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if not (1 <= quarter <= 4):
            raise PeriodError("bad_quarter")
        first = (quarter - 1) * 3
        return cls(month_name(year * 12 + first), month_name(year * 12 + first + 2))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(f"{year:04d}-01", f"{year:04d}-12")


def quarter_label(month: str) -> str:
    index = month_index(month)
    return f"{index // 12}-Q{index % 12 // 3 + 1}"


def plan_quarters(period: Period) -> list[tuple[str, tuple[str, ...]]]:
    """(label, months) of the eight quarters ending with the quarter of ``period.end``."""
    last = month_index(period.end)
    last_start = last - last % 3
    quarters = []
    for back in range(PLAN_QUARTERS - 1, -1, -1):
        first = last_start - 3 * back
        months = tuple(month_name(first + i) for i in range(3))
        quarters.append((quarter_label(months[0]), months))
    return quarters


def specs_for(instrument: str) -> tuple[TableSpec, ...]:
    if instrument == "audit":
        return (TableSpec("results", GRID, SEX_AGE, ZONES + (UNKNOWN,)),
                TableSpec("levels", GRID, CONVERSATION, LEVELS + (UNKNOWN,)),
                TableSpec("origin", LIST, ORIGINS),
                TableSpec("follow_ups", LIST, FOLLOW_UPS),
                TableSpec("pathways", PLAIN, PATHWAYS, linked=(("levels", "rows"),)))
    return (TableSpec("results", GRID, SEX_AGE, OUTCOMES + (UNKNOWN,)),
            TableSpec("follow_ups", LIST, FOLLOW_UPS),
            TableSpec("pathways", PLAIN, PATHWAYS, linked=(("results", "row:positive"),)))


@dataclass(frozen=True)
class GroupRow:
    """One row of the GROUP BY over report facts: the group and its sums."""

    month: str
    zone: str | None
    positive: bool | None
    age_band: str
    sex: str
    level: int | None
    n: int
    conversations: int
    on_time: int
    late: int
    pending: int
    pathways: tuple[int, int, int, int]
    extensions: int = 0  # AUDITs extended from an AUDIT-C


if FOLLOW_UPS != ("none", "pending", "on_time", "late") or PATHWAYS != (
        "elder_care", "gp", "substance_use_consultant", "specialist_referral"):
    raise RuntimeError("atoms_from counts follow-ups and pathways by these names")


def atoms_from(instrument: str, rows: Iterable[GroupRow]) -> dict[str, dict[str, dict]]:
    """Monthly atoms (table id -> interior counts) from grouped rows. Written for speed (it
    runs over every group of a report): counters start at zero, no lookups repeated."""
    table_ids = [s.id for s in specs_for(instrument)]
    audit = instrument == "audit"
    level_names = {int(level): level for level in LEVELS}
    atoms: dict[str, dict[str, dict]] = {}
    for r in rows:
        atom = atoms.get(r.month)
        if atom is None:
            atom = atoms[r.month] = {table_id: {} for table_id in table_ids}
            atom["follow_ups"] = dict.fromkeys(FOLLOW_UPS, 0)
            atom["pathways"] = dict.fromkeys(PATHWAYS, 0)
        n = r.n
        if audit:
            result = r.zone if r.zone in ZONES else UNKNOWN
            level = level_names.get(r.level, UNKNOWN) if isinstance(r.level, int) else (
                str(r.level) if r.level is not None and str(r.level) in LEVELS else UNKNOWN)
            levels = atom["levels"]
            delivered, not_delivered = (level, "delivered"), (level, "not_delivered")
            levels[delivered] = levels.get(delivered, 0) + r.conversations
            levels[not_delivered] = levels.get(not_delivered, 0) + n - r.conversations
            origin = atom["origin"]
            origin["extended"] = origin.get("extended", 0) + r.extensions
            origin["whole"] = origin.get("whole", 0) + n - r.extensions
        else:
            result = UNKNOWN if r.positive is None else OUTCOMES[int(bool(r.positive))]
        results = atom["results"]
        key = (result, f"{r.sex}:{r.age_band}")
        results[key] = results.get(key, 0) + n
        follow_ups = atom["follow_ups"]
        follow_ups["none"] += n - r.on_time - r.late - r.pending
        follow_ups["pending"] += r.pending
        follow_ups["on_time"] += r.on_time
        follow_ups["late"] += r.late
        pathways = atom["pathways"]
        p1, p2, p3, p4 = r.pathways
        pathways["elder_care"] += p1
        pathways["gp"] += p2
        pathways["substance_use_consultant"] += p3
        pathways["specialist_referral"] += p4
    return atoms


@dataclass(frozen=True)
class Report:
    instrument: str
    period: Period
    k: int
    release: Release
    rates: dict[str, Rate]
    trend: tuple[tuple[str, Release, dict[str, Rate]], ...]
    trend_total: Release

    @property
    def result_rows(self) -> tuple[str, ...]:
        return ZONES if self.instrument == "audit" else OUTCOMES


def rates_for(instrument: str, release: Release) -> dict[str, Rate]:
    rates = {"follow_up_on_time": rate(release, ("follow_ups", [cell("on_time")]),
                                       ("follow_ups", [cell("on_time"), cell("late")]))}
    for pathway in PATHWAYS:
        rates[f"pathway:{pathway}"] = rate(release, ("pathways", [cell(pathway)]),
                                           ("results", [TOTAL]))
    for row in (ZONES if instrument == "audit" else OUTCOMES):
        rates[f"result:{row}"] = rate(release, ("results", [row_total(row)]),
                                      ("results", [TOTAL]))
    if instrument == "audit":
        raised = LEVELS[1:]
        rates["level2plus"] = rate(release, ("levels", [row_total(level) for level in raised]),
                                   ("levels", [TOTAL]))
        rates["extended"] = rate(release, ("origin", [cell("extended")]), ("origin", [TOTAL]))
        rates["conversation_level2"] = rate(
            release, ("levels", [cell(level, "delivered") for level in raised]),
            ("levels", [row_total(level) for level in raised]))
        for level in LEVELS:
            rates[f"conversation:{level}"] = rate(release, ("levels", [cell(level, "delivered")]),
                                                  ("levels", [row_total(level)]))
            rates[f"level:{level}"] = rate(release, ("levels", [row_total(level)]),
                                           ("levels", [TOTAL]))
    return rates


def months_needed(period: Period) -> tuple[str, str]:
    """The first and last month the report reads: the period and its plan quarters."""
    quarters = plan_quarters(period)
    first = min(month_index(period.start), month_index(quarters[0][1][0]))
    last = max(month_index(period.end), month_index(quarters[-1][1][-1]))
    return month_name(first), month_name(last)


def build_report(instrument: str, period: Period, rows: Iterable[GroupRow], k: int) -> Report:
    """Protect every month read, then release the period, each plan quarter and the plan
    period as a whole (see :mod:`screening.core.aggregation`)."""
    if instrument not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}")
    series = protect_series(specs_for(instrument), atoms_from(instrument, rows), k)
    return assemble(instrument, period, series)


def assemble(instrument: str, period: Period, series: Series) -> Report:
    release = series.release(period.months)
    trend = []
    window: list[str] = []
    for label, months in plan_quarters(period):
        quarter = series.release(months)
        trend.append((label, quarter, rates_for(instrument, quarter)))
        window.extend(months)
    return Report(instrument, period, series.k, release, rates_for(instrument, release),
                  tuple(trend), series.release(window))
