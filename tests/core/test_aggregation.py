"""Small-cell suppression (core, no app): no published count from 1 to k-1 over 1,000
synthetic populations; a linear-programming attacker (scipy) narrows no hidden figure below k
and pins none, also across a release series (a month, the next month, the year to date);
every rate whose numerator or denominator is hidden is hidden."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.core.aggregation import (
    COMPLEMENTARY,
    GRID,
    LIST,
    PRIMARY,
    SERIES,
    TOTAL,
    Release,
    TableSpec,
    cell,
    col_total,
    derivable,
    protect_atom,
    protect_series,
    row_total,
)
from screening.core.report_tables import (
    AGE_BANDS,
    FOLLOW_UPS,
    ZONES,
    GroupRow,
    Period,
    PeriodError,
    Report,
    build_report,
    months_needed,
    plan_quarters,
    specs_for,
)

K = 5
YEAR_MONTHS = tuple(f"2024-{m:02d}" for m in range(1, 13))


# --------------------------------------------------------------------------- populations


def population(rng: random.Random, size: int, months: Sequence[str], units: int = 8,
               instrument: str = "audit") -> list[tuple[int, str, GroupRow]]:
    """``size`` synthetic assessments as (unit, setting, one-fact group row); units are
    skewed (each about half as busy as the one before), zones and levels realistic."""
    weights = [2.0 ** -i for i in range(units)]
    people = []
    for _ in range(size):
        zone = rng.choices(ZONES, (70, 20, 6, 4))[0] if instrument == "audit" else None
        level = min(4, ZONES.index(zone) + 1 + (rng.random() < 0.2)) if zone else None
        status = rng.choices(FOLLOW_UPS, (50, 10, 30, 10))[0]
        row = GroupRow(
            month=rng.choice(months), zone=zone,
            positive=None if zone else rng.random() < 0.25,
            age_band=rng.choices(AGE_BANDS, (15, 35, 35, 15))[0],
            sex=rng.choice(("male", "female")), level=level, n=1,
            conversations=int(bool(level and level >= 2 and rng.random() < 0.6)),
            on_time=int(status == "on_time"), late=int(status == "late"),
            pending=int(status == "pending"),
            pathways=tuple(int(rng.random() < p) for p in (0.3, 0.3, 0.1, 0.05)))  # type: ignore[arg-type]
        people.append((rng.choices(range(units), weights)[0],
                       rng.choice(("home_care", "gp_practice")), row))
    return people


def releases_of(report: Report) -> list[Release]:
    return [report.release, report.trend_total] + [q for _l, q, _r in report.trend]


def published_small(release: Release) -> list[tuple[str, tuple[str, ...], int]]:
    return [(tid, pos, fig.value) for tid, table in release.tables.items()
            for pos, fig in table.figures.items()
            if not fig.hidden and fig.value is not None and 0 < fig.value < release.k]


# --------------------------------------------------------------------------- properties


@settings(max_examples=1000, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(size=st.integers(0, 500), seed=st.integers(0, 2**32 - 1),
       instrument=st.sampled_from(("audit", "audit", "dudit")),
       months=st.integers(1, 4), unit_mask=st.integers(1, 255),
       setting=st.sampled_from((None, "home_care", "gp_practice")))
def test_no_published_count_is_below_k(size: int, seed: int, instrument: str, months: int,
                                       unit_mask: int, setting: str | None) -> None:
    rng = random.Random(seed)
    chosen_months = YEAR_MONTHS[:months]
    people = population(rng, size, chosen_months, instrument=instrument)
    rows = [row for unit, place, row in people
            if unit_mask >> unit & 1 and setting in (None, place)]
    first = rng.randrange(months)
    period = Period(chosen_months[first], chosen_months[rng.randrange(first, months)])
    report = build_report(instrument, period, rows, K)
    for release in releases_of(report):
        assert not published_small(release)
    for _label, release, rates in report.trend + (("period", report.release, report.rates),):
        for name, rate in rates.items():
            if rate.hidden:
                continue
            assert rate.numerator is not None and rate.denominator is not None, name
            assert not 0 < rate.numerator < K and not 0 < rate.denominator < K, name
    _rates_of_hidden_are_hidden(report)


def _rates_of_hidden_are_hidden(report: Report) -> None:
    release, rates = report.release, report.rates
    checks = {f"pathway:{p}": ("pathways", [cell(p)]) for p in
              ("elder_care", "gp", "substance_use_consultant", "specialist_referral")}
    checks["follow_up_on_time"] = ("follow_ups", [cell("on_time")])
    if report.instrument == "audit":
        for level in ("1", "2", "3", "4"):
            checks[f"conversation:{level}"] = ("levels", [cell(level, "delivered")])
            checks[f"level:{level}"] = ("levels", [row_total(level)])
    for name, (table_id, members) in checks.items():
        if any(release[table_id][m].hidden for m in members):
            assert rates[name].hidden, name
    if release["results"][TOTAL].hidden:
        assert all(rates[f"pathway:{p}"].hidden for p in ("gp", "elder_care")
                   if not rates[f"pathway:{p}"].denominator == 0)
    if report.instrument == "audit":
        level_rows = [release["levels"][row_total(lv)] for lv in ("1", "2", "3", "4")]
        if any(f.hidden for f in level_rows[:1]) and any(f.hidden for f in level_rows[1:]):
            assert rates["level2plus"].hidden or derivable(release["levels"], [
                row_total(lv) for lv in ("2", "3", "4")]) is not None


def test_a_rate_whose_numerator_or_denominator_is_hidden_is_hidden() -> None:
    rows = ([GroupRow("2024-01", "I", None, "75_84", "female", 1, 40, 0, 12, 3, 0,
                      (0, 0, 0, 0))]
            + [GroupRow("2024-01", "II", None, "75_84", "male", 2, 3, 2, 0, 0, 0, (0, 0, 0, 0))]
            + [GroupRow("2024-01", "III", None, "65_74", "male", 3, 9, 6, 0, 0, 0, (0, 0, 0, 0))])
    report = build_report("audit", Period.month("2024-01"), rows, K)
    assert report.release["levels"][cell("2", "delivered")].hidden
    assert report.rates["conversation:2"].hidden
    assert report.release["follow_ups"][cell("late")].hidden
    assert report.rates["follow_up_on_time"].hidden
    levels = report.release["levels"]
    for level in ("1", "2", "3", "4"):
        parts_hidden = levels[row_total(level)].hidden or levels[TOTAL].hidden
        assert report.rates[f"level:{level}"].hidden == parts_hidden
    _rates_of_hidden_are_hidden(report)


# --------------------------------------------------------------------------- examples


def grid(rows: dict[str, dict[str, int]]) -> tuple[TableSpec, dict[tuple[str, str], int]]:
    cols = tuple(sorted({c for r in rows.values() for c in r}))
    spec = TableSpec("t", GRID, cols, tuple(rows))
    return spec, {(r, c): v for r, cs in rows.items() for c, v in cs.items()}


def test_primary_and_complementary_cells_and_zeros() -> None:
    spec, counts = grid({"a": {"x": 3, "y": 20, "z": 0}, "b": {"x": 30, "y": 25, "z": 0}})
    hidden = protect_atom([spec], {"t": counts}, K)["t"]
    assert hidden[cell("a", "x")] == PRIMARY
    assert COMPLEMENTARY in hidden.values()
    assert cell("a", "z") not in hidden and cell("b", "z") not in hidden  # zeros are shown
    for line, _total in spec.lines():  # no line has exactly one hidden figure
        assert sum(m in hidden for m in line) != 1 or _total in hidden


def test_a_list_of_ones_hides_the_total_everywhere() -> None:
    """Ten cells of 1 with the total 10 published would pin each to 1 (zeros are shown, so
    a hidden cell is at least 1): the grand total is hidden, in every table of the month."""
    spec = TableSpec("t", LIST, tuple("abcdefghij"))
    other = TableSpec("u", LIST, ("p", "q"))
    hidden = protect_atom([spec, other], {"t": dict.fromkeys("abcdefghij", 1),
                                          "u": {"p": 6, "q": 4}}, K)
    assert TOTAL in hidden["t"] and TOTAL in hidden["u"]


def test_a_longer_period_hides_what_a_month_hides() -> None:
    specs = [TableSpec("t", LIST, ("a", "b", "c"))]
    series = protect_series(specs, {"2024-01": {"t": {"a": 2, "b": 30, "c": 10}},
                                    "2024-02": {"t": {"a": 10, "b": 30, "c": 10}}}, K)
    ytd = series.release(["2024-01", "2024-02"])
    assert ytd["t"][cell("a")].reason == SERIES  # 12 is not small, but January's 2 is hidden
    assert series.release(["2024-02"])["t"][cell("a")].value == 10


def test_derivable_sums_use_published_totals_only() -> None:
    spec = TableSpec("t", LIST, ("a", "b", "c"))
    series = protect_series([spec], {"m": {"t": {"a": 3, "b": 9, "c": 40}}}, K)
    table = series.release(["m"])["t"]
    assert table[cell("a")].hidden and table[cell("b")].hidden
    assert derivable(table, [cell("a"), cell("b")]) == 12  # total 52 minus c 40
    assert derivable(table, [cell("a")]) is None


def test_periods() -> None:
    assert Period.quarter(2024, 2).months == ("2024-04", "2024-05", "2024-06")
    assert len(Period.year(2024).months) == 12
    assert [label for label, _m in plan_quarters(Period.month("2024-05"))][-2:] == [
        "2024-Q1", "2024-Q2"]
    assert months_needed(Period.month("2024-05")) == ("2022-07", "2024-06")
    for bad in (("2024-13", "2024-13"), ("2024-06", "2024-01"), ("1999-01", "1999-02"),
                ("2000-01", "2024-01"), ("24-01", "24-02")):
        with pytest.raises(PeriodError):
            Period(*bad)
    with pytest.raises(PeriodError):
        Period.quarter(2024, 5)


def test_specs_cover_both_instruments() -> None:
    assert [s.id for s in specs_for("audit")] == ["results", "levels", "follow_ups", "pathways"]
    assert [s.id for s in specs_for("dudit")] == ["results", "follow_ups", "pathways"]
    spec = specs_for("audit")[0]
    assert col_total(spec.cols[0]) in spec.positions()


# --------------------------------------------------------------------------- the LP attacker


def _atoms(instrument: str, rows: list[GroupRow]) -> dict[str, dict]:
    from screening.core.report_tables import atoms_from

    return atoms_from(instrument, rows)


def _attack_populations(count: int, seed: int) -> list[tuple[str, list[GroupRow]]]:
    rng = random.Random(seed)
    result = []
    for i in range(count):
        instrument = "dudit" if i % 5 == 4 else "audit"
        size = rng.choice((8, 20, 40, 80, 150, 300))
        people = population(rng, size, YEAR_MONTHS[:4], instrument=instrument)
        mask = rng.randrange(1, 256)
        result.append((instrument, [row for unit, _s, row in people if mask >> unit & 1]))
    return result


def test_the_attacker_narrows_no_hidden_figure_of_a_month() -> None:
    pytest.importorskip("scipy")
    from tests.core.lp_attacker import weakest

    checked = 0
    for instrument, rows in _attack_populations(40, seed=11):
        specs = specs_for(instrument)
        series = protect_series(specs, _atoms(instrument, rows), K)
        releases = {"month": series.release(["2024-01"])}
        checked += sum(len(t.hidden()) for t in releases["month"].tables.values())
        assert not weakest(specs, releases, K), instrument
        assert not weakest(specs, releases, K, labelled=True), instrument
    assert checked > 100  # the populations do hide figures


@pytest.mark.parametrize("first", [0, 2], ids=["jan-feb-ytd", "mar-apr-ytd"])
def test_the_attacker_gains_nothing_from_a_release_series(first: int) -> None:
    """A month, the next month and the year to date, with the additivity between them (and,
    when the year started earlier, the unreleased months as unknown counts >= 0)."""
    pytest.importorskip("scipy")
    from tests.core.lp_attacker import weakest

    for instrument, rows in _attack_populations(24, seed=97 + first):
        specs = specs_for(instrument)
        series = protect_series(specs, _atoms(instrument, rows), K)
        releases = {"month": series.release([YEAR_MONTHS[first]]),
                    "next": series.release([YEAR_MONTHS[first + 1]]),
                    "ytd": series.release(YEAR_MONTHS[:first + 2])}
        assert not weakest(specs, releases, K), instrument
        assert not weakest(specs, releases, K, labelled=True), instrument


def test_the_attacker_catches_a_year_to_date_protected_on_its_own() -> None:
    """The control: suppressing the year to date by itself, without hiding what the months
    hide, lets the attacker recover hidden counts by subtraction."""
    pytest.importorskip("scipy")
    from tests.core.lp_attacker import weakest

    caught = 0
    populations = _attack_populations(10, seed=5)
    for instrument, rows in populations:
        specs = specs_for(instrument)
        atoms = _atoms(instrument, [r for r in rows if r.month in YEAR_MONTHS[:2]])
        merged: dict[str, dict] = {}
        for atom in atoms.values():
            for table_id, counts in atom.items():
                into = merged.setdefault(table_id, {})
                for key, value in counts.items():
                    into[key] = into.get(key, 0) + value
        months = protect_series(specs, atoms, K)
        alone = protect_series(specs, {"2024-01": merged}, K).release(["2024-01"])
        ytd = Release(alone.k, YEAR_MONTHS[:2], alone.tables)
        releases = {"month": months.release([YEAR_MONTHS[0]]),
                    "next": months.release([YEAR_MONTHS[1]]), "ytd": ytd}
        caught += bool(weakest(specs, releases, K))
    assert caught >= len(populations) // 2
