"""Reading a FHIR Questionnaire's scoring: answer weights and score items.

Weights are read from, in this order of preference on each answer option:

* ``itemWeight`` or ``ordinalValue`` on ``answerOption`` (SDC; R5 extensions pack / R4 core);
* the same extensions on ``answerOption.valueCoding`` (how Helsenorge's forms carry them);
* for ``answerValueSet`` pointing at a *contained* ValueSet: the extensions on its
  ``compose.include.concept`` or ``expansion.contains`` entries.

Score items are read-only numbers that hold a sum: Helsenorge's scoring codes (``TS`` total,
``SS`` section score, system http://ehelse.no/scoringFormulas), an SDC ``calculatedExpression``
(the FHIRPath LHC-Forms writes for its TOTALSCORE rule names the items it adds by linkId), or
the UCUM unit ``{score}``.  Nothing here guesses a weight: an option without one is reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from .terms import CALCULATED_EXPRESSION, ITEM_WEIGHT, ORDINAL_VALUE, QUESTIONNAIRE_UNIT

WEIGHT_URLS = (ITEM_WEIGHT, ORDINAL_VALUE)
HELSENORGE_SCORING = "http://ehelse.no/scoringFormulas"
OLD_CALCULATED_EXPRESSION = (
    "http://hl7.org/fhir/StructureDefinition/questionnaire-calculatedExpression"
)
LINK_ID_IN_EXPRESSION = re.compile(r"linkId\s*=\s*'([^']+)'")


@dataclass(frozen=True)
class Answer:
    code: str
    label: str
    weight: Decimal | None


def extensions(element: Mapping[str, Any], *urls: str) -> list[Mapping[str, Any]]:
    found = element.get("extension", [])
    if not isinstance(found, list):
        return []
    return [e for e in found if isinstance(e, Mapping) and e.get("url") in urls]


def _weight(*elements: Mapping[str, Any]) -> Decimal | None:
    for element in elements:
        for extension in extensions(element, *WEIGHT_URLS):
            value = extension.get("valueDecimal", extension.get("valueInteger"))
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                continue
            try:
                return Decimal(str(value))
            except InvalidOperation:
                continue
    return None


def _contained(resource: Mapping[str, Any], reference: str) -> Mapping[str, Any] | None:
    if not reference.startswith("#"):
        return None
    for contained in resource.get("contained", []):
        if isinstance(contained, Mapping) and contained.get("id") == reference[1:]:
            return contained
    return None


def _value_set_answers(value_set: Mapping[str, Any]) -> list[Answer]:
    concepts: list[Mapping[str, Any]] = []
    expansion = value_set.get("expansion", {})
    if isinstance(expansion, Mapping) and expansion.get("contains"):
        concepts = list(expansion["contains"])
    else:
        for include in value_set.get("compose", {}).get("include", []):
            concepts.extend(include.get("concept", []))
    return [Answer(str(c.get("code", "")), str(c.get("display") or c.get("code", "")),
                   _weight(c)) for c in concepts if isinstance(c, Mapping)]


def answers(resource: Mapping[str, Any], item: Mapping[str, Any]) -> list[Answer] | str:
    """The item's answers with their weights, or the reason they cannot be read."""
    if "answerValueSet" in item:
        reference = str(item["answerValueSet"])
        value_set = _contained(resource, reference)
        if value_set is None:
            return (f"its answers are in the value set {reference}, which is not contained "
                    "in the Questionnaire, so their weights cannot be read")
        return _value_set_answers(value_set)
    found = []
    for option in item.get("answerOption", item.get("option", [])):
        if not isinstance(option, Mapping):
            continue
        coding = option.get("valueCoding")
        if isinstance(coding, Mapping):
            code = str(coding.get("code", ""))
            label = str(coding.get("display") or code)
            found.append(Answer(code, label, _weight(option, coding)))
        else:
            value = next((v for k, v in option.items() if k.startswith("value")), None)
            found.append(Answer(str(value), str(value), _weight(option)))
    return found


def helsenorge_scoring(item: Mapping[str, Any]) -> str | None:
    """'QS', 'SS' or 'TS' when the item carries Helsenorge's scoring code."""
    for coding in item.get("code", []):
        if isinstance(coding, Mapping) and coding.get("system") == HELSENORGE_SCORING:
            return str(coding.get("code"))
    return None


def expression_link_ids(item: Mapping[str, Any]) -> list[str] | None:
    """The linkIds a FHIRPath calculatedExpression (and the item's variables) refer to;
    None when the item has no FHIRPath expression to read."""
    expressions = [
        e.get("valueExpression", {})
        for e in extensions(item, CALCULATED_EXPRESSION, OLD_CALCULATED_EXPRESSION)
    ]
    if not any(isinstance(x, Mapping) and x.get("language") == "text/fhirpath"
               for x in expressions):
        return None
    variables = [e.get("valueExpression", {}) for e in item.get("extension", [])
                 if isinstance(e, Mapping) and str(e.get("url", "")).endswith("/variable")]
    text = " ".join(str(x.get("expression", "")) for x in [*expressions, *variables]
                    if isinstance(x, Mapping))
    return list(dict.fromkeys(LINK_ID_IN_EXPRESSION.findall(text)))


def calculated_language(item: Mapping[str, Any]) -> str | None:
    for extension in extensions(item, CALCULATED_EXPRESSION, OLD_CALCULATED_EXPRESSION):
        expression = extension.get("valueExpression", {})
        if isinstance(expression, Mapping):
            return f"{expression.get('language')} {expression.get('expression', '')}".strip()
    return None


def is_score_item(item: Mapping[str, Any]) -> bool:
    if item.get("type") not in ("integer", "decimal", "quantity"):
        return False
    if helsenorge_scoring(item) in ("SS", "TS") or calculated_language(item) is not None:
        return True
    units = [e.get("valueCoding", {}) for e in extensions(item, QUESTIONNAIRE_UNIT)]
    return any(isinstance(u, Mapping) and u.get("code") == "{score}" for u in units)


def walk(items: Any, group: str | None = None) -> Iterator[tuple[Mapping[str, Any], str | None]]:
    """Every item with the linkId of the group it is in (None at the top)."""
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        yield item, group
        inner = str(item.get("linkId")) if item.get("type") == "group" else group
        yield from walk(item.get("item", []), inner)
