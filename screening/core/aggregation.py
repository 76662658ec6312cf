"""Counts, tables, rates and small-cell suppression (design.md section 8), standard library only.

Tables come in three kinds: a *grid* (rows x columns, with row totals, column totals and a
grand total), a *list* (counts with their total) and a *plain* list (counts with no total,
e.g. pathways, where one assessment may count in several). Grids and lists of one release
share their grand total: the number of assessments.

Suppression works on a series of *atoms* (one per month). Each atom is protected on its own
(:func:`protect_atom`, its tables as one network sharing the grand total, see
:func:`joint_network`): a count from 1 to k-1 is hidden (*primary*); then other counts are
hidden (*complementary*) until no hidden count can be narrowed to an interval shorter than k
from the published counts and totals, nor pinned to one value by someone who also reads the
marks - see :mod:`screening.core.suppression`. When only hiding the grand total can do that
(many counts of 1), it is hidden in every table of the month, since the tables share it.

Marks are truthful: "<k" stands for a count from 1 to k-1, "x" for a count of k or more (and
for a hidden share), ":" for a hidden count whose size is not told (at least 1: zeros are
shown). :func:`release_marks` decides them; the web layer shows them and the test attacker
reads them, both through :meth:`ReleasedTable.mark`.

In a month, a hidden count of a table's body is "<k" if it is primary, else "x" (with k = 2,
where "<2" would say "1", every one is ":"). A month that hides its grand total marks every
hidden count of its tables with totals ":" and is protected against an attacker who knows
only that they are at least 1: the tables share the total, so the "<k" marks of one would
bound it from above and the counts of another from below (four assessments without
follow-up, "<5" in one cell of that table, in four cells of the results table: the total
is 4, and every cell 1); with the total published the tables are independent.

Every hidden *sum* - a row, column or grand total, or any figure of a release of several
months - is marked only with what the marks and published counts of what it sums already
show ("x" if they make it at least k, "<k" if below k, else ":"), never by its own value:
a mark by its own value would tell more, and could pin counts that no further hiding can
protect. Four cells of 1 and their total 4 marked "<5" pin every cell (each is at least 1);
four months hiding a count of 1 as "<5", and their sum 4 marked "<5", tell that each month's
count is 1; months hiding 2 and 3, then 3 and 2, of a list whose total is published, summed
to 5 and 5 marked "x", pin both. Derived marks add no bound of their own, so the protection
of a month only has to know the marks of its table bodies.

A release over several months sums the months and hides every figure hidden in any of them
(*series*), so a month, the next month and the year to date, or any other periods made of
whole months, published side by side, reveal nothing the months alone do not: every figure
such a release publishes is the sum of figures each month publishes, and every mark it
shows follows from the months' marks and published counts. So whatever an attacker learns
from any set of releases it learns from the months alone, where the months are independent:
a period's hidden figure moves as far as its hidden monthly parts together move, and each of
those is safe.

A plain count linked to a table (pathways follow from action levels under the rule set) is
hidden when that table hides one of the figures it follows from (*linked*), and marked ":"
when it is not below k: it is at most the published grand total, so "x" would bound it on
both sides (and pin it when the total is k). A rate whose
numerator or denominator cannot be computed from published figures is hidden (*rate*).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .marks import (
    LARGE,
    MARK_TEXT,
    SMALL,
    UNSIZED,
    Bounds,
    bounds_mark,
    cell_mark,
    mark_bounds,
    mark_text,
    plus_bounds,
    release_marks,
    small_marks,
)
from .suppression import Network, protect
from .tables import (
    COMPLEMENTARY,
    GRID,
    LINKED,
    LIST,
    PLAIN,
    PRIMARY,
    RATE,
    SERIES,
    TOTAL,
    Position,
    TableSpec,
    cell,
    col_total,
    joint_network,
    row_total,
)

__all__ = [
    "COMPLEMENTARY", "GRID", "LARGE", "LINKED", "LIST", "MARK_TEXT", "PLAIN", "PRIMARY",
    "RATE", "SERIES", "SMALL", "TOTAL", "UNSIZED", "Atom", "Bounds", "Figure", "Pattern",
    "Position", "Rate", "Release", "ReleasedTable", "Series", "TableSpec", "bounds_mark",
    "cell", "cell_mark", "col_total", "derivable", "joint_network", "linked_hidden",
    "mark_bounds", "mark_text", "protect_atom", "protect_series", "rate", "release_marks",
    "row_total", "small_marks",
]


Atom = Mapping[str, Mapping[Any, int]]  # table id -> interior counts
Pattern = dict[str, dict[Position, str]]  # table id -> hidden position -> reason


def protect_atom(specs: Sequence[TableSpec], atom: Atom, k: int,
                 values: Mapping[str, Mapping[Position, int]] | None = None) -> Pattern:
    """The hidden positions of one atom (month), with reasons; see the module docstring.
    ``values``: the atom's tables completed with their totals, if the caller has them."""
    if values is None:
        values = {s.id: s.complete(atom.get(s.id, {})) for s in specs}
    networked = [s for s in specs if s.kind != PLAIN]
    pattern: Pattern = {}
    for spec in networked:  # the grand total published: the tables are independent
        net, positions = spec.network()
        found = _protect(net, [(spec.id, p) for p in positions], values, k, hide_total=False)
        if found is None:  # the grand total hides, in every table: they are checked as one
            net, keys = joint_network(networked)
            pattern = _protect(net, keys, values, k, hide_total=True) or {}
            break
        pattern.update(found)
    for spec in specs:
        if spec.kind != PLAIN:
            continue
        hidden = {cell(c): PRIMARY for c in spec.cols if 0 < values[spec.id][cell(c)] < k}
        if any(linked_hidden(pattern.get(table, {}), scope) for table, scope in spec.linked):
            for c in spec.cols:
                if values[spec.id][cell(c)] > 0:
                    hidden.setdefault(cell(c), LINKED)
        pattern[spec.id] = hidden
    return pattern


