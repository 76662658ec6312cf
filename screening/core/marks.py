"""The marks of hidden figures: "<k" (a count from 1 to k-1), "x" (k or more, or a hidden
share) and ":" (a count whose size is not told). :func:`release_marks` is the one place
that decides them; see :mod:`screening.core.aggregation` for why each is what it is.
Standard library only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from .tables import LINKED, PLAIN, PRIMARY, TOTAL, Position, TableSpec

SMALL, LARGE, UNSIZED = "small", "large", "unsized"  # the marks of hidden figures
MARK_TEXT = {LARGE: "x", UNSIZED: ":"}  # no digits: nobody reads them as numbers

Bounds = tuple[int, int | None]  # (lowest, highest or None: no limit)


def small_marks(k: int) -> bool:
    """Whether a hidden count below ``k`` may be marked "<k": not for k = 2 ("<2" = 1)."""
    return k >= 3


def mark_text(mark: str, k: int) -> str:
    """How a mark is written: "<5" (k = 5), "x" or ":"."""
    return f"<{k}" if mark == SMALL else MARK_TEXT[mark]


def mark_bounds(mark: str, k: int) -> Bounds:
    """What a mark says of the hidden count it stands for."""
    if mark == SMALL:
        return 1, k - 1
    if mark == LARGE:
        return k, None
    return 1, None  # zeros are shown, so a hidden count is at least 1


def cell_mark(reason: str, k: int, marked: bool = True) -> str:
    """The mark of a count a month hides for ``reason`` in a table's body (not a total):
    "<k" if it is primary (1 .. k-1), ":" if it is hidden with the figures it follows from
    (*linked*: a pathway count), else "x" (k or more); ":" for all when k < 3 or when the
    month is not ``marked`` (its grand total is hidden).

    A linked count is at most the month's grand total, which is published: "x" would put it
    between k and that total, and pin it when the total is k (all of them had the pathway)."""
    if not (marked and small_marks(k)):
        return UNSIZED
    if reason == LINKED:
        return UNSIZED
    return SMALL if reason == PRIMARY else LARGE


def bounds_mark(bounds: Bounds, k: int) -> str:
    """The mark of a hidden sum (a total, or a count over several months) from the bounds
    that the marks and published counts of what it sums give: "x" if they show it is at
    least ``k``, "<k" if they show it is below ``k``, else ":"."""
    low, high = bounds
    if low >= k:
        return LARGE
    if high is not None and high < k and small_marks(k):
        return SMALL
    return UNSIZED


def plus_bounds(a: Bounds, b: Bounds) -> Bounds:
    return a[0] + b[0], None if a[1] is None or b[1] is None else a[1] + b[1]


def release_marks(specs: Sequence[TableSpec], cells: Mapping[str, Mapping[Position, Bounds]],
                   hidden: Mapping[str, Iterable[Position]], k: int
                   ) -> dict[str, dict[Position, str]]:
    """The marks of a release's hidden figures, the one place that decides them (the web
    layer shows them; the test attacker reads them). ``cells``: the bounds of every count of
    every table's body that the months' marks and published counts give; a total's bounds
    are the sums of its members' (the grand total's, the tightest over the tables)."""
    sums: dict[str, dict[Position, Bounds]] = {}
    grand: Bounds = (0, None)
    for spec in specs:
        table = sums[spec.id] = dict(cells[spec.id])
        lines = [(m, t) for m, t in spec.lines() if m[0][0] == "cell"]
        if spec.kind != PLAIN:
            lines.append((list(cells[spec.id]), TOTAL))
        for members, total in lines:
            found: Bounds = (0, 0)
            for member in members:
                found = plus_bounds(found, cells[spec.id][member])
            table[total] = found
        if TOTAL in table:
            low, high = table[TOTAL]
            grand = (max(grand[0], low), high if grand[1] is None
                     else grand[1] if high is None else min(grand[1], high))
    marks = {}
    for spec in specs:
        table = sums[spec.id]
        if TOTAL in table:
            table[TOTAL] = grand
        marks[spec.id] = {p: bounds_mark(table[p], k) for p in hidden[spec.id]}
    return marks
