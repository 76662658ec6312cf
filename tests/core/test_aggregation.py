"""Small-cell suppression (core, no app): no published count from 1 to k-1 over 1,000
synthetic populations; a linear-programming attacker (scipy) narrows no hidden figure below k,
and, reading the marks ("<k": 1 .. k-1, "x": k or more, ":": at least 1), pins none, also
across a release series (a month, the next month, the year to date); controls show that the
attacker catches suppression that ignores the marks and periods marked by their own sums;
every rate whose numerator or denominator is hidden is hidden."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from screening.core import aggregation
from screening.core.aggregation import (
    COMPLEMENTARY,
    GRID,
    LARGE,
    LIST,
    PRIMARY,
    SERIES,
    SMALL,
    TOTAL,
    UNSIZED,
    Figure,
    Release,
    ReleasedTable,
    Series,
    TableSpec,
    cell,
    col_total,
    derivable,
    mark_text,
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
from screening.core.suppression import Network, protect, unprotected
from tests.core.lp_attacker import intervals, weakest

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
    assert ytd["t"].mark(cell("a")) == LARGE  # February alone published 10
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


def test_specs_cover_every_instrument() -> None:
    assert [s.id for s in specs_for("audit")] == ["results", "levels", "origin", "follow_ups",
                                                   "pathways"]
    assert [s.id for s in specs_for("dudit")] == ["results", "follow_ups", "pathways"]
    assert [s.id for s in specs_for("audit_c")] == ["results", "follow_ups", "pathways"]
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
    for instrument, rows in _attack_populations(24, seed=97 + first):
        specs = specs_for(instrument)
        series = protect_series(specs, _atoms(instrument, rows), K)
        releases = {"month": series.release([YEAR_MONTHS[first]]),
                    "next": series.release([YEAR_MONTHS[first + 1]]),
                    "ytd": series.release(YEAR_MONTHS[:first + 2])}
        assert not weakest(specs, releases, K), instrument
        assert not weakest(specs, releases, K, labelled=True), instrument


@pytest.mark.parametrize("k", [3, 7])
def test_the_attacker_gains_nothing_with_another_k(k: int) -> None:
    """k is a setting: with k = 3 the marks "<3" (1 or 2) are tight, and small months hide
    their grand total often (the tables sharing it must not pin it between them)."""
    for instrument, rows in _attack_populations(12, seed=31):
        specs = specs_for(instrument)
        series = protect_series(specs, _atoms(instrument, rows), k)
        releases = {"month": series.release([YEAR_MONTHS[0]]),
                    "next": series.release([YEAR_MONTHS[1]]),
                    "quarter": series.release(YEAR_MONTHS[:3])}
        assert not weakest(specs, releases, k), instrument
        assert not weakest(specs, releases, k, labelled=True), instrument


def test_the_attacker_catches_a_year_to_date_protected_on_its_own() -> None:
    """The control: suppressing the year to date by itself, without hiding what the months
    hide, lets the attacker recover hidden counts by subtraction."""
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


# --------------------------------------------------------------------------- marks


def _one_list(values: dict[str, int]) -> tuple[TableSpec, Release]:
    spec = TableSpec("t", LIST, tuple(values))
    return spec, protect_series([spec], {"2024-01": {"t": values}}, K).release(["2024-01"])


def _list_network(values: list[int]) -> tuple[Network, list[int]]:
    """A list of cells and its total (the last value) as a network: cells 0 -> 1, total
    1 -> 0."""
    return Network(2, ((0, 1),) * (len(values) - 1) + ((1, 0),)), values


def test_a_month_marks_primary_figures_below_k_and_others_x() -> None:
    """The list 3, 6, 40 with its total 49 published: 3 is hidden, and 6 with it (cheapest).
    Reading the marks, 3 is "<5" (1 .. 4) and 6 is "x" (at least 5); as 3 + 6 = 49 - 40 = 9,
    the attacker narrows 6 to 5 .. 8 (without the marks: 0 .. 9) but pins neither."""
    spec, release = _one_list({"a": 3, "b": 6, "c": 40})
    table = release["t"]
    assert table.hidden() == {cell("a"): PRIMARY, cell("b"): COMPLEMENTARY}
    assert [table.mark(cell(c)) for c in "abc"] == [SMALL, LARGE, None]
    assert [mark_text(m, K) for m in (SMALL, LARGE, UNSIZED)] == ["<5", "x", ":"]
    assert table.bounds(cell("a")) == (1, 4) and table.bounds(cell("b")) == (5, None)
    labelled = intervals([spec], {"m": release}, labelled=True)
    assert labelled == {("m", "t", cell("a")): (1, 4), ("m", "t", cell("b")): (5, 8)}
    plain = intervals([spec], {"m": release})
    assert plain == {("m", "t", cell("a")): (0, 9), ("m", "t", cell("b")): (0, 9)}


@pytest.mark.parametrize(("values", "pinned"), [
    ([1, 5, 40, 46], [1, 5]),  # 1 + b = 6 and b >= 5: b = 5, so a = 1
    ([4, 4, 40, 48], [4, 4]),  # a + b = 8 and both <= 4: both are 4
], ids=["primary-and-x", "two-primaries"])
def test_the_labelled_model_reads_the_marks(values: list[int], pinned: list[int]) -> None:
    """Hiding a and b alone is enough when a hidden figure is only known to be >= 1, and
    pins both once "<5" (1 .. 4) and "x" (>= 5) are read; protection then hides c too."""
    net, vals = _list_network(values)
    primary = [e for e in range(3) if 0 < vals[e] < K]
    assert sorted(protect(net, vals, K, fixed=[3], marks=False).hidden) == [0, 1]
    assert unprotected(net, vals, K, {0, 1}, primary, marks=False) == []
    assert unprotected(net, vals, K, {0, 1}, primary) == [0, 1]
    spec, release = _one_list(dict(zip("abc", values[:3], strict=True)))
    hidden_ab = {c: Figure(None, PRIMARY, SMALL) if vals[i] < K
                 else Figure(None, COMPLEMENTARY, LARGE)
                 for i, c in enumerate((cell("a"), cell("b")))}
    weak = Release(K, ("2024-01",), {"t": ReleasedTable(spec, {
        **release["t"].figures, **hidden_ab, cell("c"): Figure(values[2])}, K)})
    assert [(key[2], low, high) for key, low, high in weakest([spec], {"m": weak}, K,
                                                             labelled=True)] == [
        (cell("a"), pinned[0], pinned[0]), (cell("b"), pinned[1], pinned[1])]
    assert sorted(protect(net, vals, K, fixed=[3]).hidden) == [0, 1, 2]
    assert set(release["t"].hidden()) == {cell("a"), cell("b"), cell("c")}
    assert not weakest([spec], {"m": release}, K, labelled=True)
    assert not weakest([spec], {"m": release}, K)


def _remarked(release: Release, table_id: str, marks: dict[tuple[str, ...], str]) -> Release:
    """``release`` with some hidden figures of one table marked otherwise."""
    table = release[table_id]
    figures = {**table.figures, **{p: Figure(None, table[p].reason, mark)
                                   for p, mark in marks.items()}}
    return Release(release.k, release.months,
                   {**release.tables, table_id: ReleasedTable(table.spec, figures, table.k)})


def test_a_total_is_marked_with_what_its_members_marks_say() -> None:
    """Rows a: 1, 1, 1, 1 and b: 40, 40, 40, 40; the columns (41 each) and the grand total
    164 published. Every cell hides; row a (4) is ":" - its members' marks make it 4 to 16 -
    and row b "x". By hand: each 1 is 1 .. 4, so each 40 is 37 .. 40, row a 4 .. 16. Marked
    "<5" by its own value, row a would pin every cell (four of at least 1, at most 4 in all),
    and nothing more could be hidden to prevent it."""
    spec, counts = grid({"a": dict.fromkeys("wxyz", 1), "b": dict.fromkeys("wxyz", 40)})
    release = protect_series([spec], {"m": {"t": counts}}, K).release(["m"])
    table = release["t"]
    assert {p: table.mark(p) for p in table.hidden()} == {
        **{cell("a", c): SMALL for c in "wxyz"}, **{cell("b", c): LARGE for c in "wxyz"},
        row_total("a"): UNSIZED, row_total("b"): LARGE}
    found = intervals([spec], {"m": release}, labelled=True)
    assert {key[2]: bounds for key, bounds in found.items()} == {
        **{cell("a", c): (1, 4) for c in "wxyz"}, **{cell("b", c): (37, 40) for c in "wxyz"},
        row_total("a"): (4, 16), row_total("b"): (148, 160)}
    own_value = weakest([spec], {"m": _remarked(release, "t", {row_total("a"): SMALL})}, K,
                        labelled=True)
    assert {(key[2], low, high) for key, low, high in own_value} >= {
        (cell("a", c), 1, 1) for c in "wxyz"}


def test_a_month_that_hides_its_grand_total_marks_its_counts_unsized() -> None:
    """Four assessments without follow-up, in four cells of the results grid. With the total
    4 published, the follow-up "none" (4) equals it: the total hides, in both tables. Were the
    cells marked, "<5" on "none" would bound the total by 4 and the four cells, at least 1
    each, would pin it and themselves (each is 1); so every hidden count is ":"."""
    results, counts = grid({r: {c: int(r == d) for c, d in zip("wxyz", "abcd", strict=True)}
                            for r in "abcd"})
    specs = [results, TableSpec("f", LIST, ("none", "late"))]
    series = protect_series(specs, {"m": {"t": counts, "f": {"none": 4}}}, K)
    release = series.release(["m"])
    assert not series.marked("m")
    assert TOTAL in release["t"].hidden() and TOTAL in release["f"].hidden()
    assert {t.mark(p) for t in release.tables.values() for p in t.hidden()} == {UNSIZED}
    assert not weakest(specs, {"m": release}, K, labelled=True)
    assert not weakest(specs, {"m": release}, K)
    cells = {p: SMALL for p in release["t"].hidden() if p[0] == "cell"}
    marked = _remarked(_remarked(release, "t", cells), "f", {cell("none"): SMALL})
    assert {(key[2], low, high) for key, low, high in weakest(specs, {"m": marked}, K,
                                                            labelled=True)} >= {
        (p, 1, 1) for p in cells} | {(TOTAL, 4, 4)}


def test_a_hidden_total_is_x_when_its_members_make_it_k_or_more() -> None:
    """Rows a: 9, 3; b: 30, 0; c: 2, 0 (columns x, y). 3 and 2 are "<5", 9 is hidden with
    them ("x"); row a (9 + 3: at least 5 + 1) and column x (9 + 30 + 2) are "x"; row c and
    column y, one "<5" member each, are "<5". By hand: 9 + 3 + 2 = 44 - 30 = 14 (the grand
    total and row b are published), so 9 lies in 6 .. 12 and row a in 10 .. 13."""
    spec, counts = grid({"a": {"x": 9, "y": 3}, "b": {"x": 30, "y": 0}, "c": {"x": 2, "y": 0}})
    release = protect_series([spec], {"m": {"t": counts}}, K).release(["m"])
    table = release["t"]
    assert {p: table.mark(p) for p in table.hidden()} == {
        cell("a", "x"): LARGE, cell("a", "y"): SMALL, cell("c", "x"): SMALL,
        row_total("a"): LARGE, row_total("c"): SMALL, col_total("x"): LARGE,
        col_total("y"): SMALL}
    found = intervals([spec], {"m": release}, labelled=True)
    assert {key[2]: bounds for key, bounds in found.items()} == {
        cell("a", "x"): (6, 12), cell("a", "y"): (1, 4), cell("c", "x"): (1, 4),
        row_total("a"): (10, 13), row_total("c"): (1, 4), col_total("x"): (40, 43),
        col_total("y"): (1, 4)}


def test_with_k_2_every_hidden_count_is_unsized() -> None:
    """With k = 2 a "<2" would say "1": hidden counts are ":" and the protection knows only
    that they are at least 1 (asking it to read "<2" marks is refused)."""
    with pytest.raises(ValueError):
        protect(*_list_network([1, 9, 0, 10]), 2, fixed=[3])
    spec = TableSpec("t", LIST, ("a", "b"))
    release = protect_series([spec], {"m": {"t": {"a": 1, "b": 9}}}, 2).release(["m"])
    assert {release["t"].mark(p) for p in release["t"].hidden()} == {UNSIZED}
    assert release["t"].hidden() == {cell("a"): PRIMARY, cell("b"): COMPLEMENTARY}


def test_a_period_is_marked_from_its_months_not_from_its_own_sum() -> None:
    """Four months each with a = 1 ("<5"): their sum 4 is ":", not "<5"; a fifth makes it
    at least 5 ("x"). One month holding a (2, the other months 0) keeps "<5"."""
    spec = TableSpec("t", LIST, ("a", "b"))
    months = YEAR_MONTHS[:5]
    series = protect_series([spec], {m: {"t": {"a": 1, "b": 40}} for m in months}
                            | {"2024-06": {"t": {"a": 2, "b": 40}}, "2024-07": {"t": {"b": 9}}}, K)
    assert series.release(months[:1])["t"].mark(cell("a")) == SMALL
    assert series.release(months[:4])["t"].mark(cell("a")) == UNSIZED
    assert series.release(months[:4])["t"].mark(cell("b")) == LARGE
    assert series.release(months)["t"].mark(cell("a")) == LARGE
    assert series.release(["2024-06", "2024-07"])["t"].mark(cell("a")) == SMALL
    assert series.release(["2024-06", "2024-07"])["t"][cell("a")].reason == PRIMARY


def _marked_by_sum(series: Series, months: Sequence[str]) -> Release:
    """The release of ``months`` with every hidden count marked by its own sum (the rule
    this project does not use)."""
    release = series.release(months)
    tables = {}
    for table_id, table in release.tables.items():
        figures = dict(table.figures)
        for pos in table.hidden():
            total = sum(series.values[m][table_id][pos] for m in months)
            figures[pos] = Figure(None, table[pos].reason, SMALL if total < K else LARGE)
        tables[table_id] = ReleasedTable(table.spec, figures, K)
    return Release(K, release.months, tables)


@pytest.mark.parametrize(("atoms", "pinned"), [
    ({m: {"t": {"a": 1, "b": 40}} for m in YEAR_MONTHS[:4]}, ("month-0", cell("a"), 1)),
    ({"2024-01": {"t": {"a": 2, "b": 3, "c": 40}},
      "2024-02": {"t": {"a": 3, "b": 2, "c": 40}}}, ("period", cell("a"), 5)),
], ids=["four-ones-below-5", "two-plus-three-at-least-5"])
def test_marking_a_period_by_its_own_sum_would_leak(
        atoms: dict[str, Any], pinned: tuple[str, tuple[str, ...], int]) -> None:
    """The control for the period marks: marked by its own sum, a period pins a count (four
    months of 1 summed to 4 marked "<5": every month is 1; a = 2 + 3 and b = 3 + 2 with
    a + b = 10 published, both marked "x": both are 5); marked from its months, nothing."""
    names = sorted(atoms)
    spec = TableSpec("t", LIST, tuple(sorted({c for a in atoms.values() for c in a["t"]})))
    series = protect_series([spec], atoms, K)
    months = {f"month-{i}": series.release([m]) for i, m in enumerate(names)}
    leaky = weakest([spec], {**months, "period": _marked_by_sum(series, names)}, K,
                    labelled=True)
    name, position, value = pinned
    assert ((name, "t", position), value, value) in leaky
    honest = series.release(names)
    assert honest["t"].mark(cell("a")) == UNSIZED
    assert not weakest([spec], {**months, "period": honest}, K, labelled=True)
    assert not weakest([spec], {"period": honest}, K, labelled=True)


def _old_model(protect: Callable[..., Any]) -> Callable[..., Any]:
    """``protect`` with the old labelled model: a hidden figure is known to be >= 1 only."""
    return lambda *args, **kwargs: protect(*args, **{**kwargs, "marks": False})


def test_the_attacker_catches_months_protected_without_reading_the_marks(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The control for the month test: suppression that assumes an attacker knows only that
    a hidden count is >= 1, published with the marks "<5" and "x", lets the mark-aware
    attacker pin counts (the same populations pass with the real suppression)."""
    populations = _attack_populations(40, seed=11)  # those of the month test
    monkeypatch.setattr(aggregation, "protect", _old_model(aggregation.protect))
    caught = 0
    for instrument, rows in populations:
        specs = specs_for(instrument)
        series = protect_series(specs, _atoms(instrument, rows), K)
        releases = {"month": series.release(["2024-01"])}
        assert not weakest(specs, releases, K), instrument  # safe without the marks
        caught += bool(weakest(specs, releases, K, labelled=True))
    assert caught >= len(populations) // 10  # 6 of the 40


