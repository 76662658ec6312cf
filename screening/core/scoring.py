"""Points, totals, subscores, zone and skip-logic validation (clinical-rules S1-S3, Z).

Answers are option indices.  An item that the skip logic does not ask counts 0 points; it may
be left out, given as None, or answered 0, but any other answer to it is rejected.  A missing
answer to an item that must be asked makes the answers incomplete, never a score of 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .errors import IncompleteAnswers, InvalidAnswer
from .instruments import Instrument, Zone
from .texts import shown


@dataclass(frozen=True, slots=True)
class Score:
    """The scored answers of one instrument."""

    instrument: Instrument
    indices: tuple[int | None, ...]  # per item in order; None = not asked
    points: tuple[int, ...]  # per item in order; 0 for items not asked
    total: int
    subscores: Mapping[str, int]
    zone: Zone | None

    def item_points(self, item_id: str) -> int:
        return self.points[self.instrument.positions[item_id]]

    def item_index(self, item_id: str) -> int | None:
        return self.indices[self.instrument.positions[item_id]]

    @property
    def asked(self) -> frozenset[str]:
        ids = self.instrument.item_ids
        return frozenset(ids[i] for i, value in enumerate(self.indices) if value is not None)


def _skipped(instrument: Instrument, values: list[int | None]) -> dict[int, int]:
    """Positions not asked given the values so far -> number of the skip rule that decided.

    A rule fires when each deciding item is answered 0 or is itself not asked; rules are
    applied until nothing changes (a skipped item can decide another rule).
    """
    skipped: dict[int, int] = {}
    changed = True
    while changed:
        changed = False
        for number, (deciding, targets) in enumerate(instrument.skip_table):
            if skipped and all(t in skipped for t in targets):
                continue
            for position in deciding:
                if position not in skipped and values[position] != 0:
                    break
            else:
                for target in targets:
                    skipped.setdefault(target, number)
                changed = True
    return skipped


def _reject_value(instrument: Instrument, position: int, value: object) -> InvalidAnswer:
    item_id = instrument.item_ids[position]
    high = str(len(instrument.points_table[position]) - 1)
    if type(value) is not int:
        return InvalidAnswer("not_integer", item_id, value=shown(value), low="0", high=high)
    return InvalidAnswer("out_of_range", item_id, value=str(value), low="0", high=high)


def _read_answers(instrument: Instrument, answers: object) -> list[int | None]:
    """The option index given for each item (None when absent), after type and range checks."""
    if not isinstance(answers, Mapping):
        raise InvalidAnswer("not_mapping", None, value=shown(answers))
    positions = instrument.positions
    if not answers.keys() <= positions.keys():
        key = next(k for k in answers if not (isinstance(k, str) and k in positions))
        raise InvalidAnswer(
            "unknown_item",
            key if isinstance(key, str) else None,
            item=repr(key) if isinstance(key, str) else shown(key),
            instrument=instrument.id,
            known=", ".join(positions),
        )
    get = answers.get
    values: list[int | None] = [get(item_id) for item_id in instrument.item_ids]
    counts = instrument.option_counts
    for position, value in enumerate(values):
        if value is not None and (type(value) is not int or not 0 <= value < counts[position]):
            raise _reject_value(instrument, position, value)
    return values


def score(instrument: Instrument, answers: Mapping[str, int | None]) -> Score:
    """Validate the answers and score them; raise InvalidAnswer or IncompleteAnswers."""
    values = _read_answers(instrument, answers)
    skipped = _skipped(instrument, values) if instrument.skip_table else {}
    for position, number in sorted(skipped.items()) if skipped else ():
        if values[position]:  # an answer other than 0 to an item that is not asked
            rule = instrument.skip_rules[number]
            raise InvalidAnswer(
                "not_asked",
                instrument.item_ids[position],
                value=str(values[position]),
                reason=rule.reason.en,
                reason_nb=rule.reason.nb,
            )
        values[position] = None
    if None in values:
        ids = instrument.item_ids
        missing = [ids[p] for p, v in enumerate(values) if v is None and p not in skipped]
        if missing:
            raise IncompleteAnswers(missing)
    table = instrument.points_table
    points = tuple([0 if v is None else row[v] for row, v in zip(table, values, strict=True)])
    total = sum(points)
    subscores = {name: sum([points[p] for p in ps]) for name, ps in instrument.subscore_table}
    return Score(
        instrument, tuple(values), points, total, subscores, instrument.zone_by_total[total]
    )


def asked_items(instrument: Instrument, answers: Mapping[str, object]) -> frozenset[str]:
    """The items that must be asked given the answers so far.

    Tolerant by design (the form calls it while the questionnaire is being filled in): values
    that are not valid option indices count as unanswered.
    """
    values: list[int | None] = []
    for item_id, points in zip(instrument.item_ids, instrument.points_table, strict=True):
        value = answers.get(item_id) if isinstance(answers, Mapping) else None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < len(points):
            values.append(value)
        else:
            values.append(None)
    skipped = _skipped(instrument, values)
    return frozenset(i for p, i in enumerate(instrument.item_ids) if p not in skipped)
