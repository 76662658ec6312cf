"""Named level rules (clinical-rules §1): Z, W7, E1, O65.

A rule set lists them in the order they are applied.  `Z` must come first: it sets the level to
the zone number.  Every other rule returns the new level when its condition holds, or None.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from .instruments import Instrument
from .rulebase import Registry, Rule, RuleContext, unknown_items, unknown_subscore

LEVEL_RULES: Registry[LevelRule] = Registry("level")


class LevelRule(Rule):
    starts: ClassVar[bool] = False  # True for the rule that sets the starting level

    def apply(self, ctx: RuleContext, level: int, max_level: int) -> int | None:
        raise NotImplementedError


def _level_problem(param: str, value: int, levels: int) -> list[tuple[str, str]]:
    if 1 <= value <= levels:
        return []
    return [(param, f"level {value} does not exist (levels 1..{levels})")]


@LEVEL_RULES.register("Z")
@dataclass(frozen=True)
class ZoneLevel(LevelRule):
    """The starting level is the WHO zone number (I -> 1 ... IV -> 4)."""

    starts: ClassVar[bool] = True

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        if not instrument.zones:
            return [("rule", f"rule Z needs zones, and {instrument.id} has none")]
        if len(instrument.zones) > levels:
            return [("rule", f"{len(instrument.zones)} zones but only {levels} levels")]
        return []

    def apply(self, ctx: RuleContext, level: int, max_level: int) -> int | None:
        zone = ctx.score.zone
        return None if zone is None else zone.number


@LEVEL_RULES.register("W7")
@dataclass(frozen=True)
class LowerCutOff(LevelRule):
    """Women and older adults: a total of exactly `total` raises the level to `min_level`."""

    total: int
    min_level: int

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        problems = _level_problem("min_level", self.min_level, levels)
        if not 0 <= self.total <= instrument.max_total:
            problems.append(("total", f"{self.total} is not a possible total"))
        return problems

    def apply(self, ctx: RuleContext, level: int, max_level: int) -> int | None:
        if (ctx.facts.sex == "female" or ctx.older) and ctx.score.total == self.total:
            return max(level, self.min_level)
        return None


@LEVEL_RULES.register("E1")
@dataclass(frozen=True)
class ItemEscalation(LevelRule):
    """Any single listed item reaching its points threshold raises the level by `step`.

    Per-item reading: each item is compared with its own threshold; points are never summed.
    """

    thresholds: Mapping[str, int]
    step: int

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        problems = unknown_items(instrument, "thresholds", tuple(self.thresholds))
        if self.step < 1:
            problems.append(("step", "must be 1 or more"))
        return problems

    def apply(self, ctx: RuleContext, level: int, max_level: int) -> int | None:
        points = ctx.score.item_points
        if any(points(item) >= minimum for item, minimum in self.thresholds.items()):
            return min(max_level, level + self.step)
        return None


@LEVEL_RULES.register("O65")
@dataclass(frozen=True)
class OlderAdultPolicy(LevelRule):
    """Older adults: a subscore or a single item at its threshold raises the level."""

    subscore: str
    subscore_at_least: int
    item: str
    item_points_at_least: int
    min_level: int

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        return (
            unknown_subscore(instrument, "subscore", self.subscore)
            + unknown_items(instrument, "item", (self.item,))
            + _level_problem("min_level", self.min_level, levels)
        )

    def apply(self, ctx: RuleContext, level: int, max_level: int) -> int | None:
        score = ctx.score
        if ctx.older and (
            score.subscores[self.subscore] >= self.subscore_at_least
            or score.item_points(self.item) >= self.item_points_at_least
        ):
            return max(level, self.min_level)
        return None
