"""Instruments as FHIR R4 Questionnaire resources (plain dicts, ready for JSON).

Answer options are LOINC answers where the item has a LOINC answer list, else codes of this
application's code systems (published as CodeSystem resources, see codesystems.py).  Each
option carries its points in the ordinalValue extension (see terms.ORDINAL_VALUE); totals are
read-only integer items with the UCUM unit {score}.  Skip logic becomes ``enableWhen``.
"""

from __future__ import annotations

from typing import Any

from ..conversation import Conversation, Field
from ..instruments import Instrument, Item
from ..pathways import PATHWAYS
from ..texts import Text
from .terms import (
    ORDINAL_VALUE,
    QUESTIONNAIRE_UNIT,
    SCORE_UNIT,
    TRANSLATION,
    UCUM,
    item_system,
    loinc_coding,
    option_coding,
    questionnaire_url,
    resource_id,
)

TOTAL_TEXT = Text(nb="Sum poeng", en="Total score")
PATHWAY_TEXT = Text(nb="Oppfølging", en="Follow-up")
CONSENT_TEXT = Text(nb="Pasientens samtykke", en="The patient's consent")
SCORE_UNIT_EXTENSION = {
    "url": QUESTIONNAIRE_UNIT,
    "valueCoding": {"system": UCUM, "code": SCORE_UNIT, "display": "score"},
}


def _name(instrument_id: str) -> str:
    return "".join(part.capitalize() for part in instrument_id.replace("-", "_").split("_"))


def enable_when(instrument: Instrument, item: Item, lang: str = "nb") -> list[dict[str, Any]]:
    """enableWhen for a skippable item: enabled when a deciding item has a non-zero answer.

    An item skipped by several rules is enabled only when none of them fires.  That is
    expressible with enableBehavior 'any' over the triggers of one rule R when every trigger
    of R is itself skipped by every other rule (then a non-zero answer to a trigger of R implies
    that the other rules did not fire).  AUDIT has that shape.  FHIR treats the answer to a
    disabled item as absent, so a condition on a skipped trigger is false.
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
                    "answerCoding": option_coding(instrument, trigger, option, lang),
                }
            )
    return conditions


def _answer_option(instrument: Instrument, item: Item, index: int, lang: str) -> dict[str, Any]:
    option = item.options[index]
    coding = option_coding(instrument, item, option, lang)
    label = option.label(lang)
    if coding["display"] != label:  # LOINC's display: our label as its translation
        coding["_display"] = {
            "extension": [
                {
                    "url": TRANSLATION,
                    "extension": [
                        {"url": "lang", "valueCode": lang},
                        {"url": "content", "valueString": label},
                    ],
                }
            ]
        }
    return {
        "extension": [{"url": ORDINAL_VALUE, "valueDecimal": option.points}],
        "valueCoding": coding,
    }


def _question(instrument: Instrument, item: Item, lang: str) -> dict[str, Any]:
    question: dict[str, Any] = {
        "linkId": item.id,
        "prefix": f"{item.number}.",
        "text": item.text(lang),
        "type": "choice",
        "required": True,
        "answerOption": [
            _answer_option(instrument, item, option.index, lang) for option in item.options
        ],
    }
    if item.loinc:
        question["code"] = [loinc_coding(item.loinc)]
    conditions = enable_when(instrument, item, lang)
    if conditions:
        question["enableWhen"] = conditions
        if len(conditions) > 1:
            question["enableBehavior"] = "any"
    if item.hint is not None:
        question["item"] = [
            {"linkId": f"{item.id}-hint", "type": "display", "text": item.hint.get(lang)}
        ]
    return question


def _score_item(link_id: str, text: str, loinc: str | None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "extension": [SCORE_UNIT_EXTENSION],
        "linkId": link_id,
        "text": text,
        "type": "integer",
        "readOnly": True,
    }
    if loinc:
        entry["code"] = [loinc_coding(loinc)]
    return entry


def header(
    resource_id_: str, version: int, title: str, copyright: str, lang: str
) -> dict[str, Any]:
    return {
        "resourceType": "Questionnaire",
        "id": resource_id(resource_id_),
        "url": questionnaire_url(resource_id_),
        "version": str(version),
        "name": _name(resource_id_),
        "title": title,
        "status": "active",
        "subjectType": ["Patient"],
        "language": lang,
        "copyright": copyright,
    }


def _instrument(instrument: Instrument, lang: str) -> dict[str, Any]:
    resource = header(
        instrument.id,
        instrument.version,
        instrument.title(lang),
        instrument.attribution.get(lang),
        lang,
    )
    if instrument.loinc_panel:
        resource["code"] = [loinc_coding(instrument.loinc_panel)]
    items: list[dict[str, Any]] = []
    if instrument.instructions is not None:
        items.append(
            {"linkId": "instructions", "type": "display", "text": instrument.instructions.get(lang)}
        )
    items.extend(_question(instrument, item, lang) for item in instrument.items)
    if instrument.kind == "questionnaire":
        for sub in instrument.subscores:
            items.append(_score_item(sub.id, sub.titles.get(lang), sub.loinc_total))
        items.append(_score_item("total", TOTAL_TEXT.get(lang), instrument.loinc_total))
    resource["item"] = items
    return resource


def _choices(system: str, options: list[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"valueCoding": {"system": system, "code": c, "display": d}} for c, d in options]


def field_system(conversation_id: str, link: str) -> str:
    return item_system(conversation_id, link.replace(".", "-"))


def _field(conversation: Conversation, item_id: str, field: Field, lang: str) -> dict[str, Any]:
    link = f"{item_id}.{field.id}"
    system = field_system(conversation.id, link)
    entry: dict[str, Any] = {"linkId": link, "text": field.label(lang)}
    simple = {
        "boolean": "boolean",
        "text": "text",
        "integer": "integer",
        "level": "integer",
        "date": "date",
    }
    pathways = [(p.id, p.name(lang)) for p in PATHWAYS.values()]
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
        entry["answerOption"] = _choices(system, pathways)
    else:  # referrals: a repeating group of (pathway, consent)
        entry["type"] = "group"
        entry["repeats"] = True
        entry["item"] = [
            {
                "linkId": f"{link}.pathway",
                "type": "choice",
                "text": PATHWAY_TEXT.get(lang),
                "answerOption": _choices(system, pathways),
            },
            {"linkId": f"{link}.consent", "type": "boolean", "text": CONSENT_TEXT.get(lang)},
        ]
    return entry


def _conversation(conversation: Conversation, lang: str) -> dict[str, Any]:
    resource = header(
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
