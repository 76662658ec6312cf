"""The brief-intervention conversation checklist (clinical-rules §4): definition and checks.

A conversation record is a mapping ``item id -> {field id -> value}``.  Field types:

=============  =====================================================================
boolean        True / False (a *required* boolean must be True: the step was done)
text           a non-empty string (``sealed = true``: the app stores it encrypted)
integer        an int within ``min``..``max``
level          an action level (int within ``min``..``max``)
choice         one option code
multi_choice   a list of distinct option codes
date           ``datetime.date`` or an ISO ``YYYY-MM-DD`` string
pathway        a pathway id (elder_care, gp, substance_use_consultant, specialist_referral)
referrals      a list of ``{"pathway": id, "consent": bool}``
=============  =====================================================================
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass

from .errors import AnswerError, InvalidAnswer, UnknownId
from .instruments import LanguageVersion
from .pathways import PATHWAYS
from .texts import Text, shown

FIELD_TYPES = (
    "boolean",
    "text",
    "integer",
    "level",
    "choice",
    "multi_choice",
    "date",
    "pathway",
    "referrals",
)
REQUIRED_WHEN = ("level_differs",)
MAX_TEXT = 4000
ANY = "*"  # required_if value: the other field has any value at all


@dataclass(frozen=True, slots=True)
class ChoiceOption:
    code: str
    labels: Text
    # An urgent finding (suicidality, withdrawal risk), or a route fit for one (the GP the
    # same day, the emergency primary care service, 113): an urgent finding needs an urgent
    # route in the same item.
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Field:
    id: str
    type: str
    labels: Text
    required: bool = False
    sealed: bool = False
    minimum: int | None = None
    maximum: int | None = None
    options: tuple[ChoiceOption, ...] = ()
    required_when: str | None = None
    # (field id, option code or ANY): filled in whenever that field of the same item has this
    # value (a choice) or includes it (a multi_choice), at any level: a "reduce" goal needs
    # its target, "other" its description, a safety finding its route.
    required_if: tuple[str, str] | None = None

    def label(self, lang: str) -> str:
        return self.labels.get(lang)

    def option(self, code: object) -> ChoiceOption | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True, slots=True)
class ConversationItem:
    id: str
    number: int
    titles: Text
    fields: tuple[Field, ...]
    required_from_level: int | None = None

    def title(self, lang: str) -> str:
        return self.titles.get(lang)

    def required_at(self, level: int) -> bool:
        return self.required_from_level is not None and level >= self.required_from_level


@dataclass(frozen=True)
class Conversation:
    id: str
    version: int
    titles: Text
    attribution: Text
    languages: Mapping[str, LanguageVersion]
    items: tuple[ConversationItem, ...]
    source_file: str = ""
    kind: str = "conversation"
    fingerprint: str = ""  # SHA-256 of the file's canonical content (core.fingerprint)

    def title(self, lang: str) -> str:
        return self.titles.get(lang)

    def item(self, item_id: str) -> ConversationItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise UnknownId("conversation item", item_id, [i.id for i in self.items])

    def required_items(self, level: int) -> tuple[str, ...]:
        """The items that must be filled in at this action level."""
        return tuple(item.id for item in self.items if item.required_at(level))

    def chosen_level(self, values: Mapping[str, object]) -> int | None:
        """The action level chosen by clinical judgement in a record, if any."""
        for item in self.items:
            record = values.get(item.id)
            if not isinstance(record, Mapping):
                continue
            for field in item.fields:
                value = record.get(field.id)
                if field.type == "level" and type(value) is int:
                    return value
        return None

    def urgent_findings(self, values: Mapping[str, object]) -> tuple[tuple[ConversationItem,
                                                                          ChoiceOption], ...]:
        """The urgent options chosen in a record's multi-choice fields (suicidality,
        withdrawal risk), with their item."""
        found = []
        for item in self.items:
            record = values.get(item.id)
            if not isinstance(record, Mapping):
                continue
            for field in item.fields:
                chosen = record.get(field.id)
                if field.type == "multi_choice" and isinstance(chosen, (list, tuple)):
                    found += [(item, o) for o in field.options if o.urgent and o.code in chosen]
        return tuple(found)


# --------------------------------------------------------------------------- checking


def _empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == ()


def _value_problem(field: Field, value: object) -> str | None:
    """What is wrong with a non-empty value, as 'expected ...', or None."""
    kind = field.type
    codes = [o.code for o in field.options]
    if kind == "boolean":
        return None if type(value) is bool else "true or false"
    if kind == "text":
        ok = isinstance(value, str) and len(value) <= MAX_TEXT
        return None if ok else f"text of at most {MAX_TEXT} characters"
    if kind in ("integer", "level"):
        low, high = field.minimum, field.maximum
        ok = (
            type(value) is int and (low is None or value >= low) and (high is None or value <= high)
        )
        return None if ok else f"a whole number {low}–{high}"
    if kind == "choice":
        return None if isinstance(value, str) and value in codes else f"one of {', '.join(codes)}"
    if kind == "multi_choice":
        ok = (
            isinstance(value, (list, tuple, frozenset, set))
            and all(isinstance(v, str) and v in codes for v in value)
            and len(set(value)) == len(value)
        )
        return None if ok else f"distinct codes among {', '.join(codes)}"
    if kind == "date":
        if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
            return None
        if isinstance(value, str) and len(value) == 10 and value.isascii():
            try:
                datetime.date.fromisoformat(value)
                return None
            except ValueError:
                pass
        return "a date YYYY-MM-DD"
    if kind == "pathway":
        ok = isinstance(value, str) and value in PATHWAYS
        return None if ok else f"one of {', '.join(PATHWAYS)}"
    if kind == "referrals":
        ok = isinstance(value, (list, tuple)) and all(
            isinstance(v, Mapping)
            and set(v) == {"pathway", "consent"}
            and isinstance(v["pathway"], str)
            and v["pathway"] in PATHWAYS
            and type(v["consent"]) is bool
            for v in value
        )
        return None if ok else "a list of {pathway, consent} entries"
    return f"a value of type {kind}"  # pragma: no cover - types are checked at load


def check_conversation(
    conversation: Conversation, values: object, suggested_level: int
) -> tuple[AnswerError, ...]:
    """Every problem of a conversation record (empty when it can be saved as complete)."""
    if not isinstance(values, Mapping):
        return (InvalidAnswer("not_mapping", None, value=shown(values)),)
    problems: list[AnswerError] = []
    by_id = {item.id: item for item in conversation.items}
    chosen_level = conversation.chosen_level(values)
    for key in values:
        if key not in by_id:
            problems.append(
                InvalidAnswer(
                    "unknown_item",
                    key if isinstance(key, str) else None,
                    item=repr(key) if isinstance(key, str) else shown(key),
                    instrument=conversation.id,
                    known=", ".join(by_id),
                )
            )
    for item in conversation.items:
        record = values.get(item.id) or {}
        if not isinstance(record, Mapping):
            problems.append(InvalidAnswer("not_mapping", item.id, value=shown(record)))
            continue
        names = {f.id for f in item.fields}
        for key in record:
            if key not in names:
                problems.append(
                    InvalidAnswer(
                        "unknown_field", f"{item.id}.{key}", known=", ".join(sorted(names))
                    )
                )
        # What is required follows the higher of the suggested and the chosen level: an
        # override upwards brings the higher level's steps with it.
        required = item.required_at(max(suggested_level, chosen_level or 0))
        chosen = [record.get(f.id) for f in item.fields if f.type == "level"]
        differs = bool(chosen) and not _empty(chosen[0]) and chosen[0] != suggested_level
        for field in item.fields:
            where = f"{item.id}.{field.id}"
            value = record.get(field.id)
            if not _empty(value):
                expected = _value_problem(field, value)
                if expected:
                    problems.append(
                        InvalidAnswer("bad_value", where, value=shown(value), expected=expected)
                    )
                    continue
            missing = _empty(value) or (field.type == "boolean" and value is not True)
            if required and field.required and missing:
                problems.append(
                    InvalidAnswer("required", where, level=str(item.required_from_level))
                )
            elif field.required_when == "level_differs" and differs and missing:
                problems.append(InvalidAnswer("override_reason", where, level=str(suggested_level)))
            elif field.required_if and missing and _condition_holds(item, record,
                                                                      field.required_if):
                other, code = field.required_if
                problems.append(InvalidAnswer("required_with", where, field=f"{item.id}.{other}",
                                              value=code))
            elif not missing and _needs_urgent(item, record, field, value):
                problems.append(InvalidAnswer("urgent_route", where))
    return tuple(problems)


def _condition_holds(item: ConversationItem, record: Mapping[str, object],
                     condition: tuple[str, str]) -> bool:
    other, code = condition
    value = record.get(other)
    if _empty(value):
        return False
    if code == ANY:
        return True
    return value == code or (isinstance(value, (list, tuple)) and code in value)


def _needs_urgent(item: ConversationItem, record: Mapping[str, object], field: Field,
                  value: object) -> bool:
    """A route (a choice with urgent options) that is not urgent for an urgent finding of
    the same item."""
    if field.type != "choice" or not any(o.urgent for o in field.options):
        return False
    urgent_finding = any(
        f.type == "multi_choice" and isinstance(record.get(f.id), (list, tuple))
        and any(o.urgent and o.code in record[f.id] for o in f.options)  # type: ignore[operator]
        for f in item.fields)
    chosen = field.option(value)
    return urgent_finding and not (chosen is not None and chosen.urgent)


META = "_meta"  # beside the item ids in a stored record: what the app recorded itself


def stamp_routes(conversation: Conversation, record: Mapping[str, object],
                 previous: Mapping[str, object] | None, now: str) -> dict[str, object]:
    """The record to store: as checked, plus when each item's route (a choice with urgent
    options, e.g. the safety finding's "routed to") was first recorded with its value; an
    unchanged route keeps its first time. ``now`` is an ISO 8601 UTC instant."""
    before = previous.get(META) if isinstance(previous, Mapping) else None
    routed: dict[str, object] = {}
    old = before.get("routed_at") if isinstance(before, Mapping) else None
    for item in conversation.items:
        values = record.get(item.id)
        if not isinstance(values, Mapping):
            continue
        for field in item.fields:
            if field.type != "choice" or not any(o.urgent for o in field.options):
                continue
            value = values.get(field.id)
            if _empty(value):
                continue
            where = f"{item.id}.{field.id}"
            kept = old.get(where) if isinstance(old, Mapping) else None
            same = (isinstance(kept, Mapping) and kept.get("value") == value)
            routed[where] = kept if same else {"value": value, "at": now}
    stored = {k: v for k, v in record.items() if k != META}
    if routed:
        stored[META] = {"routed_at": routed}
    return stored
