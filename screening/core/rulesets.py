"""Rule sets: versioned, swappable policies that turn a score into level, flags and pathways.

A rule-set file has a top-level section per instrument it covers (``[audit]``, ``[dudit]``),
each with a ``scheme``:

- ``levels``: action levels from zones, adjusted by named level rules in order (AUDIT);
- ``cutoffs``: a positive cut-off on the total by sex, and optionally a dependence cut-off
  (DUDIT; AUDIT-C has none).

Both list named flag rules and a pathway table; ``levels`` also has follow-up intervals.
A ``cutoffs`` section may name a longer instrument to ``extend`` to: its questions begin with
all of this one's, identical (AUDIT-C is items 1-3 of the AUDIT), so at the outcomes listed
the result offers to go on to it with the answers carried over.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, TypeVar

from .errors import UnknownId, UnknownRule
from .facts import MAX_AGE
from .fingerprint import fingerprint
from .flags import FLAG_RULES, FlagRule
from .instruments import Instrument
from .levels import LEVEL_RULES, LevelRule
from .pathways import OUTCOMES, PATHWAY_RULES, PATHWAYS, PathwayRule
from .reader import ID_PATTERN, RULE_SET_ID_PATTERN, Problems, Table
from .rulebase import Registry, Rule, build_rule
from .texts import Text

SCHEMES = ("levels", "cutoffs")
R = TypeVar("R", bound=Rule)


@dataclass(frozen=True, slots=True)
class LevelStepDef:
    name: str
    rule: LevelRule
    reason: Text


@dataclass(frozen=True, slots=True)
class FlagDef:
    id: str
    rule: FlagRule
    reason: Text


@dataclass(frozen=True, slots=True)
class PathwayDef:
    pathway: str
    rule: PathwayRule
    reason: Text


@dataclass(frozen=True, slots=True)
class FollowUpDef:
    """Follow up after `weeks`, or (level 1) rescreen after `months`."""

    level: int
    weeks: int | None
    months: int | None
    reason: Text


@dataclass(frozen=True)
class LevelPolicy:
    instrument_id: str
    level_names: tuple[Text, ...]  # [0] is level 1
    levels: tuple[LevelStepDef, ...]
    flags: tuple[FlagDef, ...]
    pathways: tuple[PathwayDef, ...]
    follow_up: tuple[FollowUpDef, ...]  # empty, or one per level in order
    scheme: str = "levels"

    @property
    def max_level(self) -> int:
        return len(self.level_names)


@dataclass(frozen=True, slots=True)
class ExtensionDef:
    """At `outcomes`, the result offers the longer instrument `instrument_id`, whose first
    items are this instrument's (their answers are carried over, not asked again)."""

    instrument_id: str
    outcomes: tuple[str, ...]
    reason: Text


@dataclass(frozen=True)
class CutoffPolicy:
    instrument_id: str
    positive_male: int
    positive_female: int
    positive_title: Text
    dependence_total: int | None  # None: no dependence cut-off (AUDIT-C)
    dependence_title: Text | None
    flags: tuple[FlagDef, ...]
    pathways: tuple[PathwayDef, ...]
    extension: ExtensionDef | None = None
    scheme: str = "cutoffs"


Policy = LevelPolicy | CutoffPolicy


@dataclass(frozen=True)
class RuleSet:
    id: str
    version: int
    titles: Text
    description: Text
    older_age: int
    default: bool
    policies: Mapping[str, Policy]
    source_file: str = ""
    fingerprint: str = ""  # SHA-256 of the file's canonical content (core.fingerprint)

    def title(self, lang: str) -> str:
        return self.titles.get(lang)

    def is_older(self, age: int) -> bool:
        """Age at or above `older_age` (inclusive): the medication-and-falls checklist is due."""
        return age >= self.older_age

    def policy(self, instrument_id: str) -> Policy:
        try:
            return self.policies[instrument_id]
        except KeyError:
            raise UnknownId(
                "instrument",
                instrument_id,
                self.policies,
                detail=f"rule set {self.id!r} has no rules for instrument {instrument_id!r} "
                f"(it covers: {', '.join(self.policies) or 'none'})",
            ) from None


# --------------------------------------------------------------------------- parsing


