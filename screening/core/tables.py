"""The shapes of the report tables: a *grid* (rows x columns, with row totals, column totals
and a grand total), a *list* (counts with their total) or a *plain* list (counts with no
total); their positions, their lines ("these add up to that") and their networks for
:mod:`screening.core.suppression`. Standard library only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from .suppression import Network

GRID, LIST, PLAIN = "grid", "list", "plain"
# Why a figure is hidden.
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
        return list(self._positions)

    @cached_property
    def _positions(self) -> tuple[Position, ...]:
        if self.kind == GRID:
            return tuple([cell(r, c) for r in self.rows for c in self.cols]
                         + [row_total(r) for r in self.rows] + [col_total(c) for c in self.cols]
                         + [TOTAL])
        return tuple([cell(c) for c in self.cols] + ([TOTAL] if self.kind == LIST else []))

    @cached_property
    def _interior(self) -> tuple[tuple[Any, Position], ...]:
        """(key in an atom, position) of every count of the table's body."""
        if self.kind == GRID:
            return tuple(((r, c), cell(r, c)) for r in self.rows for c in self.cols)
        return tuple((c, cell(c)) for c in self.cols)

    def complete(self, interior: Mapping[Any, int]) -> dict[Position, int]:
        """Every position's count, margins computed here. Grid keys: (row, col); others: col."""
        values = {pos: int(interior.get(key, 0)) for key, pos in self._interior}
        if self.kind == GRID:
            width = len(self.cols)
            body = list(values.values())
            for i, r in enumerate(self.rows):
                values[row_total(r)] = sum(body[i * width:(i + 1) * width])
            for j, c in enumerate(self.cols):
                values[col_total(c)] = sum(body[j::width])
            values[TOTAL] = sum(body)
        elif self.kind == LIST:
            values[TOTAL] = sum(values.values())
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


def joint_network(specs: Sequence[TableSpec]) -> tuple[Network, list[tuple[str, Position]]]:
    """The tables of a month as one network with one grand total (the last edge), so that,
    once it is hidden, the check knows what an attacker knows: the tables' totals are
    equal. Each table's own total edge runs from ``t1`` to ``t2`` and the rest of the table
    carries the total back from ``t2`` to ``t1``; chaining the tables (one's ``t1`` is the
    next one's ``t2``) and closing the chain with a single total edge keeps a circulation.
    With the total published the tables stay independent: they meet at single nodes."""
    edges: list[tuple[int, int]] = []
    keys: list[tuple[str, Position]] = []
    nodes = 0
    first = tail = -1
    for spec in specs:
        net, positions = spec.network()
        t1, t2 = net.edges[positions.index(TOTAL)]
        ids = []
        for node in range(net.nodes):
            if node == t2 and tail >= 0:
                ids.append(tail)
            else:
                ids.append(nodes)
                nodes += 1
        first = ids[t2] if first < 0 else first
        tail = ids[t1]
        for (u, v), p in zip(net.edges, positions, strict=True):
            if p != TOTAL:
                edges.append((ids[u], ids[v]))
                keys.append((spec.id, p))
    edges.append((tail, first))
    keys.append(("", TOTAL))
    return Network(nodes, tuple(edges)), keys
