"""One assessment as a FHIR R4 Bundle (type collection): the QuestionnaireResponse with the
answers, and the Observations a receiver files in its record, after the pattern of US Core's
screening and assessment profiles:

* one Observation per answered item (LOINC item code, the answer as valueCodeableConcept);
* one per total and subscore (valueQuantity in the UCUM unit {score});
* one panel Observation per instrument panel and per subscore with a panel code (the AUDIT's
  72110-0 and, inside it, the AUDIT-C's 72109-2), whose ``hasMember`` lists the item and score
  Observations of that panel.

Codes are LOINC's where the instrument file has them, else this application's observation code
system (terms.OBSERVATION_SYSTEM).  A voided assessment exports every resource with status
``entered-in-error``.  Plain dicts, ready for JSON; the patient is referenced by national
identifier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..instruments import Instrument, Item, Subscore
from ..scoring import asked_items
from .questionnaire import TOTAL_TEXT
from .terms import (
    FHIR_BASE,
    OBSERVATION_CATEGORY,
    OBSERVATION_SYSTEM,
    SCORE_UNIT,
    UCUM,
    loinc_coding,
    option_coding,
    questionnaire_url,
    resource_id,
)

FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"  # Norwegian fødselsnummer
DNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.2"  # D-number
SURVEY = {"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}


@dataclass(frozen=True)
class _Texts:
    total_item: str  # the total's item text in the Questionnaire
    total: str  # the total Observation's code text
    panel: str


def observation_texts(instrument: Instrument, lang: str) -> _Texts:
    title = instrument.title(lang)
    return _Texts(TOTAL_TEXT.get(lang), f"{title}: {TOTAL_TEXT.get(lang).lower()}", title)


def _subject(fnr: str, name: str) -> dict[str, Any]:
    system = DNR_SYSTEM if fnr[:1] in "4567" else FNR_SYSTEM
    subject: dict[str, Any] = {"identifier": {"system": system, "value": fnr}}
    if name:
        subject["display"] = name
    return subject


def observation_code(loinc: str | None, own_code: str, text: str) -> dict[str, Any]:
    """A CodeableConcept: the LOINC code when there is one, else ours; ``text`` as shown."""
    if loinc:
        coding = loinc_coding(loinc)
    else:
        coding = {"system": OBSERVATION_SYSTEM, "code": own_code, "display": text}
    return {"coding": [coding], "text": text}


class _Builder:
    def __init__(self, instrument: Instrument, uuid: str, authored: str,
                 subject: dict[str, Any], voided: bool, lang: str) -> None:
        self.instrument = instrument
        self.uuid = uuid
        self.authored = authored
        self.subject = subject
        self.status = "entered-in-error" if voided else "final"
        self.lang = lang
        self.texts = observation_texts(instrument, lang)
        self.response_ref = f"QuestionnaireResponse/qr-{uuid}"
        self.resources: list[dict[str, Any]] = []

    def observation(self, name: str, code: dict[str, Any], value: dict[str, Any],
                    members: list[str] | None = None) -> str:
        obs_id = f"{resource_id(name)}-{self.uuid}"
        resource: dict[str, Any] = {
            "resourceType": "Observation",
            "id": obs_id,
            "status": self.status,
            "category": [{"coding": [SURVEY]}],
            "code": code,
            "subject": self.subject,
            "effectiveDateTime": self.authored,
            **value,
        }
        if members:
            resource["hasMember"] = [{"reference": ref} for ref in members]
        resource["derivedFrom"] = [{"reference": self.response_ref}]
        self.resources.append(resource)
        return f"Observation/{obs_id}"

    def item(self, item: Item, index: int) -> str:
        option = item.options[index]
        value = {
            "valueCodeableConcept": {
                "coding": [option_coding(self.instrument, item, option, self.lang)],
                "text": option.label(self.lang),
            }
        }
        code = observation_code(item.loinc, f"{self.instrument.id}.{item.id}",
                                item.text(self.lang))
        return self.observation(item.id, code, value)

    def score(self, name: str, loinc: str | None, own_code: str, text: str, value: int) -> str:
        quantity = {"value": value, "unit": SCORE_UNIT, "system": UCUM, "code": SCORE_UNIT}
        return self.observation(name, observation_code(loinc, own_code, text),
                                {"valueQuantity": quantity})


def _response(instrument: Instrument, uuid: str, answers: Mapping[str, int | None], total: int,
              subscores: Mapping[str, int], authored: str, subject: dict[str, Any],
              voided: bool, lang: str) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    for item in instrument.items:
        index = answers.get(item.id)
        if index is None:
            continue
        option = item.options[index]
        items.append({
            "linkId": item.id,
            "text": item.text(lang),
            "answer": [{"valueCoding": option_coding(instrument, item, option, lang)}],
        })
    texts = observation_texts(instrument, lang)
    for sub in instrument.subscores:
        items.append({"linkId": sub.id, "text": sub.titles.get(lang),
                      "answer": [{"valueInteger": subscores[sub.id]}]})
    items.append({"linkId": "total", "text": texts.total_item,
                  "answer": [{"valueInteger": total}]})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": f"qr-{uuid}",
        "questionnaire": f"{questionnaire_url(instrument.id)}|{instrument.version}",
        "status": "entered-in-error" if voided else "completed",
        "subject": subject,
        "authored": authored,
        "item": items,
    }


def _subscores(instrument: Instrument, answers: Mapping[str, int | None]) -> dict[str, int]:
    def points(item_id: str) -> int:
        index = answers.get(item_id)
        return 0 if index is None else instrument.item(item_id).options[index].points

    return {sub.id: sum(points(i) for i in sub.items) for sub in instrument.subscores}


def assessment_bundle(instrument: Instrument, assessment_uuid: str,
                      answers: Mapping[str, int | None], total: int, authored: str, *,
                      fnr: str, name: str, lang: str = "nb",
                      voided: bool = False) -> dict[str, Any]:
    """``answers``: option index per item (None or absent when not asked); ``total``: the
    stored total; ``authored``: ISO time with offset.  Subscores follow from the answers."""
    # An item the skip logic does not ask may be stored answered 0 (it counts 0 either way):
    # it is not exported, as a FHIR form filler disables it and a receiver rejects its answer.
    asked = asked_items(instrument, answers)
    answers = {k: v for k, v in answers.items() if k in asked}
    subject = _subject(fnr, name)
    subscores = _subscores(instrument, answers)
    response = _response(instrument, assessment_uuid, answers, total, subscores, authored,
                         subject, voided, lang)
    build = _Builder(instrument, assessment_uuid, authored, subject, voided, lang)
    item_refs: dict[str, str] = {}
    for item in instrument.items:
        index = answers.get(item.id)
        if index is not None:
            item_refs[item.id] = build.item(item, index)
    texts = build.texts
    panel_members: list[str] = []
    for sub in instrument.subscores:
        panel_members.append(_subscore(build, sub, subscores[sub.id], item_refs))
    total_ref = build.score("total", instrument.loinc_total, f"{instrument.id}.total",
                            texts.total, total)
    members = [ref for item_id, ref in item_refs.items()
               if not any(item_id in sub.items for sub in instrument.subscores
                          if sub.loinc_panel)]
    build.observation("panel", observation_code(instrument.loinc_panel, instrument.id,
                                                texts.panel),
                      {}, [*members, *panel_members, total_ref])
    entries = [response, *build.resources]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": authored,
        "entry": [{"fullUrl": f"{FHIR_BASE}/{r['resourceType']}/{r['id']}", "resource": r}
                  for r in entries],
    }


def _subscore(build: _Builder, sub: Subscore, value: int, item_refs: Mapping[str, str]) -> str:
    """The subscore's Observation; inside a panel of its own when it has a panel code."""
    title = sub.titles.get(build.lang)
    own = f"{build.instrument.id}.{sub.id}"
    score_ref = build.score(sub.id, sub.loinc_total, own, title, value)
    if not sub.loinc_panel:
        return score_ref
    members = [item_refs[i] for i in sub.items if i in item_refs]
    return build.observation(f"{sub.id}-panel",
                             observation_code(sub.loinc_panel, f"{own}.panel", title),
                             {}, [*members, score_ref])
