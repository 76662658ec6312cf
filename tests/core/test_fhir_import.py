"""FHIR in (issue 17, point 8): public Questionnaires that nobody here wrote, read into
instrument files that the catalogue loads, or refused with the exact reasons.  The artefacts
and their sources are in tests/core/cases/fhir/README.md."""

from __future__ import annotations

import copy
import itertools
import json
import shutil
import tomllib
from pathlib import Path
from typing import Any

import pytest

from screening.core.catalogue import DEFAULT_DIRECTORY, check_directory
from screening.core.errors import AnswerError
from screening.core.fhir import questionnaire
from screening.core.fhir.importer import ImportRefused, import_questionnaire
from screening.core.fhir.toml_out import dumps
from screening.core.instruments import Instrument, parse_instrument
from screening.core.reader import Problems
from screening.core.scoring import asked_items, score

from .support import CASES_DIRECTORY, answers_from, load_case_file, shared_catalogue

FHIR = CASES_DIRECTORY / "fhir"
ASBI = "cdc-mitre-asbi-questionnaire-whoaudit.json"
US_CORE = "us-core-questionnaire-audit-c.json"
HELSENORGE = "helsenorge-refero-scoring-choice-radio-button.json"
ASBI_UNSCORED = ("prescreen-question", "pregnancy-question")


def _artefact(name: str) -> dict[str, Any]:
    return json.loads((FHIR / name).read_text("utf-8"))


def _instrument(data: dict[str, Any]) -> Instrument:
    """The mapping written as TOML, read back and parsed as the catalogue does."""
    text = dumps(data, ["a comment line"])
    problems = Problems("imported.toml")
    instrument = parse_instrument(tomllib.loads(text), problems)
    assert instrument is not None, problems.errors
    return instrument


def _asbi() -> Instrument:
    return _instrument(import_questionnaire(_artefact(ASBI), leave_out=ASBI_UNSCORED).instrument)


def test_every_artefact_has_a_source_in_the_readme() -> None:
    readme = (FHIR / "README.md").read_text("utf-8")
    for path in FHIR.glob("*.json"):
        assert path.name in readme
    assert "Licence" in readme or "licence" in readme


def test_asbi_without_weights_on_two_questions_is_refused_never_scored_0() -> None:
    with pytest.raises(ImportRefused) as refused:
        import_questionnaire(_artefact(ASBI))
    assert len(refused.value.reasons) == 2
    for link, reason in zip(ASBI_UNSCORED, refused.value.reasons, strict=True):
        assert f"'{link}'" in reason and "no answer weights" in reason
        assert "not scored as 0" in reason


def test_asbi_imports_the_who_audit_weights_and_its_item_1_skip() -> None:
    imported = import_questionnaire(_artefact(ASBI), leave_out=ASBI_UNSCORED)
    audit = _instrument(imported.instrument)
    assert len(audit.items) == 10
    assert [item.max_points for item in audit.items] == [4] * 8 + [4, 4]
    assert [o.points for o in audit.items[8].options] == [0, 2, 4]
    (rule,) = audit.skip_rules
    assert rule.if_zero == ("audit_question_one",)
    assert rule.skip == ("audit_question_two", "audit_question_three")
    notes = "\n".join(imported.notes)
    # the skips of items 4-10 hang on CQL expressions: reported, not guessed
    for word in ("four", "five", "six", "seven", "eight", "nine", "ten"):
        assert f"'audit-question-{word}' is not carried over" in notes
    assert "'usauditc-score' not imported" in notes and "text/cql ScoreAuditC" in notes
    assert audit.max_total == 40


def _audit_vectors() -> list[Any]:
    data = load_case_file(CASES_DIRECTORY / "audit.toml")
    ours = shared_catalogue().instrument("audit")
    params = []
    for case in data["cases"]:
        answers = answers_from(ours, case["answers"])
        try:
            score(ours, answers)
        except AnswerError:
            continue
        params.append(pytest.param(case["answers"], id=case["id"]))
    return params


ASBI_AUDIT = _asbi()


