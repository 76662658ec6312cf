"""Complementary cell suppression on tables with totals, by network flows (standard library).

A table with row totals, column totals and a grand total is a network: every figure is an
edge, every total says "what flows in flows out" at a node (a count table with margins is a
circulation). Published figures are fixed; hidden figures are unknowns >= 0. How far a hidden
figure can move while every published number stays true is then a maximum flow through the
other hidden figures: increasing edge ``u -> v`` needs flow back from ``v`` to ``u``,
decreasing it needs flow from ``u`` to ``v``. For such networks the linear-programming bounds
an attacker can compute are exactly these flows, so the check is exact, not a heuristic.

:func:`protect` hides the primary figures (1 .. k-1) and then, while some hidden figure can be
narrowed to an interval shorter than ``k`` (or, reading the marks, pinned to a single value),
adds the published figures that a minimum-cost flow routes through, cheapest (smallest)
first. Zeros are never hidden.

Two attackers are checked, and :func:`protect` hides until neither can do harm:

- *unlabelled*: hidden figures are counts >= 0; none may be narrowed to an interval shorter
  than ``k``;
- *labelled*: the attacker also reads the marks (``marks``, the default). A hidden primary
  figure is marked "<k", so lies in [1, k-1]; any other hidden figure is marked "x", so is at
  least ``k`` (it is not primary, and zeros are shown) - and so is a published figure that
  the augmenting step considers hiding, since it would be marked "x" too. None may be pinned
  to one value. A total (an edge in ``totals``: a row, column or grand total) is marked only
  with what its members' marks already say, so its mark adds no bound of its own: a total
  marked by its own value could pin its members (four cells of 1 and their total 4 marked
  "<5"), whatever else is hidden. Without ``marks`` (one mark for every hidden figure, as
  when k = 2, where "<2" would say "1") the attacker only knows that a hidden figure is >= 1.

Bounds on both sides (k-1 above a primary) keep this a network problem: how far a figure
moves is still a flow, through residual capacities that stop at the other figures' bounds.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from dataclasses import dataclass

BIG = 10**12


@dataclass(frozen=True)
class Network:
    """``nodes`` nodes; edge ``i`` runs from ``edges[i][0]`` to ``edges[i][1]``."""

    nodes: int
    edges: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class Protection:
    hidden: frozenset[int]
    primary: frozenset[int]
    complete: bool = True

    @property
    def complementary(self) -> frozenset[int]:
        return self.hidden - self.primary


class _Residual:
    """A residual graph built from (tail, head, capacity, cost, tag) arcs."""

    def __init__(self, nodes: int) -> None:
        self.out: list[list[int]] = [[] for _ in range(nodes)]
        self.head: list[int] = []
        self.cap: list[int] = []
        self.cost: list[int] = []
        self.tag: list[int] = []

    def add(self, tail: int, head: int, cap: int, cost: int = 0, tag: int = -1) -> None:
        for a, b, c, w in ((tail, head, cap, cost), (head, tail, 0, -cost)):
            self.out[a].append(len(self.head))
            self.head.append(b)
            self.cap.append(c)
            self.cost.append(w)
            self.tag.append(tag)

    def max_flow(self, source: int, sink: int, limit: int) -> int:
        flow = 0
        while flow < limit:
            back = {source: -1}
            queue = deque([source])
            while queue and sink not in back:
                node = queue.popleft()
                for arc in self.out[node]:
                    nxt = self.head[arc]
                    if self.cap[arc] > 0 and nxt not in back:
                        back[nxt] = arc
                        queue.append(nxt)
            if sink not in back:
                break
            flow += self._push(back, source, sink, limit - flow)
        return flow

    def min_cost_flow(self, source: int, sink: int, amount: int) -> tuple[int, set[int]]:
        """Send up to ``amount`` along cheapest paths; return (sent, tags of arcs used)."""
        sent, used = 0, set()
        nodes = len(self.out)
        while sent < amount:
            dist = [BIG] * nodes
            back = [-1] * nodes
            dist[source] = 0
            for _ in range(nodes):  # Bellman-Ford: reverse arcs carry negative costs
                changed = False
                for node in range(nodes):
                    if dist[node] == BIG:
                        continue
                    for arc in self.out[node]:
                        nxt = self.head[arc]
                        if self.cap[arc] > 0 and dist[node] + self.cost[arc] < dist[nxt]:
                            dist[nxt] = dist[node] + self.cost[arc]
                            back[nxt] = arc
                            changed = True
                if not changed:
                    break
            if dist[sink] == BIG:
                break
            path_back = {sink: back[sink]}
            node = sink
            while node != source:
                arc = back[node]
                node = self.head[arc ^ 1]
                path_back[node] = back[node] if node != source else -1
                used.add(self.tag[arc])
            sent += self._push(path_back, source, sink, amount - sent)
        used.discard(-1)
        return sent, used

    def _push(self, back: dict[int, int], source: int, sink: int, limit: int) -> int:
        arcs, node = [], sink
        while node != source:
            arc = back[node]
            arcs.append(arc)
            node = self.head[arc ^ 1]
        push = min([limit, *(self.cap[a] for a in arcs)])
        for arc in arcs:
            self.cap[arc] -= push
            self.cap[arc ^ 1] += push
        return push


@dataclass(frozen=True)
class _Problem:
    net: Network
    values: Sequence[int]
    k: int
    primary: frozenset[int]
    fixed: frozenset[int]  # never hidden as complementary (the grand total)
    costs: Sequence[int]
    marks: bool = True
    totals: frozenset[int] = frozenset()

    def bounds(self, edge: int, labelled: bool) -> tuple[int, int]:
        """What the attacker knows of a hidden (or to be hidden) figure: unlabelled, >= 0;
        labelled, what its mark says: "<k" (primary) 1 .. k-1, "x" (any other) >= k; or,
        with one mark for all, >= 1 (zeros are shown); a total's mark says nothing its
        members' do not. ``min`` keeps a bound true for a figure a caller hides although it
        is below ``k`` and not primary (never in :func:`protect`: figures below ``k`` are
        primary, zeros are never hidden)."""
        if not labelled or edge in self.totals:
            return 0, BIG
        if not self.marks:
            return 1, BIG
        if edge in self.primary:
            return 1, self.k - 1
        return min(self.k, self.values[edge]), BIG

    def residual(self, hidden: Collection[int], skip: int, labelled: bool,
                 candidates: Collection[int] = ()) -> _Residual:
        graph = _Residual(self.net.nodes)
        for edge in hidden:
            if edge != skip:
                tail, head = self.net.edges[edge]
                low, high = self.bounds(edge, labelled)
                value = self.values[edge]
                graph.add(tail, head, high - value)
                graph.add(head, tail, value - low)
        for edge in candidates:
            if edge != skip:
                tail, head = self.net.edges[edge]
                low, _high = self.bounds(edge, labelled)  # marked "x" once hidden
                value, cost = self.values[edge], self.costs[edge]
                graph.add(tail, head, BIG, cost, edge)
                graph.add(head, tail, value - low, cost, edge)
        return graph

    def moves(self, edge: int, hidden: Collection[int], labelled: bool,
              candidates: Collection[int] = ()) -> tuple[int, int]:
        """(how far ``edge`` can go down, how far up), each capped at ``k``."""
        tail, head = self.net.edges[edge]
        low, high = self.bounds(edge, labelled)
        value = self.values[edge]
        down = self.residual(hidden, edge, labelled, candidates).max_flow(
            tail, head, min(value - low, self.k))
        up = self.residual(hidden, edge, labelled, candidates).max_flow(
            head, tail, min(high - value, self.k))
        return down, up

    def safe(self, edge: int, hidden: Collection[int]) -> bool:
        down, up = self.moves(edge, hidden, labelled=False)
        if down + up < self.k:
            return False
        down, up = self.moves(edge, hidden, labelled=True)
        return down + up >= 1

    def candidates(self, hidden: Collection[int]) -> list[int]:
        return [e for e in range(len(self.values))
                if e not in hidden and e not in self.fixed and self.values[e] > 0]

    def augment(self, edge: int, hidden: set[int]) -> set[int]:
        """Published figures whose hiding protects ``edge`` (cheapest first)."""
        tail, head = self.net.edges[edge]
        added: set[int] = set()
        for labelled, need in ((False, self.k), (True, 1)):
            low, high = self.bounds(edge, labelled)
            value = self.values[edge]
            down_goal = min(value - low, need)
            graph = self.residual(hidden | added, edge, labelled, self.candidates(hidden | added))
            down, used = graph.min_cost_flow(tail, head, down_goal)
            added |= used
            up_goal = min(high - value, need - down)
            if up_goal > 0:
                graph = self.residual(hidden | added, edge, labelled,
                                      self.candidates(hidden | added))
                _up, used = graph.min_cost_flow(head, tail, up_goal)
                added |= used
        return added


def protect(net: Network, values: Sequence[int], k: int, fixed: Collection[int] = (),
            hide: Collection[int] = (), costs: Sequence[int] | None = None,
            marks: bool = True, totals: Collection[int] = ()) -> Protection:
    """Hide the primary edges (values 1 .. k-1), the edges in ``hide``, and enough others
    (never one in ``fixed``, never a zero) that no hidden edge is left unprotected against
    either attacker (``marks``: hidden primary edges other than ``totals`` are marked apart
    from the others).

    If even hiding every other non-zero edge cannot protect them, :attr:`Protection.complete`
    is false and the caller must hide one of ``fixed`` (the grand total) and try again."""
    _check_marks(k, marks)
    primary = frozenset(e for e, v in enumerate(values) if 0 < v < k)
    problem = _Problem(net, values, k, primary, frozenset(fixed) - primary - set(hide),
                       costs or [v + 1 for v in values], marks, frozenset(totals))
    hidden = set(primary) | set(hide)
    complete = True
    while True:
        weak = next((e for e in sorted(hidden, key=lambda e: (values[e], e))
                     if not problem.safe(e, hidden)), None)
        if weak is None:
            break
        added = problem.augment(weak, hidden) or set(problem.candidates(hidden))
        if not added:
            complete = False
            break
        hidden |= added
    # A hidden figure that the published ones determine anyway adds nothing by hiding it.
    forced = {e for e in hidden - primary - set(hide)
              if sum(problem.moves(e, hidden, labelled=False)) == 0}
    return Protection(frozenset(hidden - forced), primary, complete)


def unprotected(net: Network, values: Sequence[int], k: int, hidden: Collection[int],
                primary: Collection[int], marks: bool = True,
                totals: Collection[int] = ()) -> list[int]:
    """Hidden edges an attacker can narrow below ``k``, or pin reading the marks (``primary``
    marked "<k", the others "x", ``totals`` nothing of their own; without ``marks``, one mark
    for all)."""
    _check_marks(k, marks)
    problem = _Problem(net, values, k, frozenset(primary), frozenset(), [1] * len(values),
                       marks, frozenset(totals))
    return [e for e in sorted(hidden) if not problem.safe(e, set(hidden))]


def _check_marks(k: int, marks: bool) -> None:
    if marks and k < 3:
        raise ValueError("a mark '<2' would say '1': with k < 3 use one mark (marks=False)")
