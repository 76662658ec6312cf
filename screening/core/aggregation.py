"""Counts, tables, rates and small-cell suppression (design.md section 8), standard library only.

Tables come in three kinds: a *grid* (rows x columns, with row totals, column totals and a
grand total), a *list* (counts with their total) and a *plain* list (counts with no total,
e.g. pathways, where one assessment may count in several). Grids and lists of one release
share their grand total: the number of assessments.

Suppression works on a series of *atoms* (one per month). Each atom is protected on its own
(:func:`protect_atom`): a count from 1 to k-1 is hidden (*primary*); then other counts are
hidden (*complementary*) until no hidden count can be narrowed to an interval shorter than k
from the published counts and totals, nor pinned to one value by someone who also knows that
a hidden count is at least 1 (zeros are shown) - see :mod:`screening.core.suppression`. When
only hiding the grand total can do that (many counts of 1), it is hidden in every table of the
month, since the tables share it. Every hidden figure is shown with the same mark.
A release over several months sums the months and hides every figure hidden in any of them
(*series*), so a month, the next month and the year to date, or any other periods made of
whole months, published side by side, reveal nothing the months alone do not: every figure
such a release publishes is the sum of figures each month publishes. A plain count linked to
a table (pathways follow from action levels under the rule set) is hidden when that table
hides one of the figures it follows from (*linked*). A rate whose numerator or denominator
cannot be computed from published figures is hidden (*rate*).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .suppression import Network, protect

GRID, LIST, PLAIN = "grid", "list", "plain"
PRIMARY, COMPLEMENTARY, SERIES, LINKED, RATE = (
    "primary", "complementary", "series", "linked", "rate")
TOTAL: tuple[str, ...] = ("total",)
Position = tuple[str, ...]


def cell(*key: str) -> Position:
    return ("cell", *key)


def row_total(row: str) -> Position:
    return ("row", row)


def col_total(col: str) -> Position:
    return ("col", col)


@dataclass(frozen=True)
class TableSpec:
    """The shape of a table. ``linked`` (plain tables only): (table id, scope) pairs; a
    hidden figure of that table in that scope ("all", "rows", "row:NAME") hides every
    non-zero count of this one."""

    id: str
    kind: str
    cols: tuple[str, ...]
    rows: tuple[str, ...] = ()
    linked: tuple[tuple[str, str], ...] = ()

    def positions(self) -> list[Position]:
        if self.kind == GRID:
            return ([cell(r, c) for r in self.rows for c in self.cols]
                    + [row_total(r) for r in self.rows] + [col_total(c) for c in self.cols]
                    + [TOTAL])
        return [cell(c) for c in self.cols] + ([TOTAL] if self.kind == LIST else [])

    def complete(self, interior: Mapping[Any, int]) -> dict[Position, int]:
        """Every position's count, margins computed here. Grid keys: (row, col); others: col."""
        values: dict[Position, int] = {}
        if self.kind == GRID:
            for r in self.rows:
                for c in self.cols:
                    values[cell(r, c)] = int(interior.get((r, c), 0))
            for r in self.rows:
                values[row_total(r)] = sum(values[cell(r, c)] for c in self.cols)
            for c in self.cols:
                values[col_total(c)] = sum(values[cell(r, c)] for r in self.rows)
            values[TOTAL] = sum(values[row_total(r)] for r in self.rows)
        else:
            for c in self.cols:
                values[cell(c)] = int(interior.get(c, 0))
            if self.kind == LIST:
                values[TOTAL] = sum(values[cell(c)] for c in self.cols)
        return values

    def network(self) -> tuple[Network, list[Position]]:
        """The table as a circulation: one edge per position (in :meth:`positions` order)."""
        positions = self.positions()
        if self.kind == GRID:
            nr, nc = len(self.rows), len(self.cols)
            row_node = {r: i for i, r in enumerate(self.rows)}
            col_node = {c: nr + j for j, c in enumerate(self.cols)}
            rows_star, cols_star = nr + nc, nr + nc + 1
            edges = []
            for pos in positions:
                if pos[0] == "cell":
                    edges.append((row_node[pos[1]], col_node[pos[2]]))
                elif pos[0] == "row":
                    edges.append((cols_star, row_node[pos[1]]))
                elif pos[0] == "col":
                    edges.append((col_node[pos[1]], rows_star))
                else:
                    edges.append((rows_star, cols_star))
            return Network(nr + nc + 2, tuple(edges)), positions
        edges = [(0, 1) if pos[0] == "cell" else (1, 0) for pos in positions]
        return Network(2, tuple(edges)), positions

    def lines(self) -> list[tuple[list[Position], Position]]:
        """Every "these add up to that" of the table: (members, total)."""
        if self.kind == GRID:
            lines = [([cell(r, c) for c in self.cols], row_total(r)) for r in self.rows]
            lines += [([cell(r, c) for r in self.rows], col_total(c)) for c in self.cols]
            lines.append(([row_total(r) for r in self.rows], TOTAL))
            lines.append(([col_total(c) for c in self.cols], TOTAL))
            return lines
        if self.kind == LIST:
            return [([cell(c) for c in self.cols], TOTAL)]
        return []


