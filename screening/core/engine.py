"""Evaluate answers: score, zone, level, flags, pathways and follow-up, each with its reason.

`evaluate` is the one entry point the web app and the command line use.  For any answers and
facts it either returns an Evaluation or raises an AnswerError (InvalidAnswer or
IncompleteAnswers); unknown instrument or rule-set ids raise UnknownId.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalogue import Catalogue
from .facts import PatientFacts, check_facts
from .instruments import Zone
from .rulebase import RuleContext
from .rulesets import CutoffPolicy, FlagDef, LevelPolicy, PathwayDef, RuleSet
from .scoring import Score, score
from .texts import Text

__all__ = [
    "Evaluation",
    "Extension",
    "Finding",
    "FollowUp",
    "LevelStep",
    "PatientFacts",
    "Recommendation",
    "evaluate",
]


@dataclass(frozen=True, slots=True)
class Finding:
    """A flag: an informational finding with its reason (never changes the level)."""

    id: str
    reason: Text


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A pathway with every reason that produced it (table order)."""

    id: str
    reasons: tuple[Text, ...]

    @property
    def reason(self) -> Text:
        return Text(
            nb="; ".join(r.nb for r in self.reasons), en="; ".join(r.en for r in self.reasons)
        )


@dataclass(frozen=True, slots=True)
class LevelStep:
    """A level rule whose condition held: the level before and after it, and why."""

    rule: str
    before: int | None  # None for the starting rule (Z)
    after: int
    reason: Text

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True, slots=True)
class FollowUp:
    level: int
    weeks: int | None
    months: int | None  # level 1: rescreen after this many months
    reason: Text


@dataclass(frozen=True, slots=True)
class Extension:
    """The result offers the longer instrument `instrument_id`, with this one's answers
    carried over (AUDIT-C positive: the full AUDIT)."""

    instrument_id: str
    reason: Text


@dataclass(frozen=True)
class Evaluation:
    instrument_id: str
    instrument_version: int
    rule_set_id: str
    rule_set_version: int
    scheme: str  # "levels" (AUDIT) or "cutoffs" (DUDIT)
    score: Score
    facts: PatientFacts
    flags: tuple[Finding, ...]
    pathways: tuple[Recommendation, ...]
    zone: Zone | None = None
    level: int | None = None
    level_name: Text | None = None
    level_steps: tuple[LevelStep, ...] = ()
    follow_up: FollowUp | None = None
    positive: bool | None = None
    dependence: bool | None = None  # None also under a cut-off scheme without dependence
    extension: Extension | None = None
    extendable: bool = False  # the rule set can offer an extension for this instrument
    instrument_fingerprint: str = ""
    rule_set_fingerprint: str = ""

    @property
    def total(self) -> int:
        return self.score.total

    @property
    def subscores(self) -> Mapping[str, int]:
        return self.score.subscores

    @property
    def follow_up_weeks(self) -> int | None:
        return None if self.follow_up is None else self.follow_up.weeks

    @property
    def answers(self) -> dict[str, int | None]:
        """The option index per item; None for items that were not asked."""
        return dict(zip(self.score.instrument.item_ids, self.score.indices, strict=True))

    def to_dict(self, lang: str = "nb") -> dict[str, Any]:
        """The JSON object printed by ``python -m screening score``."""
        result: dict[str, Any] = {
            "instrument": self.instrument_id,
            "instrument_version": self.instrument_version,
            "rule_set": self.rule_set_id,
            "rule_set_version": self.rule_set_version,
            "total": self.total,
        }
        if self.scheme == "levels":
            result["subscores"] = dict(self.subscores)
            result["zone"] = None if self.zone is None else self.zone.id
            result["level"] = self.level
        else:
            result["positive"] = self.positive
            result["dependence"] = self.dependence
            if self.extendable:
                result["extend_to"] = None if self.extension is None else {
                    "instrument": self.extension.instrument_id,
                    "reason": self.extension.reason.get(lang),
                }
        result["flags"] = [{"id": f.id, "reason": f.reason.get(lang)} for f in self.flags]
        result["pathways"] = [{"id": p.id, "reason": p.reason.get(lang)} for p in self.pathways]
        if self.scheme == "levels":
            result["follow_up_weeks"] = self.follow_up_weeks
        return result


