"""The assessment export (QuestionnaireResponse + Observations) and the CodeSystems, validated
with the fhir.resources R4B models and checked against the Questionnaire for every valid
answer vector of every case file of the AUDIT and the DUDIT."""

from __future__ import annotations

import collections
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.codesystem import CodeSystem
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from screening.core.catalogue import Catalogue
from screening.core.errors import AnswerError
from screening.core.fhir import assessment_bundle, code_systems, questionnaire
from screening.core.fhir.terms import LOINC, OBSERVATION_SYSTEM
from screening.core.instruments import Instrument
from screening.core.scoring import score

from .fhir_checks import bundle_problems, empty_values, response_problems
from .support import answers_from, case_files, load_case_file, shared_catalogue

UUID = "5f0c2a9e-8d7b-4c1a-9e3f-2b6d4a8c0e1f"
AUTHORED = "2025-03-14T09:26:53+00:00"
FNR = "01017012345"  # a synthetic number: the export does not check it


def _vectors() -> list[Any]:
    """(instrument, answers) for every case vector that scores, deduplicated, by case id."""
    catalogue = shared_catalogue()
    seen: set[tuple[str, tuple[Any, ...]]] = set()
    params = []
    for path in case_files():
        data = load_case_file(path)
        if data.get("kind", "evaluation") != "evaluation":
            continue
        for case in data["cases"]:
            merged = {**data.get("defaults", {}), **case}
            name = merged.get("instrument")
            if name not in catalogue.instruments or "answers" not in merged:
                continue
            key = (name, tuple(merged["answers"]))
            if key in seen:
                continue
            instrument = catalogue.instrument(name)
            answers = answers_from(instrument, merged["answers"])
            try:
                score(instrument, answers)
            except AnswerError:
                continue  # a rejected vector is never stored, so never exported
            seen.add(key)
            params.append(pytest.param(name, answers, id=f"{path.stem}:{case['id']}"))
    return params


VECTORS = _vectors()
COUNTS: collections.Counter[str] = collections.Counter()


def _bundle(instrument: Instrument, answers: dict[str, Any], lang: str = "nb",
            voided: bool = False) -> dict[str, Any]:
    total = score(instrument, answers).total
    return assessment_bundle(instrument, UUID, answers, total, AUTHORED, fnr=FNR,
                             name="Synnøve Testdatter", lang=lang, voided=voided)


