"""FHIR R4 Questionnaire export, validated with the fhir.resources R4B models."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from pydantic import ValidationError

from screening.core.catalogue import Catalogue
from screening.core.errors import UnknownId
from screening.core.fhir import CODE_SYSTEM_BASE, LOINC, ORDINAL_VALUE, questionnaire
from screening.core.fhir.terms import option_coding
from screening.core.instruments import Instrument
from screening.core.scoring import asked_items

from .fhir_checks import empty_values, enabled_link_ids, walk
from .support import shared_catalogue

ALL = [
    *shared_catalogue().instruments,
    *(f"conversation:{c}" for c in shared_catalogue().conversations),
]


def _definition(catalogue: Catalogue, name: str) -> Any:
    if name.startswith("conversation:"):
        return catalogue.conversation(name.split(":", 1)[1])
    return catalogue.instrument(name)


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("name", ALL)
def test_every_instrument_validates(catalogue: Catalogue, name: str, lang: str) -> None:
    resource = questionnaire(_definition(catalogue, name), lang)
    model = Questionnaire.model_validate(resource)
    assert model.status == "active" and model.language == lang
    assert model.item
    assert empty_values(resource) == []


BREAKAGES = {
    "unknown-element": lambda r: r["item"][1].update(weight=2),
    "no-link-id": lambda r: r["item"][1].pop("linkId"),
    "no-status": lambda r: r.pop("status"),
    "bad-id": lambda r: r.update(id="audit questionnaire"),
    "ordinal-not-decimal": lambda r: r["item"][1]["answerOption"][0]["extension"][0].update(
        valueDecimal="two"
    ),
}


@pytest.mark.parametrize("breakage", BREAKAGES.values(), ids=BREAKAGES.keys())
def test_validation_is_real(catalogue: Catalogue, breakage: Any) -> None:
    resource = questionnaire(catalogue.instrument("audit"))
    breakage(resource)
    with pytest.raises(ValidationError):
        Questionnaire.model_validate(resource)


# fhir.resources checks structure and types, not code-set membership: check those codes here.
ITEM_TYPES = {"group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time",
              "string", "text", "url", "choice", "open-choice", "attachment", "reference",
              "quantity"}  # fmt: skip


def _walk(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list(walk(items))


@pytest.mark.parametrize("name", ALL)
def test_codes_are_from_the_r4_value_sets(catalogue: Catalogue, name: str) -> None:
    resource = questionnaire(_definition(catalogue, name))
    assert resource["status"] in {"draft", "active", "retired", "unknown"}
    link_ids = [item["linkId"] for item in _walk(resource["item"])]
    assert len(link_ids) == len(set(link_ids))
    for item in _walk(resource["item"]):
        assert item["type"] in ITEM_TYPES
        assert ("answerOption" in item) <= (item["type"] == "choice")
        assert (item["type"] == "group") <= bool(item.get("item"))
        assert item.get("enableBehavior", "any") in {"all", "any"}
        for condition in item.get("enableWhen", []):
            assert condition["operator"] in {"exists", "=", "!=", ">", "<", ">=", "<="}
            assert condition["question"] in link_ids
        if len(item.get("enableWhen", [])) > 1:
            assert "enableBehavior" in item


def _items(resource: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in resource["item"]}


AUDIT_ITEM_LOINC = {
    "q1": "68518-0", "q2": "68519-8", "q3": "68520-6", "q4": "97734-8", "q5": "97735-5",
    "q6": "97736-3", "q7": "97737-1", "q8": "97738-9", "q9": "97739-7", "q10": "97740-5",
}  # fmt: skip


def test_audit_codes_displays_and_ordinal_values(audit: Instrument) -> None:
    resource = questionnaire(audit, "en")
    assert resource["code"] == [
        {"system": LOINC, "code": "72110-0",
         "display": "Alcohol Use Disorder Identification Test [AUDIT]"}
    ]
    items = _items(resource)
    for item_id, code in AUDIT_ITEM_LOINC.items():
        assert items[item_id]["code"][0]["code"] == code
        assert items[item_id]["code"][0]["system"] == LOINC
        options = items[item_id]["answerOption"]
        ordinals = [o["extension"][0]["valueDecimal"] for o in options]
        assert ordinals == ([0, 2, 4] if item_id in ("q9", "q10") else [0, 1, 2, 3, 4])
        assert all(o["extension"][0]["url"] == ORDINAL_VALUE for o in options)
    # LOINC's own displays (Long Common Names), not our titles
    assert items["q2"]["code"][0]["display"] == (
        "How many standard drinks containing alcohol do you have on a typical day"
    )
    assert items["total"]["code"] == [
        {"system": LOINC, "code": "75624-7", "display": "Total score [AUDIT]"}
    ]
    assert items["audit_c"]["code"] == [
        {"system": LOINC, "code": "75626-2", "display": "Total score [AUDIT-C]"}
    ]
    assert items["total"]["extension"][0]["valueCoding"]["code"] == "{score}"
    assert "© WHO" in resource["copyright"]


def test_audit_items_1_to_3_answer_in_loinc(audit: Instrument) -> None:
    """LOINC answer lists LL2179-1, LL2180-9, LL2181-7; items 4-10 stay in our systems."""
    items = _items(questionnaire(audit, "nb"))
    codes = {i: [o["valueCoding"]["code"] for o in items[i]["answerOption"]] for i in items
             if items[i]["type"] == "choice"}
    assert codes["q1"] == ["LA6270-8", "LA18926-8", "LA18927-6", "LA18928-4", "LA18929-2"]
    assert codes["q2"] == ["LA15694-5", "LA15695-2", "LA18930-0", "LA18931-8", "LA18932-6"]
    assert codes["q3"] == ["LA6270-8", "LA18933-4", "LA18876-5", "LA18891-4", "LA18934-2"]
    first = items["q1"]["answerOption"][0]["valueCoding"]
    assert first["system"] == LOINC and first["display"] == "Never"
    # the bokmål label travels as the display's translation
    translation = first["_display"]["extension"][0]["extension"]
    assert {"url": "content", "valueString": "Aldri"} in translation
    assert {"url": "lang", "valueCode": "nb"} in translation
    q4 = items["q4"]["answerOption"][0]["valueCoding"]
    assert q4["system"] == f"{CODE_SYSTEM_BASE}/audit-q4" and q4["display"] == "Aldri"
    assert "_display" not in q4


def _enabled(resource: dict[str, Any], codings: dict[str, dict[str, Any]]) -> set[str]:
    answers = {link: [{"valueCoding": coding}] for link, coding in codings.items()}
    questions = {i["linkId"] for i in resource["item"] if i["type"] == "choice"}
    return enabled_link_ids(resource, answers) & questions


def _deciding_vectors(instrument: Instrument) -> list[dict[str, int]]:
    """Every combination of answers to the items that decide skip rules (others answered 0)."""
    deciding = sorted({i for rule in instrument.skip_rules for i in rule.if_zero},
                      key=instrument.item_ids.index)
    counts = [len(instrument.item(i).options) for i in deciding]
    return [dict(zip(deciding, combo, strict=True))
            for combo in itertools.product(*(range(n) for n in counts))]


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize("name", list(shared_catalogue().instruments))
def test_enable_when_is_the_skip_logic(catalogue: Catalogue, name: str, lang: str) -> None:
    """For every answer vector of the deciding items, the items a FHIR form filler enables
    are exactly the items the skip rules ask (and so the skipped ones are disabled)."""
    instrument = catalogue.instrument(name)
    resource = questionnaire(instrument, lang)
    for head in _deciding_vectors(instrument):
        answers = {item.id: head.get(item.id, 0) for item in instrument.items}
        expected = asked_items(instrument, answers)
        codings = {
            item.id: option_coding(instrument, item, item.options[answers[item.id]], lang)
            for item in instrument.items if item.id in expected
        }
        assert _enabled(resource, codings) == set(expected), head


def test_dudit_has_no_skip_logic_and_marks_no_loinc(catalogue: Catalogue) -> None:
    resource = questionnaire(catalogue.instrument("dudit"), "en")
    questions = [i for i in resource["item"] if i["type"] == "choice"]
    assert len(questions) == 11
    assert all("enableWhen" not in q and "code" not in q for q in questions)
    assert "Berman" in resource["copyright"]


def test_unknown_language(audit: Instrument) -> None:
    with pytest.raises(UnknownId):
        questionnaire(audit, "sv")
