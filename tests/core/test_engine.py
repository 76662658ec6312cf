"""The engine's public API: explanations, documents, look-ups, and the core's own boundaries."""

from __future__ import annotations

import ast
import dataclasses
import sys
from pathlib import Path

import pytest

from screening.core.catalogue import Catalogue
from screening.core.engine import Evaluation, PatientFacts, evaluate
from screening.core.errors import AnswerError, InvalidAnswer, UnknownId
from screening.core.instruments import Instrument
from screening.core.scoring import asked_items

CORE = Path(__file__).resolve().parents[2] / "screening" / "core"
ROW3 = dict(zip([f"q{i}" for i in range(1, 11)], [2, 1, 1, 1, 0, 0, 1, 1, 0, 0], strict=True))
OLDER_WOMAN = PatientFacts("female", 72, "home_care")


def test_level_is_explained(catalogue: Catalogue) -> None:
    result = evaluate(catalogue, "audit", ROW3, OLDER_WOMAN)
    steps = [(s.rule, s.before, s.after, s.changed) for s in result.level_steps]
    assert steps == [("Z", None, 1, True), ("W7", 1, 2, True), ("O65", 2, 2, False)]
    for step in result.level_steps:
        assert step.reason.nb and step.reason.en and step.reason.nb != step.reason.en
    assert result.level_name is not None and result.level_name.get("nb") == "Enkle råd"
    assert result.level_name.get("en") == "Simple advice"
    assert result.follow_up is not None and result.follow_up.weeks == 8
    assert result.rule_set_id == "sondre-land" and result.rule_set_version == 2
    assert result.instrument_version == 1
    assert result.answers == {**ROW3}


def test_level_1_rescreen_after_12_months(catalogue: Catalogue) -> None:
    answers = {"q1": 0, "q9": 0, "q10": 0}
    result = evaluate(catalogue, "audit", answers, PatientFacts("male", 40, "gp_practice"))
    assert result.level == 1 and result.follow_up is not None
    assert (result.follow_up.weeks, result.follow_up.months) == (None, 12)
    assert result.to_dict()["follow_up_weeks"] is None
    assert result.answers["q2"] is None  # not asked


def test_documents_in_both_languages(catalogue: Catalogue) -> None:
    result = evaluate(catalogue, "audit", ROW3, OLDER_WOMAN)
    nb, en = result.to_dict("nb"), result.to_dict("en")
    assert {k: v for k, v in nb.items() if k not in ("flags", "pathways")} == {
        k: v for k, v in en.items() if k not in ("flags", "pathways")
    }
    assert [f["id"] for f in nb["flags"]] == [f["id"] for f in en["flags"]]
    assert nb["flags"][0]["reason"] != en["flags"][0]["reason"]
    with pytest.raises(UnknownId):
        result.to_dict("de")


def test_pathway_with_two_reasons(catalogue: Catalogue) -> None:
    answers = dict(zip(ROW3, [3, 1, 1, 1, 0, 3, 1, 0, 0, 0], strict=True))
    facts = PatientFacts("male", 70, "gp_practice", frozenset({"fall"}))
    result = evaluate(catalogue, "audit", answers, facts)
    gp = result.pathways[0]
    assert gp.id == "gp" and len(gp.reasons) == 2
    assert gp.reason.en == "; ".join(r.en for r in gp.reasons)
    assert result.to_dict("en")["pathways"][0]["reason"] == gp.reason.en


def test_results_are_frozen(catalogue: Catalogue) -> None:
    result = evaluate(catalogue, "audit", ROW3, OLDER_WOMAN)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.level = 4  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalogue.instrument("audit").items[0].options[0].points = 3  # type: ignore[misc]


def test_unknown_ids(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownId):
        evaluate(catalogue, "gad7", {}, OLDER_WOMAN)
    with pytest.raises(UnknownId):
        evaluate(catalogue, "audit", ROW3, OLDER_WOMAN, "oslo")
    with pytest.raises(UnknownId) as caught:
        evaluate(catalogue, "medication_falls", {}, OLDER_WOMAN)
    assert "no rules for instrument 'medication_falls'" in str(caught.value)


def test_medication_as_any_collection(catalogue: Catalogue) -> None:
    for medication in (["fall"], ("fall",), {"fall"}, frozenset({"fall"})):
        facts = PatientFacts("female", 72, "home_care", medication)  # type: ignore[arg-type]
        assert evaluate(catalogue, "audit", ROW3, facts).facts.medication == {"fall"}
    with pytest.raises(InvalidAnswer) as caught:
        evaluate(catalogue, "audit", ROW3, PatientFacts("female", 72, "home_care", "fall"))  # type: ignore[arg-type]
    assert caught.value.code == "bad_medication" and caught.value.item_id == "medication"


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (PatientFacts("f", 72, "home_care"), "bad_sex"),
        (PatientFacts("female", 131, "home_care"), "bad_age"),
        (PatientFacts("female", -1, "home_care"), "bad_age"),
        (PatientFacts("female", True, "home_care"), "bad_age"),
        (PatientFacts("female", 72.0, "home_care"), "bad_age"),  # type: ignore[arg-type]
        (PatientFacts("female", 72, "hospital"), "bad_setting"),
        (PatientFacts("female", 72, "home_care", frozenset({"aspirin"})), "unknown_medication"),
        ("female, 72", "bad_facts"),
    ],
)
def test_bad_facts(catalogue: Catalogue, facts: object, code: str) -> None:
    with pytest.raises(AnswerError) as caught:
        evaluate(catalogue, "audit", ROW3, facts)  # type: ignore[arg-type]
    assert caught.value.code == code
    assert "\n" not in caught.value.message("nb") and "\n" not in caught.value.message("en")


def test_age_limits_are_accepted(catalogue: Catalogue) -> None:
    for age in (0, 130):
        evaluate(catalogue, "audit", ROW3, PatientFacts("male", age, "gp_practice"))


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, "all"),
        ({"q1": 0}, {"q1", "q9", "q10"}),
        ({"q1": "0"}, "all"),
        ({"q1": False}, "all"),
        ({"q1": 2, "q2": 0}, "all"),
        ({"q1": 2, "q2": 0, "q3": 0}, {"q1", "q2", "q3", "q9", "q10"}),
        ({"q1": 2, "q2": 0, "q3": 7}, "all"),
        ({"q1": 0, "q2": 3}, {"q1", "q9", "q10"}),
        ([0, 1], "all"),
    ],
)
def test_asked_items_while_filling_in(audit: Instrument, answers: object, expected: object) -> None:
    asked = asked_items(audit, answers)  # type: ignore[arg-type]
    assert asked == (set(audit.item_ids) if expected == "all" else expected)


def test_evaluation_type_is_exported() -> None:
    import screening.core as core

    assert core.Evaluation is Evaluation and core.evaluate is evaluate
    assert set(core.__all__) >= {"load_catalogue", "evaluate", "PatientFacts", "asked_items"}


# --------------------------------------------------------------------------- core boundaries


def _modules() -> list[Path]:
    return sorted(CORE.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_core_imports_only_the_standard_library(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top == "__future__" or top in sys.stdlib_module_names, f"{path.name}: {name}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_core_modules_stay_small(path: Path) -> None:
    assert len(path.read_text("utf-8").splitlines()) <= 400