def test_a_pathway_hidden_with_the_levels_is_unsized_as_it_is_at_most_the_total() -> None:
    """Five AUDITs in a month, all with the GP pathway: 3 at level 2, 2 at level 3. The
    levels hide (3 and 2 are below 5), so the pathways hide with them (*linked*); the grand
    total 5 is published. A pathway count is at most the month's total, so marking the
    hidden 5 "x" (at least 5) would pin it at 5: every one of the five had the pathway. It
    is marked ":" (at least 1) instead, and the attacker, who knows that bound, gets 1 .. 5."""
    rows = [GroupRow("2024-01", "II", None, "75_84", "female", 2, 3, 3, 0, 0, 0, (0, 3, 0, 0)),
            GroupRow("2024-01", "III", None, "75_84", "female", 3, 2, 0, 0, 0, 0, (0, 2, 0, 0))]
    specs = specs_for("audit")
    release = protect_series(specs, _atoms("audit", rows), K).release(["2024-01"])
    assert release["results"].figures[TOTAL].value == 5
    pathways = release["pathways"]
    assert pathways.hidden()[cell("gp")] == aggregation.LINKED
    assert pathways.mark(cell("gp")) == UNSIZED
    found = intervals(specs, {"m": release}, labelled=True)
    assert found[("m", "pathways", cell("gp"))] == (1, 5)
    assert not weakest(specs, {"m": release}, K, labelled=True)


def test_the_attacker_pins_no_pathway_of_a_small_month() -> None:
    """Months of 5 to 9 AUDITs where most have each pathway (pathways follow from levels
    under a rule set, so whole months can share one): the attacker, who knows a pathway count
    is at most the month's total, pins none (with "x" for linked counts it pinned some)."""
    import dataclasses

    rng = random.Random(5)
    hidden = 0
    for size in [5, 6, 7, 8, 9] * 8:
        rows = [dataclasses.replace(row, pathways=tuple(int(rng.random() < 0.9)
                                                        for _ in range(4)))
                for _u, _s, row in population(rng, size, YEAR_MONTHS[:1])]
        specs = specs_for("audit")
        releases = {"month": protect_series(specs, _atoms("audit", rows), K)
                    .release(YEAR_MONTHS[:1])}
        hidden += len(releases["month"]["pathways"].hidden())
        assert not weakest(specs, releases, K, labelled=True)
    assert hidden > 40  # the months do hide pathways
