"""Instrument definitions (questionnaires and checklists) as frozen data, and their parser.

An instrument file describes items, their options (index, internal code, points, labels),
skip rules, zones and subscores.  `parse_instrument` checks a parsed TOML mapping completely
and reports every problem with its key; it never guesses (the checks are in
instrument_parser.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from .errors import UnknownId
from .reader import Problems
from .texts import LANGUAGES, Text

KINDS = ("questionnaire", "checklist")
TRANSLATION_STATUSES = ("published", "working")


@dataclass(frozen=True, slots=True)
class Option:
    index: int
    code: str
    points: int
    labels: Text

    def label(self, lang: str) -> str:
        return self.labels.get(lang)


@dataclass(frozen=True, slots=True)
class Item:
    id: str
    number: int
    texts: Text
    options: tuple[Option, ...]
    domain: str | None = None
    hint: Text | None = None
    loinc: str | None = None
    loinc_answer_list: str | None = None

    def text(self, lang: str) -> str:
        return self.texts.get(lang)

    @property
    def max_points(self) -> int:
        return max(option.points for option in self.options)


@dataclass(frozen=True, slots=True)
class SkipRule:
    """When every item of `if_zero` is answered 0 (or is itself skipped), `skip` is not asked."""

    id: str
    if_zero: tuple[str, ...]
    skip: tuple[str, ...]
    reason: Text


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    number: int
    minimum: int
    maximum: int
    titles: Text

    def title(self, lang: str) -> str:
        return self.titles.get(lang)


@dataclass(frozen=True, slots=True)
class Subscore:
    id: str
    items: tuple[str, ...]
    titles: Text
    loinc_panel: str | None = None
    loinc_total: str | None = None


@dataclass(frozen=True, slots=True)
class LanguageVersion:
    """The item texts of one language: their version id and whether they are a working text."""

    item_text_version: str
    status: str
    source: str


@dataclass(frozen=True)
class Instrument:
    id: str
    version: int
    kind: str
    titles: Text
    attribution: Text
    languages: Mapping[str, LanguageVersion]
    items: tuple[Item, ...]
    skip_rules: tuple[SkipRule, ...] = ()
    zones: tuple[Zone, ...] = ()
    subscores: tuple[Subscore, ...] = ()
    instructions: Text | None = None
    loinc_panel: str | None = None
    loinc_total: str | None = None
    source_file: str = ""
    fingerprint: str = ""  # SHA-256 of the file's canonical content (core.fingerprint)
    # Derived look-up tables, built once (used by scoring on every call).
    positions: Mapping[str, int] = field(init=False, repr=False, compare=False)
    points_table: tuple[tuple[int, ...], ...] = field(init=False, repr=False, compare=False)
    max_total: int = field(init=False, repr=False, compare=False)
    option_counts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    item_ids: tuple[str, ...] = field(init=False, repr=False, compare=False)
    # (positions that decide, positions skipped) per skip rule, in file order
    skip_table: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...] = field(
        init=False, repr=False, compare=False
    )
    subscore_table: tuple[tuple[str, tuple[int, ...]], ...] = field(
        init=False, repr=False, compare=False
    )
    zone_by_total: tuple[Zone | None, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def derive(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        positions = {item.id: i for i, item in enumerate(self.items)}
        derive("positions", MappingProxyType(positions))
        derive("item_ids", tuple(item.id for item in self.items))
        table = tuple(tuple(o.points for o in item.options) for item in self.items)
        derive("points_table", table)
        derive("option_counts", tuple(len(points) for points in table))
        max_total = sum(max(p) for p in table)
        derive("max_total", max_total)
        derive(
            "skip_table",
            tuple(
                (tuple(positions[i] for i in r.if_zero), tuple(positions[i] for i in r.skip))
                for r in self.skip_rules
            ),
        )
        derive(
            "subscore_table",
            tuple((s.id, tuple(positions[i] for i in s.items)) for s in self.subscores),
        )
        derive("zone_by_total", tuple(self.zone_for(t) for t in range(max_total + 1)))

    def title(self, lang: str) -> str:
        return self.titles.get(lang)

    def item(self, item_id: str) -> Item:
        position = self.positions.get(item_id)
        if position is None:
            raise UnknownId("item", item_id, self.positions)
        return self.items[position]

    def item_text_version(self, lang: str) -> str:
        return self._language(lang).item_text_version

    def translation_status(self, lang: str) -> str:
        return self._language(lang).status

    def _language(self, lang: str) -> LanguageVersion:
        try:
            return self.languages[lang]
        except KeyError:
            raise UnknownId("language", lang, LANGUAGES) from None

    def subscore(self, subscore_id: str) -> Subscore:
        for subscore in self.subscores:
            if subscore.id == subscore_id:
                return subscore
        raise UnknownId("subscore", subscore_id, [s.id for s in self.subscores])

    def zone_for(self, total: int) -> Zone | None:
        for zone in self.zones:
            if zone.minimum <= total <= zone.maximum:
                return zone
        return None


def parse_instrument(data: Mapping[str, object], problems: Problems) -> Instrument | None:
    """Check and build an instrument; on any problem return None (`problems` says why)."""
    from .instrument_parser import parse_instrument as parse

    return parse(data, problems)
