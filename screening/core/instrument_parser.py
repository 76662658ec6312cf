"""Checks and builds an Instrument from a parsed TOML mapping (see instruments.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from .fingerprint import fingerprint
from .instruments import (
    KINDS,
    TRANSLATION_STATUSES,
    Instrument,
    Item,
    LanguageVersion,
    Option,
    SkipRule,
    Subscore,
    Zone,
)
from .reader import ID_PATTERN, Problems, Table
from .texts import LANGUAGES, Text

LOINC_PATTERN = re.compile(r"(\d{1,7})-(\d)\Z")
LOINC_ANSWER_LIST_PATTERN = re.compile(r"LL\d{1,7}-\d\Z")


def loinc_check_digit(base: str) -> int:
    """The LOINC mod-10 check digit of the part before the hyphen."""
    digits = [int(c) for c in reversed(base)]
    doubled = int("".join(str(d) for d in reversed(digits[0::2]))) * 2
    total = sum(int(c) for c in str(doubled)) + sum(digits[1::2])
    return (10 - total % 10) % 10


def loinc_problem(code: str) -> str | None:
    match = LOINC_PATTERN.match(code)
    if match is None:
        return f"{code!r} is not a LOINC code (digits, hyphen, check digit)"
    if loinc_check_digit(match.group(1)) != int(match.group(2)):
        return f"{code!r} has a wrong LOINC check digit"
    return None


def _parse_scales(root: Table) -> tuple[dict[str, tuple[Option, ...]], set[str]]:
    """The valid scales by name, and the names of scales that failed (already reported)."""
    scales: dict[str, tuple[Option, ...]] = {}
    table = root.table("scales")
    if table is None:
        return scales, set()
    for name in table.data:
        scale = table.table(name)
        if scale is None:
            continue
        if not ID_PATTERN.match(name):
            table.error(name, f"{name!r} is not a valid scale id")
        codes = scale.strings("codes")
        points = scale.integers("points")
        labels = scale.table("labels")
        texts: dict[str, tuple[str, ...] | None] = {}
        if labels is not None:
            texts = {lang: labels.strings(lang) for lang in LANGUAGES}
            labels.finish()
        scale.finish()
        if codes is None or points is None or labels is None:
            continue
        ok = True
        if len(points) != len(codes):
            scale.error("points", f"has {len(points)} entries but there are {len(codes)} options")
            ok = False
        if any(p < 0 for p in points):
            scale.error("points", "points must not be negative")
            ok = False
        for lang, values in texts.items():
            if values is not None and len(values) != len(codes):
                labels.error(lang, f"has {len(values)} labels but there are {len(codes)} options")
                ok = False
        nb, en = texts.get("nb"), texts.get("en")
        if ok and nb and en:
            scales[name] = tuple(
                Option(i, codes[i], points[i], Text(nb=nb[i], en=en[i])) for i in range(len(codes))
            )
    return scales, set(table.data) - set(scales)


def _loinc(table: Table, name: str, pattern: re.Pattern[str] | None = None) -> str | None:
    code = table.string(name, required=False)
    if code is None:
        return None
    problem = (
        loinc_problem(code)
        if pattern is None
        else (None if pattern.match(code) else f"{code!r} is not a LOINC answer-list code")
    )
    if problem:
        table.error(name, problem)
    return code


def _parse_items(
    root: Table, scales: Mapping[str, tuple[Option, ...]], broken: set[str]
) -> list[Item]:
    items: list[Item] = []
    seen: set[str] = set()
    for number, table in enumerate(root.tables("items"), start=1):
        item_id = table.string("id", pattern=ID_PATTERN)
        given_number = table.integer("number", minimum=1)
        scale_name = table.string("scale")
        texts = table.text("text")
        hint = table.text("hint", required=False)
        domain = table.string("domain", required=False)
        loinc = _loinc(table, "loinc")
        answer_list = _loinc(table, "loinc_answer_list", LOINC_ANSWER_LIST_PATTERN)
        table.finish()
        if item_id is not None:
            if item_id in seen:
                table.error("id", f"duplicate item id {item_id!r}")
            seen.add(item_id)
        if given_number is not None and given_number != number:
            table.error("number", f"is {given_number} but this is item {number} in order")
        options = scales.get(scale_name or "")
        if scale_name is not None and options is None and scale_name not in broken:
            table.error("scale", f"unknown scale {scale_name!r} (scales: {', '.join(scales)})")
        if item_id and texts and options and given_number:
            items.append(
                Item(item_id, given_number, texts, options, domain, hint, loinc, answer_list)
            )
    return items


def _parse_skip_rules(root: Table, items: list[Item]) -> list[SkipRule]:
    order = {item.id: i for i, item in enumerate(items)}
    points = {item.id: item.options[0].points for item in items}
    rules: list[SkipRule] = []
    seen: set[str] = set()
    for table in root.tables("skip_rules", required=False):
        rule_id = table.string("id", pattern=ID_PATTERN)
        if_zero = table.strings("if_zero")
        skip = table.strings("skip")
        reason = table.text("reason")
        table.finish()
        if rule_id in seen:
            table.error("id", f"duplicate skip rule id {rule_id!r}")
        seen.add(rule_id or "")
        ok = rule_id is not None and reason is not None
        for key, ids in (("if_zero", if_zero), ("skip", skip)):
            if ids is None:
                ok = False
                continue
            for i, item_id in enumerate(ids):
                if item_id not in order:
                    table.problems.add(f"{table.key(key)}[{i}]", f"unknown item {item_id!r}")
                    ok = False
                elif points[item_id] != 0:
                    table.problems.add(
                        f"{table.key(key)}[{i}]",
                        f"item {item_id!r} takes part in skip logic, so its option 0 must "
                        "give 0 points",
                    )
                    ok = False
        if ok and if_zero and skip:
            if set(if_zero) & set(skip):
                table.error("skip", "an item cannot skip itself")
                ok = False
            elif max(order[i] for i in if_zero) > min(order[i] for i in skip):
                table.error("skip", "skipped items must come after the items that decide it")
                ok = False
        if ok and if_zero and skip and rule_id and reason:
            rules.append(SkipRule(rule_id, if_zero, skip, reason))
    return rules


def _parse_zones(root: Table, max_total: int | None) -> list[Zone]:
    zones: list[Zone] = []
    tables = root.tables("zones", required=False)
    for number, table in enumerate(tables, start=1):
        zone_id = table.string("id")
        given = table.integer("number", minimum=1)
        low = table.integer("min", minimum=0)
        high = table.integer("max", minimum=0)
        titles = table.text("title")
        table.finish()
        if given is not None and given != number:
            table.error("number", f"is {given} but this is zone {number} in order")
        if low is not None and high is not None and low > high:
            table.error("max", f"{high} is below min {low}")
        elif zone_id and given and low is not None and high is not None and titles:
            zones.append(Zone(zone_id, given, low, high, titles))
    if len(zones) != len(tables) or not zones:
        return zones
    if len({z.id for z in zones}) != len(zones):
        root.error("zones", "zone ids must be unique")
    expected = 0
    for i, zone in enumerate(zones):
        key = f"{root.key('zones')}[{i}].min"
        if zone.minimum > expected:
            root.problems.add(key, f"gap: totals {expected}..{zone.minimum - 1} have no zone")
        elif zone.minimum < expected:
            root.problems.add(key, f"overlap: total {zone.minimum} is already in zone {i}")
        expected = zone.maximum + 1
    if max_total is not None and expected - 1 != max_total:
        root.problems.add(
            f"{root.key('zones')}[{len(zones) - 1}].max",
            f"zones end at {expected - 1} but the highest possible total is {max_total}",
        )
    return zones


def _parse_subscores(root: Table, items: list[Item]) -> list[Subscore]:
    known = {item.id for item in items}
    subscores: list[Subscore] = []
    for table in root.tables("subscores", required=False):
        sub_id = table.string("id", pattern=ID_PATTERN)
        ids = table.strings("items")
        titles = table.text("title")
        panel = _loinc(table, "loinc_panel")
        total = _loinc(table, "loinc_total")
        table.finish()
        unknown = [i for i in ids or () if i not in known]
        if unknown:
            table.error("items", f"unknown items {', '.join(unknown)}")
        elif sub_id and ids and titles:
            if any(s.id == sub_id for s in subscores):
                table.error("id", f"duplicate subscore id {sub_id!r}")
            subscores.append(Subscore(sub_id, ids, titles, panel, total))
    return subscores


def parse_languages(root: Table) -> dict[str, LanguageVersion]:
    languages: dict[str, LanguageVersion] = {}
    table = root.table("languages")
    if table is None:
        return languages
    for lang in LANGUAGES:
        entry = table.table(lang)
        if entry is None:
            continue
        version = entry.string("item_text_version")
        status = entry.string("status", choices=TRANSLATION_STATUSES)
        source = entry.string("source")
        entry.finish()
        if version and status and source:
            languages[lang] = LanguageVersion(version, status, source)
    table.finish()
    return languages


def parse_instrument(data: Mapping[str, object], problems: Problems) -> Instrument | None:
    """Check and build an instrument; on any problem return None (problems say why)."""
    root = Table(problems, data)
    before = len(problems.errors)
    instrument_id = root.string("id", pattern=ID_PATTERN)
    kind = root.string("kind", choices=KINDS)
    version = root.integer("version", minimum=1)
    titles = root.text("title")
    attribution = root.text("attribution")
    instructions = root.text("instructions", required=False)
    languages = parse_languages(root)
    codes = root.table("codes", required=False)
    panel = total_code = None
    if codes is not None:
        panel = _loinc(codes, "loinc_panel")
        total_code = _loinc(codes, "loinc_total")
        codes.finish()
    scales, broken_scales = _parse_scales(root)
    items = _parse_items(root, scales, broken_scales)
    items_ok = len(items) == len(root.data.get("items", ()) or ())
    skip_rules = _parse_skip_rules(root, items) if items_ok else []
    max_total = sum(item.max_points for item in items) if items_ok else None
    zones = _parse_zones(root, max_total)
    subscores = _parse_subscores(root, items)
    root.finish()
    if len(problems.errors) != before:
        return None
    assert instrument_id and kind and version and titles and attribution
    return Instrument(
        id=instrument_id,
        version=version,
        kind=kind,
        titles=titles,
        attribution=attribution,
        languages=MappingProxyType(languages),
        items=tuple(items),
        skip_rules=tuple(skip_rules),
        zones=tuple(zones),
        subscores=tuple(subscores),
        instructions=instructions,
        loinc_panel=panel,
        loinc_total=total_code,
        source_file=problems.name,
        fingerprint=fingerprint(data),
    )
