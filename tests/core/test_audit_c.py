"""AUDIT-C as an instrument of its own: it agrees with items 1-3 of the AUDIT on every
possible answer, the rule sets extend a positive AUDIT-C to the AUDIT only when the items are
identical, and the command line scores it as the issue asks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import product
from pathlib import Path

import pytest

from screening.core.catalogue import Catalogue, load_catalogue
from screening.core.engine import PatientFacts, evaluate
from screening.core.errors import InstrumentFileError

from .test_loader import copy_instruments, edit

ROOT = Path(__file__).resolve().parents[2]


def _audit_c_answers() -> list[dict[str, int]]:
    """Every valid AUDIT-C: item 1 "Never" asks nothing more; otherwise 5 x 5 answers."""
    answers: list[dict[str, int]] = [{"q1": 0}]
    for q1, q2, q3 in product(range(1, 5), range(5), range(5)):
        answers.append({"q1": q1, "q2": q2, "q3": q3})
    return answers


@pytest.mark.parametrize("rule_set", ["sondre-land", "who-2001"])
@pytest.mark.parametrize("sex", ["female", "male"])
def test_audit_c_agrees_with_the_audit_items_1_to_3(catalogue: Catalogue, rule_set: str,
                                                    sex: str) -> None:
    """Same total as the AUDIT's AUDIT-C subscore, positive exactly where the AUDIT's
    audit_c_positive flag fires (sondre-land) and at the same cut-offs (4 men, 3 women)."""
    facts = PatientFacts(sex, 50, "gp_practice")
    cut_off = 4 if sex == "male" else 3
    for answers in _audit_c_answers():
        short = evaluate(catalogue, "audit_c", answers, facts, rule_set)
        rest = {f"q{n}": 0 for n in range(4, 11)}
        if answers["q1"] == 0 or answers["q2"] + answers["q3"] == 0:
            rest = {"q9": 0, "q10": 0}
        full = evaluate(catalogue, "audit", {**answers, **rest}, facts, "sondre-land")
        assert short.total == full.subscores["audit_c"], answers
        assert short.positive == (short.total >= cut_off), answers
        assert short.positive == ("audit_c_positive" in {f.id for f in full.flags}), answers
        assert (short.extension is not None) == short.positive
        if short.extension is not None:
            assert short.extension.instrument_id == "audit"
        assert short.dependence is None


def test_audit_c_items_are_the_audit_items(catalogue: Catalogue) -> None:
    short, full = catalogue.instrument("audit_c"), catalogue.instrument("audit")
    for own, theirs in zip(short.items, full.items, strict=False):
        assert (own.id, own.number, own.texts, own.options, own.loinc, own.loinc_answer_list) == (
            theirs.id, theirs.number, theirs.texts, theirs.options, theirs.loinc,
            theirs.loinc_answer_list)
    assert (short.loinc_panel, short.loinc_total) == ("72109-2", "75626-2")
    assert full.subscore("audit_c").loinc_panel == short.loinc_panel
    assert full.subscore("audit_c").loinc_total == short.loinc_total
    assert short.item_text_version("nb") == full.item_text_version("nb")


def test_an_audit_c_that_differs_from_the_audit_cannot_be_extended(tmp_path: Path) -> None:
    """One option label changed in audit_c.toml: both rule sets refuse the extension,
    naming the item, and the catalogue does not load."""
    directory = copy_instruments(tmp_path)
    edit(directory, "audit_c.toml", '"Sjelden"', '"Av og til"')
    with pytest.raises(InstrumentFileError) as caught:
        load_catalogue(directory)
    expected = ("audit_c.extend.to: item q3 of audit_c is not the same as item 3 of audit "
                "(id, number, text and options must be identical to carry its answer over)")
    assert caught.value.errors == [f"rules/sondre-land.toml: {expected}",
                                   f"rules/who-2001.toml: {expected}"]


def test_without_extension_no_extend_to_key(catalogue: Catalogue) -> None:
    """DUDIT has no extension: its result says nothing about one."""
    dudit = evaluate(catalogue, "dudit", {f"q{n}": 0 for n in range(1, 12)},
                     PatientFacts("male", 40, "gp_practice"))
    assert dudit.extension is None and not dudit.extendable
    assert "extend_to" not in dudit.to_dict()


def test_issue_command_line() -> None:
    """``python -m screening score audit_c --answers 1,1,1 --sex female --age 70``: no setting
    needed; positive, with the extension to the full AUDIT and its reason."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    result = subprocess.run(
        [sys.executable, "-m", "screening", "score", "audit_c", "--answers", "1,1,1",
         "--sex", "female", "--age", "70", "--lang", "en"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, "")
    document = json.loads(result.stdout)
    assert list(document) == ["instrument", "instrument_version", "rule_set", "rule_set_version",
                              "total", "positive", "dependence", "extend_to", "flags", "pathways"]
    assert document["instrument"] == "audit_c" and document["total"] == 3
    assert document["positive"] is True and document["dependence"] is None
    assert document["extend_to"]["instrument"] == "audit"
    assert "extend to the full AUDIT" in document["extend_to"]["reason"]
    # no setting given: the screening service's pathway (home care or GP) is not decided
    assert document["pathways"] == []


def test_command_line_with_setting_and_negative(catalogue: Catalogue) -> None:
    import io

    from screening.core import cli

    out, err = io.StringIO(), io.StringIO()
    status = cli.main(["audit_c", "--answers", "1,1,1", "--sex", "male", "--age", "70",
                       "--setting", "home_care"], stdout=out, stderr=err, catalogue=catalogue)
    document = json.loads(out.getvalue())
    assert status == 0 and document["positive"] is False and document["extend_to"] is None
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(["audit_c", "--answers", "2,1,1", "--sex", "male", "--age", "70",
                       "--setting", "home_care"], stdout=out, stderr=err, catalogue=catalogue)
    document = json.loads(out.getvalue())
    assert status == 0 and [p["id"] for p in document["pathways"]] == ["elder_care"]
    # four answers to a three-item instrument: one line naming what was expected
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(["audit_c", "--answers", "1,1,1,1", "--sex", "male", "--age", "70",
                       "--lang", "en"],
                      stdout=out, stderr=err, catalogue=catalogue)
    assert status == 2 and out.getvalue() == ""
    assert "expected 3 answers (q1–q3), got 4" in err.getvalue()