def _protect(net: Network, keys: Sequence[tuple[str, Position]],
             values: Mapping[str, Mapping[Position, int]], k: int, hide_total: bool
             ) -> Pattern | None:
    """The hidden figures of one table or of a month's tables joined (``keys``: table id
    and position of every edge; the grand total's table id may be ""), or None if even
    hiding all but the grand total cannot protect them. With the grand total hidden, the
    marks are not shown (see the module docstring), so the protection does not read them."""
    first = next(table_id for table_id, _p in keys if table_id)
    vals = [values[table_id or first][p] for table_id, p in keys]
    total = next(i for i, (_t, p) in enumerate(keys) if p == TOTAL)
    result = protect(net, vals, k, fixed=[total], hide=[total] if hide_total else (),
                     costs=[(v + 1) * (1 if p[0] == "cell" else 3)
                            for (_t, p), v in zip(keys, vals, strict=True)],
                     marks=small_marks(k) and not hide_total,
                     totals=[i for i, (_t, p) in enumerate(keys) if p[0] != "cell"])
    if not result.complete and not hide_total:
        return None
    pattern: Pattern = {table_id: {} for table_id, _p in keys if table_id}
    for edge in result.hidden:
        reason = PRIMARY if edge in result.primary else COMPLEMENTARY
        table_id, position = keys[edge]
        for into in pattern if position == TOTAL else [table_id]:
            pattern[into][position] = reason
    return pattern


def linked_hidden(hidden: Mapping[Position, str], scope: str) -> bool:
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
    """A published count (``value``), or a hidden one (``value`` None, ``reason`` and
    ``mark`` set)."""

    value: int | None
    reason: str | None = None
    mark: str | None = None

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

    def mark(self, position: Position) -> str | None:
        """SMALL ("<k"), LARGE ("x") or UNSIZED (":") for a hidden figure, None for a
        published one: what the page, the downloads and the charts show."""
        return self.figures[position].mark

    def bounds(self, position: Position) -> tuple[int, int | None]:
        """What a reader (an attacker) learns of a figure from the release alone: its value
        if published, else what its mark says."""
        figure = self.figures[position]
        if figure.mark is None:
            value = figure.value or 0
            return value, value
        return mark_bounds(figure.mark, self.k)


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

    def marked(self, month: str) -> bool:
        """Whether the hidden counts of a month's tables with totals are marked "<k" and "x":
        not when the month hides its grand total (then all are ":")."""
        return not any(TOTAL in self.patterns[month].get(s.id, {}) for s in self.specs)

    def release(self, months: Iterable[str]) -> Release:
        chosen = tuple(sorted(set(months)))
        sums: dict[str, dict[Position, int]] = {}
        reasons: dict[str, dict[Position, str]] = {}
        cells: dict[str, dict[Position, Bounds]] = {}
        present = [m for m in chosen if m in self.values]
        month_marked = {m: self.marked(m) for m in present}
        for spec in self.specs:
            positions = spec.positions()
            sums[spec.id] = dict.fromkeys(positions, 0)
            active = dict.fromkeys(positions, 0)  # months where the count is not zero
            why: dict[Position, list[str]] = {}
            known = cells[spec.id] = {p: (0, 0) for p in positions if p[0] == "cell"}
            for month in present:
                month_values = self.values[month]
                hidden = self.patterns[month].get(spec.id, {})
                marked = spec.kind == PLAIN or month_marked[month]
                for pos, value in month_values[spec.id].items():
                    reason = hidden.get(pos)
                    if value:
                        sums[spec.id][pos] += value
                        active[pos] += 1
                    if reason is not None:
                        why.setdefault(pos, []).append(reason)
                    if pos in known:
                        known[pos] = plus_bounds(known[pos], (value, value) if reason is None else
                                           mark_bounds(cell_mark(reason, self.k, marked), self.k))
            reasons[spec.id] = {p: r for p in positions
                                if (r := _reason(why.get(p, []), active[p])) is not None}
        marks = release_marks(self.specs, cells, reasons, self.k)
        tables = {}
        for spec in self.specs:
            figures = {pos: Figure(None, reasons[spec.id][pos], marks[spec.id][pos])
                       if pos in reasons[spec.id] else Figure(value)
                       for pos, value in sums[spec.id].items()}
            tables[spec.id] = ReleasedTable(spec, figures, self.k)
        return Release(self.k, chosen, tables)


def _reason(reasons: list[str], active_months: int) -> str | None:
    """Why a period's figure is hidden: as in the one month that holds it (the figure is that
    month's count), else because a month of the period hides it (*series*)."""
    if not reasons:
        return None
    if active_months == 1 or set(reasons) == {LINKED}:
        return reasons[0]
    return SERIES


def protect_series(specs: Sequence[TableSpec], atoms: Mapping[str, Atom], k: int) -> Series:
    values = {month: {s.id: s.complete(atom.get(s.id, {})) for s in specs}
              for month, atom in atoms.items()}
    return Series(tuple(specs), k, values,
                  {month: protect_atom(specs, atom, k, values[month])
                   for month, atom in atoms.items()})


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
