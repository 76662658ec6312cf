"""``flask import-questionnaire`` and ``flask export-codesystems`` (plugin commands: no app,
no database): what they write, and a clear message, never a traceback, when they cannot."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from click.testing import CliRunner
from fhir.resources.R4B.codesystem import CodeSystem

from screening.cli_fhir import export_codesystems, import_questionnaire
from screening.core.catalogue import DEFAULT_DIRECTORY
from screening.core.instruments import parse_instrument
from screening.core.reader import Problems

from .support import CASES_DIRECTORY

ASBI = CASES_DIRECTORY / "fhir" / "cdc-mitre-asbi-questionnaire-whoaudit.json"
US_CORE = CASES_DIRECTORY / "fhir" / "us-core-questionnaire-audit-c.json"


def _run(command, args: list[str], tmp_path: Path):  # type: ignore[no-untyped-def]
    env = {"SCREENING_INSTRUMENTS_DIR": str(DEFAULT_DIRECTORY),
           "SCREENING_INSTANCE_DIR": str(tmp_path)}
    return CliRunner().invoke(command, args, env=env, catch_exceptions=False)


def test_import_writes_an_instrument_file_with_its_notes(tmp_path: Path) -> None:
    out = tmp_path / "who_audit.toml"
    result = _run(import_questionnaire, [str(ASBI), "--out", str(out), "--id", "who_audit",
                                         "--leave-out", "prescreen-question",
                                         "--leave-out", "pregnancy-question"], tmp_path)
    assert result.exit_code == 0, result.output
    text = out.read_text("utf-8")
    assert text.startswith("# Imported from the FHIR Questionnaire")
    assert "not carried over" in text and "not carried over" in result.output
    problems = Problems("who_audit.toml")
    assert parse_instrument(tomllib.loads(text), problems) is not None, problems.errors
    again = _run(import_questionnaire, [str(ASBI), "--out", str(out)], tmp_path)
    assert again.exit_code == 1 and "exists: nothing written" in again.output


def test_import_refusal_lists_the_reasons_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "audit_c.toml"
    result = _run(import_questionnaire, [str(US_CORE), "--out", str(out)], tmp_path)
    assert result.exit_code == 1
    assert "'/68517-2' is a decimal question" in result.output
    assert "cannot be imported (1 reason(s) above)" in result.output
    assert not out.exists() and "Traceback" not in result.output


def test_import_of_a_file_that_is_not_json(tmp_path: Path) -> None:
    bad = tmp_path / "q.json"
    bad.write_bytes(b"\xff{not json")
    result = _run(import_questionnaire, [str(bad)], tmp_path)
    assert result.exit_code == 1 and "not JSON" in result.output
    missing = _run(import_questionnaire, [str(tmp_path / "none.json")], tmp_path)
    assert missing.exit_code == 1 and "cannot be read" in missing.output


def test_export_codesystems_writes_valid_resources(tmp_path: Path) -> None:
    target = tmp_path / "cs"
    result = _run(export_codesystems, [str(target)], tmp_path)
    assert result.exit_code == 0, result.output
    files = sorted(target.glob("CodeSystem-*.json"))
    assert len(files) >= 20 and f"wrote {len(files)} CodeSystem file(s)" in result.output
    for path in files:
        CodeSystem.model_validate(json.loads(path.read_text("utf-8")))
    assert (target / "CodeSystem-observation.json").exists()
    assert (target / "CodeSystem-audit-q4.json").exists()
    assert not (target / "CodeSystem-audit-q1.json").exists()  # item 1 answers in LOINC
