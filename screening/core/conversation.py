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
from types import MappingProxyType

from .errors import AnswerError, InvalidAnswer, UnknownId
from .fingerprint import fingerprint
from .instrument_parser import parse_languages
from .instruments import LanguageVersion
from .pathways import PATHWAYS
from .reader import ID_PATTERN, Problems, Table
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


@dataclass(frozen=True, slots=True)
class ChoiceOption:
    code: str
    labels: Text


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

    def label(self, lang: str) -> str:
        return self.labels.get(lang)


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
        required = item.required_at(suggested_level)
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
    return tuple(problems)


# --------------------------------------------------------------------------- parsing


def _parse_field(entry: Table) -> Field | None:
    field_id = entry.string("id", pattern=ID_PATTERN)
    kind = entry.string("type", choices=FIELD_TYPES)
    labels = entry.text("label")
    required = entry.boolean("required")
    sealed = entry.boolean("sealed")
    minimum = entry.integer("min", required=kind in ("integer", "level"))
    maximum = entry.integer("max", required=kind in ("integer", "level"))
    required_when = entry.string("required_when", required=False, choices=REQUIRED_WHEN)
    options: list[ChoiceOption] = []
    for option in entry.tables("options", required=kind in ("choice", "multi_choice")):
        code = option.string("code", pattern=ID_PATTERN)
        label = option.text("label")
        option.finish()
        if code and label:
            if any(o.code == code for o in options):
                option.error("code", f"duplicate option code {code!r}")
            options.append(ChoiceOption(code, label))
    if options and kind not in ("choice", "multi_choice"):
        entry.error("options", f"a {kind} field has no options")
    if minimum is not None and maximum is not None and minimum > maximum:
        entry.error("max", f"{maximum} is below min {minimum}")
    if sealed and kind != "text":
        entry.error("sealed", "only text fields are sealed")
    if required_when and kind != "text":
        entry.error("required_when", "only a text field can become required")
    entry.finish()
    if not (field_id and kind and labels):
        return None
    return Field(
        field_id, kind, labels, required, sealed, minimum, maximum, tuple(options), required_when
    )


def parse_conversation(data: Mapping[str, object], problems: Problems) -> Conversation | None:
    root = Table(problems, data)
    before = len(problems.errors)
    conversation_id = root.string("id", pattern=ID_PATTERN)
    root.string("kind", choices=("conversation",))
    version = root.integer("version", minimum=1)
    titles = root.text("title")
    attribution = root.text("attribution")
    languages = parse_languages(root)
    items: list[ConversationItem] = []
    for number, entry in enumerate(root.tables("items"), start=1):
        item_id = entry.string("id", pattern=ID_PATTERN)
        given = entry.integer("number", minimum=1)
        title = entry.text("title")
        level = entry.integer("required_from_level", required=False, minimum=1)
        parsed = [_parse_field(f) for f in entry.tables("fields")]
        fields = [f for f in parsed if f is not None]
        entry.finish()
        if given is not None and given != number:
            entry.error("number", f"is {given} but this is item {number} in order")
        if any(i.id == item_id for i in items):
            entry.error("id", f"duplicate item id {item_id!r}")
        ids = [f.id for f in fields]
        if len(set(ids)) != len(ids):
            entry.error("fields", "field ids must be unique")
        levels = [f for f in fields if f.type == "level"]
        if any(f.required_when for f in fields) and len(levels) != 1:
            entry.error("fields", "required_when = 'level_differs' needs one level field")
        if item_id and given and title and len(fields) == len(parsed):
            items.append(ConversationItem(item_id, given, title, tuple(fields), level))
    root.finish()
    if len(problems.errors) != before:
        return None
    assert conversation_id and version and titles and attribution
    return Conversation(
        conversation_id,
        version,
        titles,
        attribution,
        MappingProxyType(languages),
        tuple(items),
        problems.name,
        fingerprint=fingerprint(data),
    )
