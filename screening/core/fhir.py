"""Export instruments as FHIR R4 Questionnaire resources (plain dicts, ready for JSON).

Internal option codes stay in a code system of this application; LOINC codes are added where
the instrument file has them (panel, items, totals).  Each answer option carries its points in
the ``ordinalValue`` extension.  Skip logic becomes ``enableWhen``.
"""

from __future__ import annotations

from typing import Any

from .conversation import Conversation, Field
from .instruments import Instrument, Item
from .pathways import PATHWAYS

LOINC = "http://loinc.org"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
# Base of this application's own code systems; .invalid is reserved and never resolves.
CODE_SYSTEM_BASE = "https://screening.invalid/fhir/CodeSystem"


def _resource_id(instrument_id: str) -> str:
    return instrument_id.replace("_", "-")


def _name(instrument_id: str) -> str:
    return "".join(part.capitalize() for part in instrument_id.replace("-", "_").split("_"))


def _loinc(code: str | None) -> list[dict[str, str]] | None:
    return None if code is None else [{"system": LOINC, "code": code}]


def _system(instrument_id: str, item_id: str) -> str:
    return f"{CODE_SYSTEM_BASE}/{_resource_id(instrument_id)}-{item_id.replace('_', '-')}"


def _enable_when(instrument: Instrument, item: Item) -> list[dict[str, Any]]:
    """enableWhen for a skippable item: enabled when a deciding item has a non-zero answer.

    An item skipped by several rules is enabled only when none of them fires.  That is
    expressible with enableBehavior 'any' over the triggers of one rule R when every trigger
    of R is itself skipped by every other rule (then a non-zero answer to a trigger of R implies
    that the other rules did not fire).  AUDIT has that shape.
    """
    rules = [rule for rule in instrument.skip_rules if item.id in rule.skip]
    if not rules:
        return []
    chosen = [
        rule
        for rule in rules
        if all(
            trigger in other.skip
            for other in rules
            if other is not rule
            for trigger in rule.if_zero
        )
    ]
    if not chosen:
        raise ValueError(f"skip logic of {instrument.id}.{item.id} cannot be expressed in FHIR R4")
    conditions = []
    for trigger_id in chosen[0].if_zero:
        trigger = instrument.item(trigger_id)
        for option in trigger.options[1:]:
            conditions.append(
                {
                    "question": trigger.id,
                    "operator": "=",
                    "answerCoding": {
                        "system": _system(instrument.id, trigger.id),
                        "code": option.code,
                    },
                }
            )
    return conditions


def _question(instrument: Instrument, item: Item, lang: str) -> dict[str, Any]:
    question: dict[str, Any] = {
        "linkId": item.id,
        "prefix": f"{item.number}.",
        "text": item.text(lang),
        "type": "choice",
        "required": True,
        "answerOption": [
            {
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": option.points}],
                "valueCoding": {
                    "system": _system(instrument.id, item.id),
                    "code": option.code,
                    "display": option.label(lang),
                },
            }
            for option in item.options
        ],
    }
    if item.loinc:
        question["code"] = _loinc(item.loinc)
    conditions = _enable_when(instrument, item)
    if conditions:
        question["enableWhen"] = conditions
        if len(conditions) > 1:
            question["enableBehavior"] = "any"
    if item.hint is not None:
        question["item"] = [
            {"linkId": f"{item.id}-hint", "type": "display", "text": item.hint.get(lang)}
        ]
    return question


def _header(
    resource_id: str, version: int, title: str, copyright: str, lang: str
) -> dict[str, Any]:
    return {
        "resourceType": "Questionnaire",
        "id": _resource_id(resource_id),
        "url": f"{CODE_SYSTEM_BASE.rsplit('/', 1)[0]}/Questionnaire/{_resource_id(resource_id)}",
        "version": str(version),
        "name": _name(resource_id),
        "title": title,
        "status": "active",
        "language": lang,
        "copyright": copyright,
    }


def _instrument(instrument: Instrument, lang: str) -> dict[str, Any]:
    resource = _header(
        instrument.id,
        instrument.version,
        instrument.title(lang),
        instrument.attribution.get(lang),
        lang,
    )
    if instrument.loinc_panel:
        resource["code"] = _loinc(instrument.loinc_panel)
    items: list[dict[str, Any]] = []
    if instrument.instructions is not None:
        items.append(
            {"linkId": "instructions", "type": "display", "text": instrument.instructions.get(lang)}
        )
    items.extend(_question(instrument, item, lang) for item in instrument.items)
    if instrument.kind == "questionnaire":
        for sub in instrument.subscores:
            entry: dict[str, Any] = {
                "linkId": sub.id,
                "text": sub.titles.get(lang),
                "type": "integer",
                "readOnly": True,
            }
            if sub.loinc_total:
                entry["code"] = _loinc(sub.loinc_total)
            items.append(entry)
        total: dict[str, Any] = {
            "linkId": "total",
            "text": "Total",
            "type": "integer",
            "readOnly": True,
        }
        if instrument.loinc_total:
            total["code"] = _loinc(instrument.loinc_total)
        items.append(total)
    resource["item"] = items
    return resource


def _choices(system: str, options: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"valueCoding": {"system": system, "code": c, "display": d}} for c, d in options]


def _field(conversation: Conversation, item_id: str, field: Field, lang: str) -> dict[str, Any]:
    link = f"{item_id}.{field.id}"
    system = _system(conversation.id, link.replace(".", "-"))
    entry: dict[str, Any] = {"linkId": link, "text": field.label(lang)}
    simple = {
        "boolean": "boolean",
        "text": "text",
        "integer": "integer",
        "level": "integer",
        "date": "date",
    }
    if field.type in simple:
        entry["type"] = simple[field.type]
    elif field.type in ("choice", "multi_choice"):
        entry["type"] = "choice"
        entry["answerOption"] = _choices(
            system, [(o.code, o.labels.get(lang)) for o in field.options]
        )
        if field.type == "multi_choice":
            entry["repeats"] = True
    elif field.type == "pathway":
        entry["type"] = "choice"
        entry["answerOption"] = _choices(system, [(p.id, p.name(lang)) for p in PATHWAYS.values()])
    else:  # referrals: a repeating group of (pathway, consent)
        entry["type"] = "group"
        entry["repeats"] = True
        pathways = [(p.id, p.name(lang)) for p in PATHWAYS.values()]
        entry["item"] = [
            {
                "linkId": f"{link}.pathway",
                "type": "choice",
                "text": "pathway",
                "answerOption": _choices(system, pathways),
            },
            {"linkId": f"{link}.consent", "type": "boolean", "text": "consent"},
        ]
    return entry


def _conversation(conversation: Conversation, lang: str) -> dict[str, Any]:
    resource = _header(
        conversation.id,
        conversation.version,
        conversation.title(lang),
        conversation.attribution.get(lang),
        lang,
    )
    resource["item"] = [
        {
            "linkId": item.id,
            "prefix": f"{item.number}.",
            "text": item.title(lang),
            "type": "group",
            "item": [_field(conversation, item.id, field, lang) for field in item.fields],
        }
        for item in conversation.items
    ]
    return resource


def questionnaire(instrument: Instrument | Conversation, lang: str = "nb") -> dict[str, Any]:
    """The instrument as a FHIR R4 Questionnaire (a JSON-ready dict) in the given language."""
    instrument.titles.get(lang)  # rejects an unknown language (UnknownId)
    if isinstance(instrument, Conversation):
        return _conversation(instrument, lang)
    return _instrument(instrument, lang)
