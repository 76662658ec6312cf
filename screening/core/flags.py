"""Named flag rules: informational findings with a reason; they never change the level.

The flag ids, reasons and parameters are in the rule set; the rules here are the conditions.
"""

from __future__ import annotations

from dataclasses import dataclass

from .instruments import Instrument
from .rulebase import Registry, Rule, RuleContext, unknown_items, unknown_subscore

FLAG_RULES: Registry[FlagRule] = Registry("flag")


class FlagRule(Rule):
    def fires(self, ctx: RuleContext) -> bool:
        raise NotImplementedError


@FLAG_RULES.register("any_item_at_least")
@dataclass(frozen=True)
class AnyItemAtLeast(FlagRule):
    """Any one of `items` scores `points` or more."""

    items: tuple[str, ...]
    points: int

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        return unknown_items(instrument, "items", self.items)

    def fires(self, ctx: RuleContext) -> bool:
        return any(ctx.score.item_points(item) >= self.points for item in self.items)


@FLAG_RULES.register("any_item_equals")
@dataclass(frozen=True)
class AnyItemEquals(FlagRule):
    """Any one of `items` scores exactly `points`."""

    items: tuple[str, ...]
    points: int

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        return unknown_items(instrument, "items", self.items)

    def fires(self, ctx: RuleContext) -> bool:
        return any(ctx.score.item_points(item) == self.points for item in self.items)


@FLAG_RULES.register("items_sum_at_least")
@dataclass(frozen=True)
class ItemsSumAtLeast(FlagRule):
    """The points of `items` add up to `total` or more."""

    items: tuple[str, ...]
    total: int

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        return unknown_items(instrument, "items", self.items)

    def fires(self, ctx: RuleContext) -> bool:
        return sum(ctx.score.item_points(item) for item in self.items) >= self.total


@FLAG_RULES.register("subscore_at_least_by_sex")
@dataclass(frozen=True)
class SubscoreAtLeastBySex(FlagRule):
    """A subscore at or above a cut-off that depends on sex."""

    subscore: str
    male: int
    female: int

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        return unknown_subscore(instrument, "subscore", self.subscore)

    def fires(self, ctx: RuleContext) -> bool:
        cut_off = self.male if ctx.facts.sex == "male" else self.female
        return ctx.score.subscores[self.subscore] >= cut_off


@FLAG_RULES.register("subscore_with_zero_items")
@dataclass(frozen=True)
class SubscoreWithZeroItems(FlagRule):
    """A subscore above 0 while every one of `zero_items` scores 0."""

    subscore: str
    zero_items: tuple[str, ...]

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        return unknown_subscore(instrument, "subscore", self.subscore) + unknown_items(
            instrument, "zero_items", self.zero_items
        )

    def fires(self, ctx: RuleContext) -> bool:
        score = ctx.score
        return score.subscores[self.subscore] > 0 and all(
            score.item_points(item) == 0 for item in self.zero_items
        )


@FLAG_RULES.register("only_from_options")
@dataclass(frozen=True)
class OnlyFromOptions(FlagRule):
    """The total is above 0 and every point comes from `items` answered with `indices`."""

    items: tuple[str, ...]
    indices: tuple[int, ...]

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        problems = unknown_items(instrument, "items", self.items)
        if any(i < 0 for i in self.indices):
            problems.append(("indices", "option indices start at 0"))
        return problems

    def fires(self, ctx: RuleContext) -> bool:
        score = ctx.score
        if score.total <= 0:
            return False
        for item_id, points, index in zip(
            score.instrument.item_ids, score.points, score.indices, strict=True
        ):
            if points and (item_id not in self.items or index not in self.indices):
                return False
        return True
