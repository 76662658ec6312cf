"""Reading the brief-intervention checklist file (instruments/brief_intervention.toml) into
the model of :mod:`screening.core.conversation`, with precise errors for every key."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .conversation import (
    ANY,
    FIELD_TYPES,
    REQUIRED_WHEN,
    ChoiceOption,
    Conversation,
    ConversationItem,
    Field,
)
from .fingerprint import fingerprint
from .instrument_parser import parse_languages
from .reader import ID_PATTERN, Problems, Table


def _parse_field(entry: Table) -> Field | None:
    field_id = entry.string("id", pattern=ID_PATTERN)
    kind = entry.string("type", choices=FIELD_TYPES)
    labels = entry.text("label")
    required = entry.boolean("required")
    sealed = entry.boolean("sealed")
    minimum = entry.integer("min", required=kind in ("integer", "level"))
    maximum = entry.integer("max", required=kind in ("integer", "level"))
    required_when = entry.string("required_when", required=False, choices=REQUIRED_WHEN)
    required_if = None
    condition = entry.table("required_if", required=False)
    if condition is not None:
        other = condition.string("field", pattern=ID_PATTERN)
        value = condition.string("value")
        condition.finish()
        if other and value:
            required_if = (other, value)
    options: list[ChoiceOption] = []
    for option in entry.tables("options", required=kind in ("choice", "multi_choice")):
        code = option.string("code", pattern=ID_PATTERN)
        label = option.text("label")
        urgent = option.boolean("urgent")
        option.finish()
        if code and label:
            if any(o.code == code for o in options):
                option.error("code", f"duplicate option code {code!r}")
            options.append(ChoiceOption(code, label, urgent))
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
        field_id, kind, labels, required, sealed, minimum, maximum, tuple(options), required_when,
        required_if,
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
        for field in fields:
            if field.required_if is None:
                continue
            other_id, code = field.required_if
            other = next((f for f in fields if f.id == other_id), None)
            if other is None or other is field:
                entry.error("fields", f"{field.id}: required_if names no other field "
                                      f"{other_id!r} of this item")
            elif code != ANY and other.option(code) is None:
                entry.error("fields", f"{field.id}: required_if value {code!r} is not an "
                                      f"option of {other_id!r}")
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