def _flags(defs: tuple[FlagDef, ...], ctx: RuleContext) -> tuple[Finding, ...]:
    return tuple(Finding(d.id, d.reason) for d in defs if d.rule.fires(ctx))


def _pathways(rows: tuple[PathwayDef, ...], ctx: RuleContext) -> tuple[Recommendation, ...]:
    reasons: dict[str, list[Text]] = {}
    for row in rows:
        if row.rule.applies(ctx):
            reasons.setdefault(row.pathway, []).append(row.reason)
    return tuple(Recommendation(pathway, tuple(texts)) for pathway, texts in reasons.items())


def _by_levels(
    policy: LevelPolicy, rule_set: RuleSet, scored: Score, facts: PatientFacts
) -> Evaluation:
    older = rule_set.is_older(facts.age)
    ctx = RuleContext(scored, facts, older)
    level = 0
    steps: list[LevelStep] = []
    for step in policy.levels:
        result = step.rule.apply(ctx, level, policy.max_level)
        if result is not None:
            steps.append(
                LevelStep(step.name, None if step.rule.starts else level, result, step.reason)
            )
            level = result
    ctx = RuleContext(scored, facts, older, level=level)
    follow_up = None
    if policy.follow_up:
        entry = policy.follow_up[level - 1]
        follow_up = FollowUp(entry.level, entry.weeks, entry.months, entry.reason)
    return Evaluation(
        instrument_id=scored.instrument.id,
        instrument_version=scored.instrument.version,
        rule_set_id=rule_set.id,
        rule_set_version=rule_set.version,
        scheme="levels",
        score=scored,
        facts=facts,
        flags=_flags(policy.flags, ctx),
        pathways=_pathways(policy.pathways, ctx),
        zone=scored.zone,
        level=level,
        level_name=policy.level_names[level - 1],
        level_steps=tuple(steps),
        follow_up=follow_up,
        instrument_fingerprint=scored.instrument.fingerprint,
        rule_set_fingerprint=rule_set.fingerprint,
    )


def _by_cutoffs(
    policy: CutoffPolicy, rule_set: RuleSet, scored: Score, facts: PatientFacts
) -> Evaluation:
    cut_off = policy.positive_male if facts.sex == "male" else policy.positive_female
    positive = scored.total >= cut_off
    dependence = (None if policy.dependence_total is None
                  else scored.total >= policy.dependence_total)
    outcome = "dependence" if dependence else "positive" if positive else "negative"
    ctx = RuleContext(scored, facts, rule_set.is_older(facts.age), outcome=outcome)
    offered = policy.extension
    extension = (Extension(offered.instrument_id, offered.reason)
                 if offered is not None and outcome in offered.outcomes else None)
    return Evaluation(
        instrument_id=scored.instrument.id,
        instrument_version=scored.instrument.version,
        rule_set_id=rule_set.id,
        rule_set_version=rule_set.version,
        scheme="cutoffs",
        score=scored,
        facts=facts,
        flags=_flags(policy.flags, ctx),
        pathways=_pathways(policy.pathways, ctx),
        positive=positive,
        dependence=dependence,
        extension=extension,
        extendable=offered is not None,
        instrument_fingerprint=scored.instrument.fingerprint,
        rule_set_fingerprint=rule_set.fingerprint,
    )


def evaluate(
    catalogue: Catalogue,
    instrument_id: str,
    answers: Mapping[str, int | None],
    facts: PatientFacts,
    rule_set_id: str | None = None,
) -> Evaluation:
    """Score `answers` for `instrument_id` under a rule set (default: the catalogue's)."""
    instrument = catalogue.instrument(instrument_id)
    rule_set = catalogue.rule_set(
        catalogue.default_rule_set_id if rule_set_id is None else rule_set_id
    )
    policy = rule_set.policy(instrument.id)
    scored = score(instrument, answers)
    checked = check_facts(facts, catalogue.medication_ids)
    if isinstance(policy, LevelPolicy):
        return _by_levels(policy, rule_set, scored, checked)
    return _by_cutoffs(policy, rule_set, scored, checked)
