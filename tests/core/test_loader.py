"""The loader checks every file completely; each error names the file, the key and the problem.

Each case edits one line of a copy of instruments/ and expects one precise error.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from screening.core.catalogue import DEFAULT_DIRECTORY, check_directory, load_catalogue
from screening.core.errors import InstrumentFileError, UnknownId, UnknownRule
from screening.core.levels import LEVEL_RULES

ERROR_FORMAT = re.compile(r"^(\(catalogue\)|[\w./-]+\.toml): [^ ]+: \S.*$")


def copy_instruments(tmp_path: Path) -> Path:
    target = tmp_path / "instruments"
    shutil.copytree(DEFAULT_DIRECTORY, target)
    return target


def edit(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text("utf-8")
    assert text.count(old) >= 1, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), "utf-8")


def errors_after(tmp_path: Path, name: str, old: str, new: str) -> list[str]:
    directory = copy_instruments(tmp_path)
    edit(directory, name, old, new)
    with pytest.raises(InstrumentFileError) as caught:
        load_catalogue(directory)
    errors = caught.value.errors
    assert str(caught.value) == "\n".join(errors)
    for error in errors:
        assert ERROR_FORMAT.match(error), error
    return errors


BROKEN = [
    # (case id, file, old text, new text, expected error after "file: ")
    (
        "unknown-key-top",
        "audit.toml",
        'kind = "questionnaire"',
        'kind = "questionnaire"\ncolour = "red"',
        "colour: unknown key",
    ),
    (
        "unknown-key-item",
        "audit.toml",
        'id = "q1"\n',
        'id = "q1"\nweight = 2\n',
        "items[0].weight: unknown key",
    ),
    (
        "unknown-key-rule-entry",
        "rules/sondre-land.toml",
        'rule = "Z"\n',
        'rule = "Z"\nnote = "x"\n',
        "audit.levels[0].note: unknown key",
    ),
    (
        "code-not-string",
        "audit.toml",
        'codes = ["never", "monthly_or_less"',
        'codes = [0, "monthly_or_less"',
        "scales.frequency.codes[0]: must be a string, not an integer (0)",
    ),
    (
        "loinc-not-string",
        "audit.toml",
        'loinc = "68518-0"',
        "loinc = 68518",
        "items[0].loinc: must be a string, not an integer (68518)",
    ),
    (
        "loinc-check-digit",
        "audit.toml",
        'loinc = "68518-0"',
        'loinc = "68518-1"',
        "items[0].loinc: '68518-1' has a wrong LOINC check digit",
    ),
    (
        "zone-gap",
        "audit.toml",
        "min = 8\n",
        "min = 9\n",
        "zones[1].min: gap: totals 8..8 have no zone",
    ),
    (
        "zone-overlap",
        "audit.toml",
        "min = 16\n",
        "min = 15\n",
        "zones[2].min: overlap: total 15 is already in zone 2",
    ),
    (
        "zones-short-of-max",
        "audit.toml",
        "max = 40\n",
        "max = 39\n",
        "zones[3].max: zones end at 39 but the highest possible total is 40",
    ),
    (
        "zone-min-above-max",
        "audit.toml",
        "max = 7\n",
        "max = 6\nx = 1\n",
        "zones[0].x: unknown key",
    ),
    (
        "points-count",
        "audit.toml",
        "points = [0, 2, 4]",
        "points = [0, 2]",
        "scales.injury.points: has 2 entries but there are 3 options",
    ),
    (
        "labels-count",
        "dudit.toml",
        'en = ["0", "1–2", "3–4", "5–6", "7 or more"]',
        'en = ["0", "1–2"]',
        "scales.times.labels.en: has 2 labels but there are 5 options",
    ),
    (
        "unknown-scale",
        "dudit.toml",
        'scale = "times"',
        'scale = "tiems"',
        "items[2].scale: unknown scale 'tiems'",
    ),
    (
        "duplicate-item-id",
        "dudit.toml",
        'id = "q2"',
        'id = "q1"',
        "items[1].id: duplicate item id 'q1'",
    ),
    (
        "item-number-order",
        "dudit.toml",
        "number = 3\n",
        "number = 4\n",
        "items[2].number: is 4 but this is item 3 in order",
    ),
    (
        "skip-unknown-item",
        "audit.toml",
        'if_zero = ["q1"]',
        'if_zero = ["q0"]',
        "skip_rules[0].if_zero[0]: unknown item 'q0'",
    ),
    (
        "skip-backwards",
        "audit.toml",
        'if_zero = ["q2", "q3"]',
        'if_zero = ["q2", "q9"]',
        "skip_rules[1].skip: skipped items must come after the items that decide it",
    ),
    (
        "subscore-unknown-item",
        "audit.toml",
        'items = ["q1", "q2", "q3"]',
        'items = ["q1", "q2", "q30"]',
        "subscores[0].items: unknown items q30",
    ),
    (
        "missing-text-language",
        "medication_falls.toml",
        'text = { nb = "Har pasienten nedstemthet?", en = "Does the patient have low mood?" }',
        'text = { nb = "Har pasienten nedstemthet?" }',
        "items[5].text.en: missing",
    ),
    (
        "translation-status",
        "dudit.toml",
        'status = "working"\nsource',
        'status = "draft"\nsource',
        "languages.nb.status: 'draft' is not one of published, working",
    ),
    (
        "toml-syntax",
        "dudit.toml",
        "version = 1",
        "version = = 1",
        "(syntax): not valid TOML",
    ),
    (
        "unknown-rule",
        "rules/sondre-land.toml",
        'rule = "W7"',
        'rule = "W8"',
        "audit.levels[1].rule: unknown level rule 'W8' (known: E1, O65, W7, Z)",
    ),
    (
        "unknown-flag-rule",
        "rules/sondre-land.toml",
        'rule = "items_sum_at_least"',
        'rule = "sum"',
        "audit.flags[2].rule: unknown flag rule 'sum'",
    ),
    (
        "foreign-parameter",
        "rules/sondre-land.toml",
        "params = { total = 7, min_level = 2 }",
        "params = { total = 7, min_level = 2, age = 65 }",
        "audit.levels[1].params.age: not a parameter of rule W7 (parameters: total, min_level)",
    ),
    (
        "missing-parameter",
        "rules/sondre-land.toml",
        "params = { total = 7, min_level = 2 }",
        "params = { total = 7 }",
        "audit.levels[1].params.min_level: missing parameter of rule W7",
    ),
    (
        "wrong-type-parameter",
        "rules/sondre-land.toml",
        "params = { total = 7, min_level = 2 }",
        'params = { total = "7", min_level = 2 }',
        "audit.levels[1].params.total: must be an integer, not a string ('7')",
    ),
    (
        "parameter-entry-type",
        "rules/sondre-land.toml",
        "q4 = 2,",
        'q4 = "2",',
        "audit.levels[2].params.thresholds: entry 'q4' must be an integer, not a string ('2')",
    ),
    (
        "parameter-element-type",
        "rules/sondre-land.toml",
        'items = ["q2", "q3"]',
        'items = ["q2", 3]',
        "audit.flags[0].params.items: element 1 must be a non-empty string, not an integer (3)",
    ),
    (
        "parameter-duplicates",
        "rules/sondre-land.toml",
        'items = ["q2", "q3"]',
        'items = ["q2", "q2"]',
        "audit.flags[0].params.items: must not contain duplicates",
    ),
    (
        "parameter-bool-is-not-int",
        "rules/sondre-land.toml",
        "params = { min_total = 1 }",
        "params = { min_total = true }",
        "audit.pathways[6].params.min_total: must be an integer, not a boolean (True)",
    ),
    (
        "parameter-unknown-item",
        "rules/sondre-land.toml",
        "q10 = 4 }",
        "q11 = 4 }",
        "audit.levels[2].params.thresholds: unknown item 'q11' in audit",
    ),
    (
        "parameter-unknown-subscore",
        "rules/sondre-land.toml",
        'subscore = "audit_c", male',
        'subscore = "audit_x", male',
        "audit.flags[5].params.subscore: unknown subscore 'audit_x' in audit",
    ),
    (
        "parameter-bad-level",
        "rules/sondre-land.toml",
        "params = { levels = [4] }",
        "params = { levels = [5] }",
        "audit.pathways[3].params.levels: levels 5 do not exist (1..4)",
    ),
    (
        "parameter-bad-setting",
        "rules/sondre-land.toml",
        'params = { levels = [2], setting = "home_care" }',
        'params = { levels = [2], setting = "hospital" }',
        "audit.pathways[0].params.setting: 'hospital' is not one of home_care, gp_practice",
    ),
    (
        "unknown-pathway",
        "rules/sondre-land.toml",
        'pathway = "specialist_referral"',
        'pathway = "hospital"',
        "audit.pathways[3].pathway: 'hospital' is not one of",
    ),
    (
        "z-not-first",
        "rules/who-2001.toml",
        'rule = "Z"',
        'rule = "E1"\nparams = { thresholds = { q4 = 2 }, step = 1 }',
        "audit.levels[0].rule: the first level rule, and only the first, must be Z",
    ),
    (
        "duplicate-flag",
        "rules/sondre-land.toml",
        'id = "harm"',
        'id = "consumption"',
        "audit.flags[3].id: duplicate flag id 'consumption'",
    ),
    (
        "unknown-instrument-section",
        "rules/who-2001.toml",
        "[audit]",
        "[audti]",
        "audti: unknown instrument 'audti'",
    ),
    (
        "follow-up-both",
        "rules/sondre-land.toml",
        "weeks = 8\n",
        "weeks = 8\nmonths = 2\n",
        "audit.follow_up[1].weeks: give exactly one of weeks and months",
    ),
    (
        "dudit-cut-off-order",
        "rules/sondre-land.toml",
        "total = 25",
        "total = 5",
        "dudit.dependence.total: must not be below the positive cut-offs",
    ),
    (
        "two-defaults",
        "rules/who-2001.toml",
        "default = false",
        "default = true",
        "(catalogue): default: exactly one rule set must have default = true "
        "(found: sondre-land, who-2001)",
    ),
    (
        "conversation-field-type",
        "brief_intervention.toml",
        'type = "boolean"',
        'type = "bool"',
        "items[0].fields[0].type: 'bool' is not one of",
    ),
    (
        "conversation-required-level",
        "brief_intervention.toml",
        'Feedback" }\nrequired_from_level = 2',
        'Feedback" }\nrequired_from_level = "2"',
        "items[1].required_from_level: must be an integer, not a string ('2')",
    ),
    (
        "extend-to-unknown-instrument",
        "rules/sondre-land.toml",
        'to = "audit"',
        'to = "audit_full"',
        "audit_c.extend.to: unknown instrument 'audit_full'",
    ),
    (
        "extend-to-itself",
        "rules/sondre-land.toml",
        'to = "audit"',
        'to = "audit_c"',
        "audit_c.extend.to: an instrument cannot extend to itself",
    ),
    (
        "extend-to-shorter-instrument",
        "rules/sondre-land.toml",
        'to = "audit"',
        'to = "medication_falls"',
        "audit_c.extend.to: item q1 of audit_c is not the same as item 1 of medication_falls",
    ),
    (
        "extend-on-dependence-without-cut-off",
        "rules/sondre-land.toml",
        'to = "audit"\noutcomes = ["positive"]',
        'to = "audit"\noutcomes = ["dependence"]',
        "audit_c.extend.outcomes: 'dependence' is not one of negative, positive",
    ),
    (
        "pathway-on-dependence-without-cut-off",
        "rules/sondre-land.toml",
        'params = { outcomes = ["positive"], setting = "home_care" }\nreason = { nb = "AUDIT-C',
        'params = { outcomes = ["dependence"], setting = "home_care" }\nreason = { nb = "AUDIT-C',
        "audit_c.pathways[0].params.outcomes: 'dependence' needs a [dependence] cut-off",
    ),
]


@pytest.mark.parametrize(("name", "old", "new", "expected"), [c[1:] for c in BROKEN],
                         ids=[c[0] for c in BROKEN])  # fmt: skip
def test_broken_copy_names_file_key_and_problem(
    tmp_path: Path, name: str, old: str, new: str, expected: str
) -> None:
    errors = errors_after(tmp_path, name, old, new)
    full = expected if expected.startswith("(catalogue)") else f"{name}: {expected}"
    assert any(error.startswith(full) for error in errors), errors


def test_repository_files_are_valid() -> None:
    results = check_directory(DEFAULT_DIRECTORY)
    assert {name for name, _ in results} == {
        "audit.toml", "audit_c.toml", "dudit.toml", "medication_falls.toml",
        "brief_intervention.toml", "rules/sondre-land.toml", "rules/who-2001.toml",
    }  # fmt: skip
    assert all(errors == [] for _, errors in results), results


def test_check_directory_reports_every_file(tmp_path: Path) -> None:
    directory = copy_instruments(tmp_path)
    edit(
        directory,
        "brief_intervention.toml",
        'kind = "conversation"',
        'kind = "conversation"\nx = 1',
    )
    edit(directory, "dudit.toml", "points = [0, 2, 4]", "points = [0, 2]")
    edit(directory, "rules/who-2001.toml", 'rule = "W7"', 'rule = "W6"')
    results = dict(check_directory(directory))
    assert results["brief_intervention.toml"][0].startswith(
        "brief_intervention.toml: x: unknown key (allowed here: "
    )
    assert results["dudit.toml"] == [
        "dudit.toml: scales.hurt.points: has 2 entries but there are 3 options"
    ]  # and no cascade onto the items that use the scale
    assert results["audit.toml"] == [] and results["medication_falls.toml"] == []
    assert results["rules/who-2001.toml"] == [
        "rules/who-2001.toml: audit.levels[1].rule: unknown level rule 'W6' (known: E1, O65, W7, Z)"
    ]
    # a rule set that covers a broken instrument cannot be checked, and says so
    assert results["rules/sondre-land.toml"] == [
        "rules/sondre-land.toml: dudit: cannot be checked: instrument 'dudit' failed to load"
    ]
    with pytest.raises(InstrumentFileError) as caught:
        load_catalogue(directory)
    assert len(caught.value.errors) == sum(len(e) for e in results.values()) == 4


def test_duplicate_instrument_id(tmp_path: Path) -> None:
    directory = copy_instruments(tmp_path)
    shutil.copy(directory / "dudit.toml", directory / "dudit_copy.toml")
    results = dict(check_directory(directory))
    assert results["dudit_copy.toml"] == [
        "dudit_copy.toml: id: duplicate id 'dudit' (also in dudit.toml)"
    ]


def test_missing_medication_checklist(tmp_path: Path) -> None:
    directory = copy_instruments(tmp_path)
    (directory / "medication_falls.toml").unlink()
    results = dict(check_directory(directory))
    assert results["(catalogue)"] == [
        "(catalogue): medication_falls: the medication-and-falls checklist instrument is missing"
    ]


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InstrumentFileError) as caught:
        load_catalogue(tmp_path / "nowhere")
    assert "is not a directory" in str(caught.value)


def test_unreadable_encoding(tmp_path: Path) -> None:
    directory = copy_instruments(tmp_path)
    (directory / "dudit.toml").write_bytes(b'id = "dudit"\ntitle = "\xff"\n')
    results = dict(check_directory(directory))
    assert results["dudit.toml"][0].startswith("dudit.toml: (syntax): ")


def test_catalogue_lookups(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    assert catalogue.default_rule_set_id == "sondre-land"
    assert catalogue.instrument("audit").item_text_version("nb") == "nb-aasland-1990"
    assert catalogue.instrument("audit").item_text_version("en") == "en-who-2001"
    assert catalogue.instrument("dudit").translation_status("nb") == "working"
    assert catalogue.instrument("dudit").translation_status("en") == "published"
    assert catalogue.medication_ids == {
        "sedatives", "strong_painkillers", "blood_thinners", "fall", "memory", "low_mood",
    }  # fmt: skip
    for lookup in (catalogue.instrument, catalogue.rule_set, catalogue.conversation):
        with pytest.raises(UnknownId) as caught:
            lookup("nope")
        assert isinstance(caught.value, LookupError) and "nope" in str(caught.value)
    with pytest.raises(UnknownId):
        catalogue.instrument("audit").item("q11")
    with pytest.raises(UnknownId):
        catalogue.instrument("audit").title("de")


def test_registry_fails_loudly() -> None:
    assert LEVEL_RULES.names() == ("E1", "O65", "W7", "Z")
    with pytest.raises(UnknownRule) as caught:
        LEVEL_RULES.lookup("w7")
    assert "known: E1, O65, W7, Z" in str(caught.value)
