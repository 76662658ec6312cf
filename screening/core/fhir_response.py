"""Export one assessment as a FHIR R4 Bundle: a QuestionnaireResponse with the answers and an
Observation for the total (and one per subscore), LOINC coded where the instrument file has
codes. Plain dicts, ready for JSON; the patient is referenced by national identifier."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .fhir import CODE_SYSTEM_BASE, LOINC, ORDINAL_VALUE, _resource_id, _system
from .instruments import Instrument

FNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.1"  # Norwegian fødselsnummer
DNR_SYSTEM = "urn:oid:2.16.578.1.12.4.1.4.2"  # D-number
SURVEY = {"system": "http://terminology.hl7.org/CodeSystem/observation-category",
          "code": "survey", "display": "Survey"}


def _subject(fnr: str, name: str) -> dict[str, Any]:
    system = DNR_SYSTEM if fnr[:1] in "4567" else FNR_SYSTEM
    return {"identifier": {"system": system, "value": fnr}, "display": name}


def _observation(obs_id: str, code: str | None, text: str, value: int, subject: dict[str, Any],
                 authored: str, response_ref: str) -> dict[str, Any]:
    coding = [{"system": LOINC, "code": code, "display": text}] if code else []
    return {
        "resourceType": "Observation",
        "id": obs_id,
        "status": "final",
        "category": [{"coding": [SURVEY]}],
        "code": {"coding": coding, "text": text},
        "subject": subject,
        "effectiveDateTime": authored,
        "valueInteger": value,
        "derivedFrom": [{"reference": response_ref}],
    }


def assessment_bundle(instrument: Instrument, assessment_uuid: str,
                      answers: Mapping[str, int | None], total: int, authored: str,
                      subscores: Mapping[str, int], *, fnr: str, name: str,
                      lang: str = "nb") -> dict[str, Any]:
    """``answers``: option index per item (None when not asked); ``authored``: ISO time."""
    subject = _subject(fnr, name)
    response_id = f"qr-{assessment_uuid}"
    items = []
    for item in instrument.items:
        index = answers.get(item.id)
        if index is None:
            continue
        option = item.options[index]
        items.append({
            "linkId": item.id,
            "text": item.text(lang),
            "answer": [{
                "extension": [{"url": ORDINAL_VALUE, "valueDecimal": option.points}],
                "valueCoding": {"system": _system(instrument.id, item.id), "code": option.code,
                                "display": option.label(lang)},
            }],
        })
    items.append({"linkId": "total", "text": "Total", "answer": [{"valueInteger": total}]})
    response = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "questionnaire": (f"{CODE_SYSTEM_BASE.rsplit('/', 1)[0]}/Questionnaire/"
                          f"{_resource_id(instrument.id)}|{instrument.version}"),
        "status": "completed",
        "subject": subject,
        "authored": authored,
        "item": items,
    }
    ref = f"QuestionnaireResponse/{response_id}"
    resources: list[dict[str, Any]] = [response, _observation(
        f"total-{assessment_uuid}", instrument.loinc_total,
        f"{instrument.title(lang)}: total", total, subject, authored, ref)]
    for sub in instrument.subscores:
        if sub.id in subscores:
            resources.append(_observation(f"{sub.id.replace('_', '-')}-{assessment_uuid}",
                                          sub.loinc_total, sub.titles.get(lang),
                                          int(subscores[sub.id]), subject, authored, ref))
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": authored,
        "entry": [{"fullUrl": f"{CODE_SYSTEM_BASE.rsplit('/', 1)[0]}/{r['resourceType']}/{r['id']}",
                   "resource": r} for r in resources],
    }
