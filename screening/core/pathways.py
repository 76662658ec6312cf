"""Follow-up pathways (clinical-rules §2) and the named rules that recommend them.

Each row of a rule set's pathway table names a pathway, a rule with its parameters and the
reason shown with the recommendation.  A pathway recommended by several rows appears once, with
every reason that produced it, in the order of the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .facts import SETTINGS
from .instruments import Instrument
from .rulebase import Registry, Rule, RuleContext
from .texts import Text

PATHWAY_RULES: Registry[PathwayRule] = Registry("pathway")
AGE_GROUPS = ("older", "younger")
OUTCOMES = ("negative", "positive", "dependence")


@dataclass(frozen=True, slots=True)
class PathwayInfo:
    id: str
    names: Text  # who follows up
    acts: Text  # what they do

    def name(self, lang: str) -> str:
        return self.names.get(lang)


PATHWAYS: Mapping[str, PathwayInfo] = MappingProxyType(
    {
        "elder_care": PathwayInfo(
            "elder_care",
            Text(nb="hjemmetjenesten / eldreomsorgen", en="home care / elder care"),
            Text(
                nb="hjemmesykepleien følger opp det avtalte målet ved hjemmebesøk",
                en="home-care nursing follows up the agreed goal at home visits",
            ),
        ),
        "gp": PathwayInfo(
            "gp",
            Text(nb="fastlege", en="GP (regular general practitioner)"),
            Text(
                nb="utredning, legemiddelgjennomgang, rett til å henvise",
                en="assessment, medication review, referral rights",
            ),
        ),
        "substance_use_consultant": PathwayInfo(
            "substance_use_consultant",
            Text(
                nb="ruskonsulent / psykisk helse- og rustjenesten",
                en="substance-use consultant / municipal mental health and substance-use service",
            ),
            Text(
                nb="kommunal oppfølging og koordinering",
                en="municipal follow-up and coordination",
            ),
        ),
        "specialist_referral": PathwayInfo(
            "specialist_referral",
            Text(
                nb="henvisning til TSB (via fastlege eller NAV)",
                en="referral to specialised substance-use treatment (TSB, via GP or NAV)",
            ),
            Text(
                nb="utredning og behandling i spesialisthelsetjenesten; sykepleier kan ikke "
                "henvise direkte",
                en="specialist evaluation and treatment; a nurse cannot refer directly",
            ),
        ),
    }
)


class PathwayRule(Rule):
    def applies(self, ctx: RuleContext) -> bool:
        raise NotImplementedError


def _context_problems(setting: str | None, age: str | None) -> list[tuple[str, str]]:
    problems = []
    if setting is not None and setting not in SETTINGS:
        problems.append(("setting", f"{setting!r} is not one of {', '.join(SETTINGS)}"))
    if age is not None and age not in AGE_GROUPS:
        problems.append(("age", f"{age!r} is not one of {', '.join(AGE_GROUPS)}"))
    return problems


def _matches(ctx: RuleContext, setting: str | None, age: str | None) -> bool:
    if setting is not None and ctx.facts.setting != setting:
        return False
    return age is None or (age == "older") == ctx.older


@PATHWAY_RULES.register("at_level")
@dataclass(frozen=True)
class AtLevel(PathwayRule):
    """The action level is one of `levels` (optionally only in one setting / age group)."""

    levels: tuple[int, ...]
    setting: str | None = None
    age: str | None = None

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        problems = _context_problems(self.setting, self.age)
        bad = [str(level) for level in self.levels if not 1 <= level <= levels]
        if bad:
            problems.append(("levels", f"levels {', '.join(bad)} do not exist (1..{levels})"))
        return problems

    def applies(self, ctx: RuleContext) -> bool:
        return ctx.level in self.levels and _matches(ctx, self.setting, self.age)


@PATHWAY_RULES.register("at_outcome")
@dataclass(frozen=True)
class AtOutcome(PathwayRule):
    """The cut-off outcome is one of `outcomes` (negative, positive, dependence)."""

    outcomes: tuple[str, ...]
    setting: str | None = None
    age: str | None = None

    def check(self, instrument: Instrument, levels: int) -> list[tuple[str, str]]:
        problems = _context_problems(self.setting, self.age)
        bad = [o for o in self.outcomes if o not in OUTCOMES]
        if bad:
            problems.append(("outcomes", f"{', '.join(bad)} not among {', '.join(OUTCOMES)}"))
        return problems

    def applies(self, ctx: RuleContext) -> bool:
        return ctx.outcome in self.outcomes and _matches(ctx, self.setting, self.age)


@PATHWAY_RULES.register("medication_review")
@dataclass(frozen=True)
class MedicationReview(PathwayRule):
    """Older adult, total at least `min_total`, and any medication-and-falls item is yes."""

    min_total: int

    def applies(self, ctx: RuleContext) -> bool:
        return ctx.older and ctx.score.total >= self.min_total and bool(ctx.facts.medication)