Atom = Mapping[str, Mapping[Any, int]]  # table id -> interior counts
Pattern = dict[str, dict[Position, str]]  # table id -> hidden position -> reason


def protect_atom(specs: Sequence[TableSpec], atom: Atom, k: int) -> Pattern:
    """The hidden positions of one atom (month), with reasons; see the module docstring."""
    pattern: Pattern = {}
    values = {s.id: s.complete(atom.get(s.id, {})) for s in specs}
    networked = [s for s in specs if s.kind != PLAIN]
    hide_total = False
    for attempt in range(2):
        pattern = {}
        for spec in networked:
            net, positions = spec.network()
            vals = [values[spec.id][p] for p in positions]
            index = positions.index(TOTAL)
            result = protect(net, vals, k, fixed=[index], hide=[index] if hide_total else (),
                             costs=[(v + 1) * (1 if p[0] == "cell" else 3)
                                    for p, v in zip(positions, vals, strict=True)])
            if not result.complete and attempt == 0:
                break
            pattern[spec.id] = {positions[e]: PRIMARY if e in result.primary else COMPLEMENTARY
                                for e in result.hidden}
        else:
            break
        hide_total = True  # the grand total is shared: hide it in every table of the atom
    for spec in specs:
        if spec.kind != PLAIN:
            continue
        hidden = {cell(c): PRIMARY for c in spec.cols if 0 < values[spec.id][cell(c)] < k}
        if any(_linked_hidden(pattern.get(table, {}), scope) for table, scope in spec.linked):
            for c in spec.cols:
                if values[spec.id][cell(c)] > 0:
                    hidden.setdefault(cell(c), LINKED)
        pattern[spec.id] = hidden
    return pattern


def _linked_hidden(hidden: Mapping[Position, str], scope: str) -> bool:
    """Whether ``hidden`` holds a figure in ``scope``: "all", "rows" (a row total) or
    "row:NAME" (a figure of row NAME, or its total)."""
    if scope == "all":
        return bool(hidden)
    if scope == "rows":
        return any(pos[0] == "row" for pos in hidden)
    name = scope.removeprefix("row:")
    return any(len(pos) > 1 and pos[1] == name and pos[0] in ("row", "cell") for pos in hidden)


@dataclass(frozen=True)
class Figure:
    """A published count (``value``), or a hidden one (``value`` None, ``reason`` set)."""

    value: int | None
    reason: str | None = None

    @property
    def hidden(self) -> bool:
        return self.reason is not None


@dataclass(frozen=True)
class ReleasedTable:
    spec: TableSpec
    figures: Mapping[Position, Figure]
    k: int

    def __getitem__(self, position: Position) -> Figure:
        return self.figures[position]

    def hidden(self) -> dict[Position, str]:
        return {p: f.reason for p, f in self.figures.items() if f.reason is not None}