@pytest.mark.parametrize("vector", _audit_vectors())
def test_imported_audit_scores_every_case_of_our_audit_the_same(vector: list[Any]) -> None:
    """Same totals; an item our AUDIT skips counts 0 there, and is answered with its 0-point
    first option where the imported file (whose CQL skips were not carried) still asks it."""
    ours = shared_catalogue().instrument("audit")
    answers = answers_from(ours, vector)
    expected = score(ours, answers)
    theirs: dict[str, int] = {}
    for mine, other in zip(ours.items, ASBI_AUDIT.items, strict=True):
        theirs[other.id] = answers[mine.id] if mine.id in answers else 0
    asked_there = asked_items(ASBI_AUDIT, theirs)
    positions = {item.id: i for i, item in enumerate(ASBI_AUDIT.items)}
    assert {ours.items[positions[i]].id for i in asked_there} >= expected.asked
    result = score(ASBI_AUDIT, {k: v for k, v in theirs.items() if k in asked_there})
    assert result.total == expected.total
    assert result.points == expected.points


def test_imported_file_passes_check_instruments(tmp_path: Path) -> None:
    directory = tmp_path / "instruments"
    shutil.copytree(DEFAULT_DIRECTORY, directory)
    imported = import_questionnaire(_artefact(ASBI), leave_out=ASBI_UNSCORED,
                                    instrument_id="who_audit_asbi")
    (directory / "who_audit_asbi.toml").write_text(dumps(imported.instrument), "utf-8")
    verdict = dict(check_directory(directory))
    assert verdict["who_audit_asbi.toml"] == []
    assert all(errors == [] for errors in verdict.values())


def test_us_core_audit_c_is_refused_its_item_1_has_no_weights() -> None:
    with pytest.raises(ImportRefused) as refused:
        import_questionnaire(_artefact(US_CORE))
    (reason,) = refused.value.reasons
    assert "'/68517-2' is a decimal question" in reason


def test_us_core_audit_c_with_item_1_left_out_has_two_items_and_the_total() -> None:
    imported = import_questionnaire(_artefact(US_CORE), leave_out=["/68517-2"])
    instrument = _instrument(imported.instrument)
    assert [item.loinc for item in instrument.items] == ["68519-8", "68520-6"]
    assert instrument.loinc_panel == "72109-2" and instrument.loinc_total == "75626-2"
    assert [o.code for o in instrument.items[0].options][:2] == ["LA15694-5", "LA15695-2"]
    assert instrument.max_total == 8  # not an AUDIT-C: item 1 is another question there


def test_helsenorge_scoring_fixture_imports_with_its_total() -> None:
    imported = import_questionnaire(_artefact(HELSENORGE), lang="nb")
    instrument = _instrument(imported.instrument)
    (item,) = instrument.items
    assert [o.points for o in item.options] == [0, 1, 2, 3]
    assert item.text("nb").startswith("Vansker med å sovne")
    assert instrument.translation_status("nb") == "published"
    assert instrument.translation_status("en") == "working"
    assert any("'3.1' is the total" in note for note in imported.notes)


@pytest.mark.parametrize("name", ["audit", "dudit"])
def test_our_own_export_reads_back_with_the_same_scoring(name: str) -> None:
    ours = shared_catalogue().instrument(name)
    imported = _instrument(import_questionnaire(questionnaire(ours, "en")).instrument)
    assert [i.id for i in imported.items] == list(ours.item_ids)
    assert [tuple(o.points for o in i.options) for i in imported.items] == [
        tuple(o.points for o in i.options) for i in ours.items]
    assert imported.loinc_panel == ours.loinc_panel
    assert [i.loinc for i in imported.items] == [i.loinc for i in ours.items]
    deciding = [i.id for i in ours.items if any(i.id in r.if_zero for r in ours.skip_rules)]
    for combo in itertools.product(*(range(len(ours.item(i).options)) for i in deciding)):
        answers = {i: 0 for i in ours.item_ids} | dict(zip(deciding, combo, strict=True))
        assert asked_items(imported, answers) == asked_items(ours, answers), combo


def _question(*options: dict[str, Any], **item: Any) -> dict[str, Any]:
    return {"resourceType": "Questionnaire", "status": "draft", "name": "probe",
            "item": [{"linkId": "a", "type": "choice", "text": "A?",
                      "answerOption": list(options), **item}]}


def _option(code: str, weight: Any = None) -> dict[str, Any]:
    option: dict[str, Any] = {"valueCoding": {"system": "urn:x", "code": code, "display": code}}
    if weight is not None:
        option["extension"] = [{"url": "http://hl7.org/fhir/StructureDefinition/itemWeight",
                                "valueDecimal": weight}]
    return option