def _resources(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_every_audit_and_dudit_case_file_contributes() -> None:
    names = {p.values[0] for p in VECTORS}
    assert {"audit", "dudit"} <= names and len(VECTORS) >= 40


@pytest.mark.parametrize("lang", ["nb", "en"])
@pytest.mark.parametrize(("name", "answers"), VECTORS)
def test_export_is_valid_and_consistent(catalogue: Catalogue, name: str,
                                        answers: dict[str, Any], lang: str) -> None:
    instrument = catalogue.instrument(name)
    bundle = _bundle(instrument, answers, lang)
    Bundle.model_validate(bundle)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        model = {"QuestionnaireResponse": QuestionnaireResponse,
                 "Observation": Observation}[resource["resourceType"]]
        model.model_validate(resource)
        COUNTS[resource["resourceType"]] += 1
    assert empty_values(bundle) == []
    assert bundle_problems(bundle) == []
    (response,) = _resources(bundle, "QuestionnaireResponse")
    assert response_problems(response, questionnaire(instrument, lang)) == []


@pytest.mark.parametrize(("name", "answers"), VECTORS)
def test_observations_carry_the_scores(catalogue: Catalogue, name: str,
                                       answers: dict[str, Any]) -> None:
    instrument = catalogue.instrument(name)
    result = score(instrument, answers)
    bundle = _bundle(instrument, answers)
    observations = {o["id"].removesuffix(f"-{UUID}"): o for o in _resources(bundle, "Observation")}
    total = observations["total"]["valueQuantity"]
    assert total == {"value": result.total, "unit": "{score}",
                     "system": "http://unitsofmeasure.org", "code": "{score}"}
    answered = {i for i, v in answers.items() if v is not None} & result.asked
    items = {k for k, o in observations.items() if "valueCodeableConcept" in o}
    assert items == answered
    panel = observations["panel"]
    members = {m["reference"].removeprefix("Observation/").removesuffix(f"-{UUID}")
               for m in panel["hasMember"]}
    assert "total" in members and "valueQuantity" not in panel
    for sub in instrument.subscores:
        value = observations[sub.id.replace("_", "-")]["valueQuantity"]["value"]
        assert value == result.subscores[sub.id]


def test_audit_panel_total_and_audit_c(catalogue: Catalogue) -> None:
    """The AUDIT panel 72110-0 has the AUDIT-C panel 72109-2 as member; that panel has items
    1-3 and the AUDIT-C total 75626-2; the AUDIT total is 75624-7, LOINC's own displays."""
    audit = catalogue.instrument("audit")
    answers = dict(zip(audit.item_ids, [3, 1, 1, 1, 0, 3, 1, 0, 0, 0], strict=True))
    bundle = _bundle(audit, answers, "en")
    by_id = {o["id"].removesuffix(f"-{UUID}"): o for o in _resources(bundle, "Observation")}

    def code(name: str) -> dict[str, Any]:
        return by_id[name]["code"]["coding"][0]

    assert code("panel") == {"system": LOINC, "code": "72110-0",
                             "display": "Alcohol Use Disorder Identification Test [AUDIT]"}
    assert code("total") == {"system": LOINC, "code": "75624-7",
                             "display": "Total score [AUDIT]"}
    assert by_id["total"]["valueQuantity"]["value"] == 10
    assert code("audit-c-panel")["code"] == "72109-2"
    assert code("audit-c-panel")["display"] == (
        "Alcohol Use Disorder Identification Test - Consumption [AUDIT-C]")
    assert code("audit-c") == {"system": LOINC, "code": "75626-2",
                               "display": "Total score [AUDIT-C]"}
    assert by_id["audit-c"]["valueQuantity"]["value"] == 5  # 3 + 1 + 1
    sub_members = [m["reference"] for m in by_id["audit-c-panel"]["hasMember"]]
    assert sub_members == [f"Observation/{n}-{UUID}" for n in ("q1", "q2", "q3", "audit-c")]
    main_members = [m["reference"] for m in by_id["panel"]["hasMember"]]
    assert f"Observation/audit-c-panel-{UUID}" in main_members
    assert f"Observation/q1-{UUID}" not in main_members  # through the AUDIT-C panel
    q1 = by_id["q1"]["valueCodeableConcept"]
    assert q1["coding"][0] == {"system": LOINC, "code": "LA18928-4", "display": "2-3 times a week"}
    assert q1["text"] == "2 to 3 times a week"
    (response,) = _resources(bundle, "QuestionnaireResponse")
    assert all("extension" not in a for item in response["item"] for a in item["answer"])


def test_audit_c_export_works_from_its_own_codes(catalogue: Catalogue) -> None:
    """An instrument of its own with panel 72109-2 and total 75626-2 (as instruments/
    audit_c.toml will have) exports that panel with items 1-3 and that total."""
    from dataclasses import replace

    audit = catalogue.instrument("audit")
    audit_c = Instrument(
        id="audit_c", version=1, kind="questionnaire", titles=audit.titles,
        attribution=audit.attribution, languages=audit.languages, items=audit.items[:3],
        loinc_panel="72109-2", loinc_total="75626-2",
    )
    audit_c = replace(audit_c)  # derived tables built again
    bundle = assessment_bundle(audit_c, UUID, {"q1": 1, "q2": 1, "q3": 1}, 3, AUTHORED,
                               fnr=FNR, name="")
    Bundle.model_validate(bundle)
    assert empty_values(bundle) == [] and bundle_problems(bundle) == []
    by_id = {o["id"].removesuffix(f"-{UUID}"): o for o in _resources(bundle, "Observation")}
    assert by_id["panel"]["code"]["coding"][0]["code"] == "72109-2"
    assert by_id["total"]["code"]["coding"][0]["code"] == "75626-2"
    assert by_id["total"]["valueQuantity"]["value"] == 3
    assert [m["reference"] for m in by_id["panel"]["hasMember"]] == [
        f"Observation/{n}-{UUID}" for n in ("q1", "q2", "q3", "total")]
    (response,) = _resources(bundle, "QuestionnaireResponse")
    assert response_problems(response, questionnaire(audit_c)) == []


def test_dudit_uses_our_observation_codes_never_an_empty_coding(catalogue: Catalogue) -> None:
    dudit = catalogue.instrument("dudit")
    bundle = _bundle(dudit, {i: 1 for i in dudit.item_ids})
    observations = _resources(bundle, "Observation")
    codes = {o["code"]["coding"][0]["code"] for o in observations}
    assert {"dudit", "dudit.total", "dudit.q1"} <= codes
    assert all(o["code"]["coding"][0]["system"] == OBSERVATION_SYSTEM for o in observations)
    defined = {c["code"] for cs in code_systems([dudit]) if cs["url"] == OBSERVATION_SYSTEM
               for c in cs["concept"]}
    assert codes <= defined


@pytest.mark.parametrize("name", ["audit", "dudit"])
def test_voided_assessment_is_entered_in_error(catalogue: Catalogue, name: str) -> None:
    instrument = catalogue.instrument(name)
    answers = {i: 0 for i in instrument.item_ids}
    bundle = _bundle(instrument, answers, voided=True)
    Bundle.model_validate(bundle)
    statuses = {e["resource"]["status"] for e in bundle["entry"]}
    assert statuses == {"entered-in-error"}
    assert {e["resource"]["status"] for e in _bundle(instrument, answers)["entry"]} == {
        "completed", "final"}


def test_code_systems_are_valid_and_cover_every_own_code(catalogue: Catalogue) -> None:
    systems = code_systems(catalogue.instruments.values(), catalogue.conversations.values())
    by_url = {}
    for system in systems:
        CodeSystem.model_validate(system)
        assert empty_values(system) == []
        assert system["count"] == len(system["concept"])
        assert len({c["code"] for c in system["concept"]}) == len(system["concept"])
        assert system["url"] not in by_url
        by_url[system["url"]] = {c["code"]: c["display"] for c in system["concept"]}
    COUNTS["CodeSystem"] += len(systems)
    # every non-LOINC coding in every Questionnaire is defined, with the same display (nb)
    definitions = [*catalogue.instruments.values(), *catalogue.conversations.values()]
    for definition in definitions:
        resource = questionnaire(definition, "nb")
        for coding in _codings(resource):
            if coding["system"] in (LOINC, "http://unitsofmeasure.org"):
                continue
            assert coding["code"] in by_url[coding["system"]], coding
            assert by_url[coding["system"]][coding["code"]] == coding["display"], coding


def _codings(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value] if {"system", "code"} <= value.keys() else []
        return found + [c for v in value.values() for c in _codings(v)]
    if isinstance(value, list):
        return [c for v in value for c in _codings(v)]
    return []


def test_report_counts() -> None:
    """Runs last in this module: prints how many resources of each type were validated."""
    print("\nFHIR resources validated in this module:", dict(COUNTS))
