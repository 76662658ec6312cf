"""A linear-programming attacker against published report tables (scipy's HiGHS).

The attacker knows every published figure of every release it is given, the structure of
each table (rows and columns add up to their totals; the tables of one release share the
grand total; a count of a table without totals, such as the assessments with a pathway,
is at most that grand total), that counts are >= 0, and how releases add up: a release
over several months is the sum of the releases of those months, and months it was not given
are unknown tables of counts >= 0. ``labelled``: it also reads the mark of every hidden
figure as the page shows it (``ReleasedTable.mark``: decided in
``screening.core.aggregation``, for the web layer and this attacker alike) and knows what
the mark says (``ReleasedTable.bounds``): "<k" 1 .. k-1, "x" k or more, ":" at least 1
(zeros are shown); months it was not given stay >= 0.
For every hidden figure it computes the smallest and largest value consistent with all of it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import lil_matrix

from screening.core.aggregation import PLAIN, TOTAL, Release, TableSpec

Key = tuple[str, str, tuple[str, ...]]  # (release name, table id, position)


@dataclass
class _Model:
    index: dict[Key, int]
    constant: dict[Key, int]
    rows: list[dict[int, float]]
    rhs: list[float]
    ub_rows: list[dict[int, float]] = field(default_factory=list)
    ub_rhs: list[float] = field(default_factory=list)

    def term(self, key: Key) -> tuple[int | None, int]:
        if key in self.index:
            return self.index[key], 0
        return None, self.constant[key]

    def equal(self, plus: Sequence[Key], minus: Sequence[Key]) -> None:
        """sum(plus) - sum(minus) = 0 over variables and constants."""
        row, rhs = self._row(plus, minus)
        if row:
            self.rows.append(row)
            self.rhs.append(rhs)
        elif abs(rhs) > 1e-9:
            raise AssertionError("the published figures contradict each other")

    def at_most(self, plus: Sequence[Key], minus: Sequence[Key]) -> None:
        """sum(plus) - sum(minus) <= 0 over variables and constants."""
        row, rhs = self._row(plus, minus)
        if row:
            self.ub_rows.append(row)
            self.ub_rhs.append(rhs)
        elif rhs < -1e-9:
            raise AssertionError("the published figures contradict each other")

    def _row(self, plus: Sequence[Key], minus: Sequence[Key]) -> tuple[dict[int, float], float]:
        row: dict[int, float] = {}
        rhs = 0.0
        for sign, keys in ((1.0, plus), (-1.0, minus)):
            for key in keys:
                var, value = self.term(key)
                if var is None:
                    rhs -= sign * value
                else:
                    row[var] = row.get(var, 0.0) + sign
        return {v: c for v, c in row.items() if c}, rhs


def _problem(specs: Sequence[TableSpec], releases: Mapping[str, Release],
             labelled: bool) -> _Problem:
    index: dict[Key, int] = {}
    constant: dict[Key, int] = {}
    bounds: list[tuple[float, float | None]] = []
    for name, release in releases.items():
        for spec in specs:
            table = release[spec.id]
            for pos, figure in table.figures.items():
                key = (name, spec.id, pos)
                if figure.hidden:
                    index[key] = len(index)
                    low, high = table.bounds(pos) if labelled else (0, None)
                    bounds.append((float(low), None if high is None else float(high)))
                else:
                    assert figure.value is not None
                    constant[key] = figure.value
    # Months inside a longer release that were not released on their own: unknown counts.
    single = {r.months[0]: n for n, r in releases.items() if len(r.months) == 1}
    parts: dict[str, list[str]] = {}
    for name, release in releases.items():
        inside = [single[m] for m in release.months if m in single]
        if len(release.months) == 1 or not inside:
            continue
        parts[name] = inside
        if len(inside) < len(release.months):
            rest = f"{name}-unreleased"
            parts[name].append(rest)
            for spec in specs:
                for pos in spec.positions():
                    index[(rest, spec.id, pos)] = len(index)
                    bounds.append((0.0, None))
    model = _Model(index, constant, [], [])
    names = list(releases) + sorted({k[0] for k in index if k[0].endswith("-unreleased")})
    for name in names:
        present = [s for s in specs if (name, s.id, s.positions()[0]) in index
                   or (name, s.id, s.positions()[0]) in constant]
        for spec in present:
            for members, total in spec.lines():
                model.equal([(name, spec.id, m) for m in members], [(name, spec.id, total)])
        totals = [(name, s.id, TOTAL) for s in present if s.kind != PLAIN]
        for other in totals[1:]:
            model.equal([totals[0]], [other])
        for spec in present:
            if spec.kind == PLAIN and totals:
                for pos in spec.positions():
                    model.at_most([(name, spec.id, pos)], [totals[0]])
    for name, inside in parts.items():
        for spec in specs:
            for pos in spec.positions():
                model.equal([(name, spec.id, pos)], [(p, spec.id, pos) for p in inside])
    return _Problem(index, *_sparse(model.rows, model.rhs, len(index)),
                    *_sparse(model.ub_rows, model.ub_rhs, len(index)), bounds)


def _sparse(rows: list[dict[int, float]], rhs: list[float], size: int
            ) -> tuple[object, object]:
    if not rows:
        return None, None
    matrix = lil_matrix((len(rows), size))
    for i, row in enumerate(rows):
        for var, coef in row.items():
            matrix[i, var] = coef
    return matrix.tocsr(), np.array(rhs)


@dataclass
class _Problem:
    index: dict[Key, int]
    a_eq: object
    b_eq: object
    a_ub: object
    b_ub: object
    bounds: list[tuple[float, float | None]]

    def solve(self, objective: np.ndarray) -> tuple[float, np.ndarray | None]:
        """The minimum of ``objective`` (-inf if unbounded) and a point reaching it."""
        result = linprog(objective, A_ub=self.a_ub, b_ub=self.b_ub, A_eq=self.a_eq,
                         b_eq=self.b_eq, bounds=self.bounds, method="highs")
        if result.status == 3:
            return float("-inf"), None
        assert result.status == 0, f"attacker LP failed: {result.message}"
        return float(result.fun), np.asarray(result.x)

    def targets(self) -> dict[Key, int]:
        return {key: var for key, var in self.index.items()
                if not key[0].endswith("-unreleased")}


def intervals(specs: Sequence[TableSpec], releases: Mapping[str, Release],
              labelled: bool = False) -> dict[Key, tuple[float, float]]:
    """(release, table, position) of every hidden figure -> (lowest, highest) value."""
    problem = _problem(specs, releases, labelled)
    result = {}
    for key, var in problem.targets().items():
        objective = np.zeros(len(problem.index))
        objective[var] = 1.0
        low, _ = problem.solve(objective)
        high, _ = problem.solve(-objective)
        result[key] = (low, -high)
    return result


def weakest(specs: Sequence[TableSpec], releases: Mapping[str, Release], k: int,
            labelled: bool = False, seed: int = 0) -> list[tuple[Key, float, float]]:
    """Hidden figures the attacker narrows below ``k`` (``labelled``: pins exactly), with
    their intervals. Every solution found is a feasible point, so a figure already seen
    to vary by ``k`` (or at all) needs no optimisation of its own."""
    need = 1e-6 if labelled else k - 1e-6
    problem = _problem(specs, releases, labelled)
    targets = problem.targets()
    if not targets:
        return []
    size = len(problem.index)
    seen_low = np.full(size, np.inf)
    seen_high = np.full(size, -np.inf)

    def note(point: np.ndarray | None) -> None:
        if point is not None:
            np.minimum(seen_low, point, out=seen_low)
            np.maximum(seen_high, point, out=seen_high)

    rng = np.random.default_rng(seed)
    for _ in range(4):
        note(problem.solve(rng.normal(size=size))[1])
    weak = []
    for key, var in targets.items():
        if seen_high[var] - seen_low[var] >= need:
            continue
        objective = np.zeros(size)
        objective[var] = 1.0
        low, point = problem.solve(objective)
        note(point)
        if seen_high[var] - low >= need:
            continue
        high, point = problem.solve(-objective)
        note(point)
        if -high - low < need:
            weak.append((key, low, -high))
    return weak