REFUSALS = {
    "not-a-questionnaire": ({"resourceType": "Patient"}, "not a FHIR Questionnaire"),
    "no-weights": (_question(_option("x"), _option("y")), "no answer weights"),
    "some-weights": (_question(_option("x", 0), _option("y")), "the options y have no weight"),
    "fraction": (_question(_option("x", 0), _option("y", 0.5)), "whole numbers"),
    "negative": (_question(_option("x", -1), _option("y", 1)), "whole numbers"),
    "repeats": (_question(_option("x", 0), _option("y", 1), repeats=True), "several answers"),
    "external-value-set": (
        {"resourceType": "Questionnaire", "status": "draft", "item": [
            {"linkId": "a", "type": "choice", "answerValueSet": "http://x/ValueSet/y"}]},
        "not contained"),
    "unknown-leave-out": (_question(_option("x", 0)), "no such linkId"),
}


@pytest.mark.parametrize(("resource", "reason"), REFUSALS.values(), ids=REFUSALS.keys())
def test_refusals_say_why(resource: dict[str, Any], reason: str) -> None:
    leave_out = ["nope"] if "linkId" in reason else []
    with pytest.raises(ImportRefused) as refused:
        import_questionnaire(resource, leave_out=leave_out)
    assert any(reason in r for r in refused.value.reasons), refused.value.reasons


def test_contained_value_set_weights_and_an_lhc_style_total() -> None:
    """Weights in a contained ValueSet; a calculatedExpression naming the items it adds."""
    resource = {
        "resourceType": "Questionnaire", "status": "draft", "name": "probe",
        "contained": [{"resourceType": "ValueSet", "id": "vs", "status": "active",
                       "compose": {"include": [{"system": "urn:x", "concept": [
                           {"code": "n", "display": "No", "extension": [
                               {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue",
                                "valueDecimal": 0}]},
                           {"code": "y", "display": "Yes", "extension": [
                               {"url": "http://hl7.org/fhir/StructureDefinition/ordinalValue",
                                "valueDecimal": 3}]}]}]}}],
        "item": [
            {"linkId": "a", "type": "choice", "text": "A?", "answerValueSet": "#vs"},
            {"linkId": "b", "type": "choice", "text": "B?", "answerValueSet": "#vs"},
            {"linkId": "t", "type": "integer", "readOnly": True, "text": "Sum",
             "code": [{"system": "http://loinc.org", "code": "75626-2"}],
             "extension": [{
                 "url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
                        "sdc-questionnaire-calculatedExpression",
                 "valueExpression": {"language": "text/fhirpath", "expression":
                     "%resource.item.where(linkId='a').answer.value.weight() + "
                     "%resource.item.where(linkId='b').answer.value.weight()"}}]},
            {"linkId": "s", "type": "integer", "readOnly": True, "text": "A only",
             "extension": [{
                 "url": "http://hl7.org/fhir/uv/sdc/StructureDefinition/"
                        "sdc-questionnaire-calculatedExpression",
                 "valueExpression": {"language": "text/fhirpath", "expression":
                     "%resource.item.where(linkId='a').answer.value.weight()"}}]},
        ]}
    imported = import_questionnaire(copy.deepcopy(resource))
    instrument = _instrument(imported.instrument)
    assert [o.points for o in instrument.items[0].options] == [0, 3]
    assert instrument.loinc_total == "75626-2"
    (sub,) = instrument.subscores
    assert sub.items == ("a",)


def test_toml_writer_round_trips_every_instrument_file() -> None:
    for path in sorted(DEFAULT_DIRECTORY.glob("*.toml")):
        data = tomllib.loads(path.read_text("utf-8"))
        assert tomllib.loads(dumps(data, ["x"])) == data, path.name


def _mutations(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [path] + [p for k, v in value.items() for p in _mutations(v, (*path, k))]
    if isinstance(value, list):
        return [path] + [p for i, v in enumerate(value) for p in _mutations(v, (*path, i))]
    return [path]


@pytest.mark.parametrize("name", [ASBI, US_CORE, HELSENORGE])
def test_malformed_questionnaires_are_refused_never_a_traceback(name: str) -> None:
    """Every element of each artefact replaced in turn by a value of another JSON type: the
    importer imports it or refuses it with reasons, and raises nothing else."""
    original = _artefact(name)
    for path in _mutations(original)[1:]:
        for replacement in (None, "x", 7, [], {}):
            resource = copy.deepcopy(original)
            parent = resource
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = replacement
            try:
                import_questionnaire(resource, leave_out=ASBI_UNSCORED if name == ASBI else ())
            except ImportRefused as refused:
                assert refused.reasons and all(refused.reasons)
