"""Clinical cases stored as data (tests/core/cases/*.toml), run through the engine and the CLI.

Each instrument file in instruments/ has a case file at the same relative path under cases/.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from screening.core import cli
from screening.core.catalogue import DEFAULT_DIRECTORY, Catalogue
from screening.core.conversation import check_conversation
from screening.core.engine import Evaluation, PatientFacts, evaluate
from screening.core.errors import IncompleteAnswers, InvalidAnswer, UnknownId

from .support import CASES_DIRECTORY, answers_from, answers_text, case_params, load_case_file

EVALUATION_KEYS = {
    "rule_set", "total", "audit_c", "zone", "level", "level_rules", "changed_by", "flags",
    "pathways", "follow_up_weeks", "follow_up_months", "points", "asked", "positive",
    "dependence", "reasons_en", "reason_counts", "extend_to",
}  # fmt: skip
ERROR_KEYS = {"error", "item", "code", "missing"}


def test_every_instrument_file_has_a_case_file() -> None:
    instrument_files = {
        path.relative_to(DEFAULT_DIRECTORY).as_posix() for path in DEFAULT_DIRECTORY.rglob("*.toml")
    }
    case_files = {
        path.relative_to(CASES_DIRECTORY).as_posix() for path in CASES_DIRECTORY.rglob("*.toml")
    }
    assert instrument_files, "no instrument files found"
    assert instrument_files - case_files == set(), "instrument files without a case file"
    assert case_files - instrument_files == set(), "case files without an instrument file"


def test_every_case_file_has_cases() -> None:
    for path in CASES_DIRECTORY.rglob("*.toml"):
        data = load_case_file(path)
        assert data["cases"], path
        ids = [case["id"] for case in data["cases"]]
        assert len(ids) == len(set(ids)), f"duplicate case ids in {path}"


def _facts(case: dict[str, Any]) -> PatientFacts:
    return PatientFacts(
        case["sex"], case["age"], case["setting"], frozenset(case.get("medication", ()))
    )


def _none(value: Any) -> Any:
    return None if value == "none" else value


def _check_evaluation(result: Evaluation, expect: dict[str, Any]) -> None:
    unknown = set(expect) - EVALUATION_KEYS
    assert not unknown, f"unknown expectation keys {unknown}"
    simple = {
        "rule_set": result.rule_set_id,
        "total": result.total,
        "zone": None if result.zone is None else result.zone.id,
        "level": result.level,
        "positive": result.positive,
        "dependence": result.dependence,
        "follow_up_weeks": result.follow_up_weeks,
        "follow_up_months": None if result.follow_up is None else result.follow_up.months,
        "extend_to": None if result.extension is None else result.extension.instrument_id,
    }
    for key, actual in simple.items():
        if key in expect:
            assert actual == _none(expect[key]), key
    if "follow_up_months" in expect:
        assert result.follow_up_weeks is None
    if "audit_c" in expect:
        assert result.subscores["audit_c"] == expect["audit_c"]
    if "level_rules" in expect:
        assert [step.rule for step in result.level_steps] == expect["level_rules"]
    if "changed_by" in expect:
        changed = [s.rule for s in result.level_steps if s.before is not None and s.changed]
        assert changed == expect["changed_by"]
    if "flags" in expect:
        assert [flag.id for flag in result.flags] == expect["flags"]
    if "pathways" in expect:
        assert [p.id for p in result.pathways] == expect["pathways"]
    if "points" in expect:
        for item_id, points in expect["points"].items():
            assert result.score.item_points(item_id) == points, item_id
    if "asked" in expect:
        assert result.score.asked == frozenset(expect["asked"])
    pathways = {p.id: p for p in result.pathways}
    for pathway, text in expect.get("reasons_en", {}).items():
        assert text in pathways[pathway].reason.en, pathway
    for pathway, count in expect.get("reason_counts", {}).items():
        assert len(pathways[pathway].reasons) == count, pathway


@pytest.mark.parametrize("case", case_params("evaluation"))
def test_evaluation_case(catalogue: Catalogue, case: dict[str, Any]) -> None:
    instrument = catalogue.instrument(case["instrument"])
    answers = answers_from(instrument, case["answers"])
    expect = case["expect"]
    call = lambda: evaluate(  # noqa: E731
        catalogue, instrument.id, answers, _facts(case), case.get("rule_set")
    )
    if "error" not in expect:
        _check_evaluation(call(), expect)
        return
    assert set(expect) <= ERROR_KEYS
    kinds = {"invalid": InvalidAnswer, "incomplete": IncompleteAnswers, "unknown_id": UnknownId}
    with pytest.raises(kinds[expect["error"]]) as caught:
        call()
    error = caught.value
    if "item" in expect:
        assert getattr(error, "item_id", None) == expect["item"]
    if "code" in expect:
        assert getattr(error, "code", None) == expect["code"]
    if "missing" in expect:
        assert isinstance(error, IncompleteAnswers)
        assert list(error.missing) == expect["missing"]
    if isinstance(error, (InvalidAnswer, IncompleteAnswers)):
        for lang in ("nb", "en"):
            text = error.message(lang)
            assert text and "\n" not in text
            if error.item_id:
                assert error.item_id in text


@pytest.mark.parametrize("case", case_params("evaluation"))
def test_evaluation_case_through_cli(catalogue: Catalogue, case: dict[str, Any]) -> None:
    """The same case on the command line: same JSON as Evaluation.to_dict, or exit 2."""
    argv = [
        case["instrument"],
        "--answers", answers_text(case["answers"]),
        "--sex", case["sex"],
        "--age", str(case["age"]),
        "--setting", case["setting"],
        "--rule-set", case["rule_set"],
        "--lang", "en",
    ]  # fmt: skip
    if case.get("medication"):
        argv += ["--medication", ",".join(case["medication"])]
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(argv, stdout=out, stderr=err, catalogue=catalogue)
    if "error" in case["expect"]:
        assert status == 2
        assert out.getvalue() == ""
        lines = err.getvalue().splitlines()
        assert len(lines) == 1
        if "item" in case["expect"]:
            assert case["expect"]["item"] in lines[0]
        return
    assert status == 0, err.getvalue()
    assert err.getvalue() == ""
    printed = json.loads(out.getvalue())
    instrument = catalogue.instrument(case["instrument"])
    expected = evaluate(
        catalogue,
        instrument.id,
        answers_from(instrument, case["answers"]),
        _facts(case),
        case["rule_set"],
    ).to_dict("en")
    assert printed == expected


@pytest.mark.parametrize("case", case_params("conversation"))
def test_conversation_case(catalogue: Catalogue, case: dict[str, Any]) -> None:
    conversation = catalogue.conversation(case["conversation"])
    expect = case["expect"]
    if "required_items" in expect:
        assert list(conversation.required_items(case["level"])) == expect["required_items"]
    if "problems" in expect:
        problems = check_conversation(conversation, case["record"], case["level"])
        assert [f"{p.item_id}:{p.code}" for p in problems] == expect["problems"]
        for problem in problems:
            assert problem.message("nb") and problem.message("en")