def _rule(
    registry: Registry[R], entry: Table, instrument: Instrument, levels: int
) -> tuple[str, R] | None:
    name = entry.string("rule")
    if name is None:
        return None
    try:
        rule = build_rule(registry, name, entry)
    except UnknownRule as error:
        entry.error("rule", str(error))
        entry.has("params")  # its parameters cannot be checked; do not report them as unknown
        return None
    if rule is None:
        return None
    for param, problem in rule.check(instrument, levels):
        key = entry.key("rule") if param == "rule" else f"{entry.key('params')}.{param}"
        entry.problems.add(key, problem)
    return name, rule


def _flags(section: Table, instrument: Instrument, levels: int) -> tuple[FlagDef, ...] | None:
    flags: list[FlagDef] = []
    ok = True
    for entry in section.tables("flags", required=False):
        flag_id = entry.string("id", pattern=ID_PATTERN)
        built = _rule(FLAG_RULES, entry, instrument, levels)
        reason = entry.text("reason")
        entry.finish()
        if any(f.id == flag_id for f in flags):
            entry.error("id", f"duplicate flag id {flag_id!r}")
        if flag_id and built and reason:
            flags.append(FlagDef(flag_id, built[1], reason))
        else:
            ok = False
    return tuple(flags) if ok else None


def _pathways(section: Table, instrument: Instrument, levels: int) -> tuple[PathwayDef, ...] | None:
    rows: list[PathwayDef] = []
    ok = True
    for entry in section.tables("pathways", required=False):
        pathway = entry.string("pathway", choices=tuple(PATHWAYS))
        built = _rule(PATHWAY_RULES, entry, instrument, levels)
        reason = entry.text("reason")
        entry.finish()
        if pathway and built and reason:
            rows.append(PathwayDef(pathway, built[1], reason))
        else:
            ok = False
    return tuple(rows) if ok else None


def _level_names(section: Table) -> list[Text]:
    names: list[Text] = []
    for number, entry in enumerate(section.tables("level_names"), start=1):
        level = entry.integer("level")
        name = entry.text("name")
        entry.finish()
        if level is not None and level != number:
            entry.error("level", f"is {level} but levels must be listed 1, 2, 3 ... in order")
        elif name is not None:
            names.append(name)
    return names


def _follow_up(section: Table, max_level: int) -> list[FollowUpDef]:
    entries = section.tables("follow_up", required=False)
    result: list[FollowUpDef] = []
    for number, entry in enumerate(entries, start=1):
        level = entry.integer("level")
        weeks = entry.integer("weeks", required=False, minimum=1)
        months = entry.integer("months", required=False, minimum=1)
        reason = entry.text("reason")
        entry.finish()
        if level is not None and level != number:
            entry.error("level", f"is {level} but levels must be listed 1, 2, 3 ... in order")
        if (weeks is None) == (months is None):
            entry.error("weeks", "give exactly one of weeks and months")
        elif level is not None and reason is not None:
            result.append(FollowUpDef(level, weeks, months, reason))
    if entries and len(entries) != max_level:
        section.error("follow_up", f"has {len(entries)} entries but there are {max_level} levels")
    return result


def _level_policy(section: Table, instrument: Instrument) -> LevelPolicy | None:
    before = len(section.problems.errors)
    names = _level_names(section)
    max_level = len(names)
    steps: list[LevelStepDef] = []
    for i, entry in enumerate(section.tables("levels")):
        built = _rule(LEVEL_RULES, entry, instrument, max_level)
        reason = entry.text("reason")
        entry.finish()
        if built is None or reason is None:
            continue
        name, rule = built
        if rule.starts != (i == 0):
            entry.error("rule", "the first level rule, and only the first, must be Z")
        steps.append(LevelStepDef(name, rule, reason))
    flags = _flags(section, instrument, max_level)
    pathways = _pathways(section, instrument, max_level)
    follow_up = _follow_up(section, max_level)
    if len(section.problems.errors) != before or flags is None or pathways is None:
        return None
    return LevelPolicy(instrument.id, tuple(names), tuple(steps), flags, pathways, tuple(follow_up))


