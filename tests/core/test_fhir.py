"""FHIR R4 Questionnaire export, validated with the fhir.resources R4B models."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fhir.resources.R4B.questionnaire import Questionnaire
from pydantic import ValidationError

from screening.core.catalogue import Catalogue
from screening.core.errors import UnknownId
from screening.core.fhir import LOINC, ORDINAL_VALUE, questionnaire
from screening.core.instruments import Instrument
from screening.core.scoring import asked_items

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
    return [x for item in items for x in (item, *_walk(item.get("item", [])))]


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


def test_audit_codes_and_ordinal_values(audit: Instrument) -> None:
    resource = questionnaire(audit, "en")
    assert resource["code"] == [{"system": LOINC, "code": "72110-0"}]
    items = _items(resource)
    loinc = {
        "q1": "68518-0", "q2": "68519-8", "q3": "68520-6", "q4": "97734-8", "q5": "97735-5",
        "q6": "97736-3", "q7": "97737-1", "q8": "97738-9", "q9": "97739-7", "q10": "97740-5",
    }  # fmt: skip
    for item_id, code in loinc.items():
        assert items[item_id]["code"] == [{"system": LOINC, "code": code}]
        ordinals = [
            option["extension"][0]["valueDecimal"] for option in items[item_id]["answerOption"]
        ]
        assert ordinals == ([0, 2, 4] if item_id in ("q9", "q10") else [0, 1, 2, 3, 4])
        assert all(
            o["extension"][0]["url"] == ORDINAL_VALUE for o in items[item_id]["answerOption"]
        )
    assert items["total"]["code"] == [{"system": LOINC, "code": "75624-7"}]
    assert items["audit_c"]["code"] == [{"system": LOINC, "code": "75626-2"}]
    assert items["q1"]["answerOption"][0]["valueCoding"]["display"] == "Never"
    assert (
        questionnaire(audit, "nb")["item"][1]["answerOption"][0]["valueCoding"]["display"]
        == "Aldri"
    )
    assert "© WHO" in resource["copyright"]


def _enabled(resource: dict[str, Any], answers: dict[str, str]) -> set[str]:
    """Evaluate enableWhen (operator '=', behaviour 'any') the way a FHIR form filler does."""
    enabled: set[str] = set()
    for item in resource["item"]:
        conditions = item.get("enableWhen")
        if item["type"] != "choice":
            continue
        if not conditions or any(
            c["question"] in enabled and answers.get(c["question"]) == c["answerCoding"]["code"]
            for c in conditions
        ):
            enabled.add(item["linkId"])
    return enabled


def test_enable_when_reproduces_the_skip_logic(audit: Instrument) -> None:
    resource = questionnaire(audit, "en")
    codes = {item.id: [o.code for o in item.options] for item in audit.items}
    for head in itertools.product(range(5), repeat=3):
        answers = {"q1": head[0], "q2": head[1], "q3": head[2]}
        expected = asked_items(audit, answers)
        as_codes = {k: codes[k][v] for k, v in answers.items()}
        assert _enabled(resource, as_codes) == expected, head


def test_dudit_has_no_skip_logic_and_marks_no_loinc(catalogue: Catalogue) -> None:
    resource = questionnaire(catalogue.instrument("dudit"), "en")
    questions = [i for i in resource["item"] if i["type"] == "choice"]
    assert len(questions) == 11
    assert all("enableWhen" not in q and "code" not in q for q in questions)
    assert "Berman" in resource["copyright"]


def test_unknown_language(audit: Instrument) -> None:
    with pytest.raises(UnknownId):
        questionnaire(audit, "sv")