@dataclass(frozen=True)
class Release:
    """What may be published for a period: every table, counts or reasons."""

    k: int
    months: tuple[str, ...]
    tables: Mapping[str, ReleasedTable] = field(default_factory=dict)

    def __getitem__(self, table_id: str) -> ReleasedTable:
        return self.tables[table_id]


@dataclass(frozen=True)
class Series:
    """Monthly atoms with their protection, from which releases for any months are made."""

    specs: tuple[TableSpec, ...]
    k: int
    values: Mapping[str, Mapping[str, Mapping[Position, int]]]  # month -> table -> counts
    patterns: Mapping[str, Pattern]

    def release(self, months: Iterable[str]) -> Release:
        chosen = tuple(sorted(set(months)))
        tables = {}
        for spec in self.specs:
            sums = dict.fromkeys(spec.positions(), 0)
            active = dict.fromkeys(spec.positions(), 0)  # months where the count is not zero
            why: dict[Position, list[str]] = {}
            for month in chosen:
                month_values = self.values.get(month)
                if month_values is None:
                    continue
                for pos, value in month_values[spec.id].items():
                    if value:
                        sums[pos] += value
                        active[pos] += 1
                for pos, reason in self.patterns[month].get(spec.id, {}).items():
                    why.setdefault(pos, []).append(reason)
            figures = {}
            for pos, value in sums.items():
                hidden_as = _reason(value, why.get(pos, []), self.k, active[pos])
                figures[pos] = Figure(None if hidden_as else value, hidden_as)
            tables[spec.id] = ReleasedTable(spec, figures, self.k)
        return Release(self.k, chosen, tables)


def _reason(value: int, reasons: list[str], k: int, active_months: int) -> str | None:
    """Why a period's figure is hidden: small itself, else as in the one month that holds
    it, else because a month of the period hides it."""
    if 0 < value < k:
        return PRIMARY
    if not reasons:
        return None
    if active_months == 1 and len(reasons) == 1 or set(reasons) == {LINKED}:
        return reasons[0]
    return SERIES


def protect_series(specs: Sequence[TableSpec], atoms: Mapping[str, Atom], k: int) -> Series:
    values = {month: {s.id: s.complete(atom.get(s.id, {})) for s in specs}
              for month, atom in atoms.items()}
    return Series(tuple(specs), k, values,
                  {month: protect_atom(specs, atom, k) for month, atom in atoms.items()})


# --------------------------------------------------------------------------- rates


def derivable(table: ReleasedTable, members: Sequence[Position]) -> int | None:
    """The sum of ``members`` if the published figures give it, else None: directly, or as
    a published total minus the other published members of a line. A sum from 1 to k-1
    that is not itself a published figure is withheld as well."""
    k = table.k
    figures = table.figures
    if all(not figures[m].hidden for m in members):
        return sum(figures[m].value or 0 for m in members)
    wanted = set(members)
    for line, total in table.spec.lines():
        if not wanted <= set(line):
            continue
        others = [m for m in line if m not in wanted]
        if figures[total].hidden or any(figures[m].hidden for m in others):
            continue
        value = (figures[total].value or 0) - sum(figures[m].value or 0 for m in others)
        return None if 0 < value < k else value
    return None


@dataclass(frozen=True)
class Rate:
    """``numerator`` of ``denominator`` (None when hidden); ``reason`` "rate" when hidden."""

    numerator: int | None
    denominator: int | None
    reason: str | None = None

    @property
    def hidden(self) -> bool:
        return self.reason is not None

    @property
    def percent(self) -> float | None:
        if self.hidden or not self.denominator or self.numerator is None:
            return None
        return 100.0 * self.numerator / self.denominator


def rate(release: Release, numerator: tuple[str, Sequence[Position]],
         denominator: tuple[str, Sequence[Position]]) -> Rate:
    """A rate from (table id, positions summed) for each part."""
    parts = []
    for table_id, members in (numerator, denominator):
        parts.append(derivable(release[table_id], members))
    num, den = parts
    if num is None or den is None:
        return Rate(None, None, RATE)
    return Rate(num, den)