def _cutoff_policy(
    section: Table, instrument: Instrument, instruments: Mapping[str, Instrument]
) -> CutoffPolicy | None:
    before = len(section.problems.errors)
    top = instrument.max_total
    positive = section.table("positive")
    male = female = dependence_total = None
    positive_title = dependence_title = None
    if positive is not None:
        male = positive.integer("male", minimum=1, maximum=top)
        female = positive.integer("female", minimum=1, maximum=top)
        positive_title = positive.text("title")
        positive.finish()
    dependence = section.table("dependence", required=False)
    if dependence is not None:
        dependence_total = dependence.integer("total", minimum=1, maximum=top)
        dependence_title = dependence.text("title")
        dependence.finish()
    if male and female and dependence_total and dependence_total < max(male, female):
        section.error("dependence.total", "must not be below the positive cut-offs")
    flags = _flags(section, instrument, 0)
    pathways = _pathways(section, instrument, 0)
    if dependence is None:
        for i, row in enumerate(section.data.get("pathways") or ()):
            outcomes = (row.get("params") or {}).get("outcomes") if isinstance(row, dict) else ()
            if isinstance(outcomes, list) and "dependence" in outcomes:
                section.problems.add(f"{section.key('pathways')}[{i}].params.outcomes",
                                     "'dependence' needs a [dependence] cut-off in this section")
    extension = _extension(section, instrument, instruments, dependence is not None)
    if len(section.problems.errors) != before or flags is None or pathways is None:
        return None
    assert male and female and positive_title
    return CutoffPolicy(
        instrument.id,
        male,
        female,
        positive_title,
        dependence_total,
        dependence_title,
        flags,
        pathways,
        extension,
    )


def _extension(section: Table, instrument: Instrument, instruments: Mapping[str, Instrument],
               has_dependence: bool) -> ExtensionDef | None:
    """``[<id>.extend]``: the longer instrument and the outcomes that offer it. Its first
    items must be this instrument's items, identical (id, number, texts, options), so that
    answers carried over mean what they meant when they were given."""
    entry = section.table("extend", required=False)
    if entry is None:
        return None
    target_id = entry.string("to", pattern=ID_PATTERN)
    outcomes = entry.strings("outcomes")
    reason = entry.text("reason")
    entry.finish()
    allowed = OUTCOMES if has_dependence else tuple(o for o in OUTCOMES if o != "dependence")
    for outcome in outcomes or ():
        if outcome not in allowed:
            entry.error("outcomes", f"{outcome!r} is not one of {', '.join(allowed)}")
            return None
    target = instruments.get(target_id or "")
    if target_id is not None and target is None:
        entry.error("to", f"unknown instrument {target_id!r} (instruments: "
                          f"{', '.join(instruments)})")
        return None
    if target is None or outcomes is None or reason is None:
        return None
    if target.id == instrument.id:
        entry.error("to", "an instrument cannot extend to itself")
        return None
    if len(target.items) <= len(instrument.items):
        entry.error("to", f"{target.id} has no items beyond those of {instrument.id}")
        return None
    for position, (own, theirs) in enumerate(zip(instrument.items, target.items, strict=False)):
        if (own.id, own.number, own.texts, own.options) != (
                theirs.id, theirs.number, theirs.texts, theirs.options):
            entry.error("to", f"item {own.id} of {instrument.id} is not the same as item "
                              f"{position + 1} of {target.id} (id, number, text and options "
                              f"must be identical to carry its answer over)")
            return None
    return ExtensionDef(target.id, outcomes, reason)


def parse_rule_set(
    data: Mapping[str, Any], problems: Problems, instruments: Mapping[str, Instrument]
) -> RuleSet | None:
    """Check and build a rule set against the (already loaded) instruments."""
    root = Table(problems, data)
    before = len(problems.errors)
    rule_set_id = root.string("id", pattern=RULE_SET_ID_PATTERN)
    version = root.integer("version", minimum=1)
    default = root.boolean("default")
    older_age = root.integer("older_age", minimum=0, maximum=MAX_AGE)
    titles = root.text("title")
    description = root.text("description")
    policies: dict[str, Policy] = {}
    for name, value in data.items():
        if not isinstance(value, dict) or name in ("title", "description"):
            continue
        section = root.table(name)
        instrument = instruments.get(name)
        if section is None:
            continue
        if instrument is None:
            root.error(name, f"unknown instrument {name!r} (instruments: {', '.join(instruments)})")
            continue
        scheme = section.string("scheme", choices=SCHEMES)
        policy: Policy | None = None
        if scheme == "levels":
            policy = _level_policy(section, instrument)
        elif scheme == "cutoffs":
            policy = _cutoff_policy(section, instrument, instruments)
        section.finish()
        if policy is not None:
            policies[name] = policy
    root.finish()
    if not policies and len(problems.errors) == before:
        root.error("", "a rule set must cover at least one instrument")
    if len(problems.errors) != before:
        return None
    assert rule_set_id and version and titles and description and older_age is not None
    return RuleSet(
        rule_set_id,
        version,
        titles,
        description,
        older_age,
        default,
        MappingProxyType(policies),
        problems.name,
        fingerprint(data),
    )
