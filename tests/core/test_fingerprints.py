"""Fingerprints of the files (canonical content: comments and layout do not count, every value
does), earlier versions kept in instruments/versions/, and the comparison with what was
recorded earlier."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from screening.core.catalogue import DEFAULT_DIRECTORY, check_directory, load_catalogue
from screening.core.fingerprint import FileFingerprint, canonical_json, compare, fingerprint

from .test_loader import copy_instruments, edit


def _fingerprints(directory: Path) -> dict[tuple[str, str, int], str]:
    return {f.key: f.fingerprint for f in load_catalogue(directory).files()}


def test_every_file_has_its_fingerprint(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    files = {f.key: f for f in catalogue.files()}
    assert set(files) == {
        ("instrument", "audit", 1), ("instrument", "audit_c", 1), ("instrument", "dudit", 1),
        ("instrument", "medication_falls", 1), ("conversation", "brief_intervention", 2),
        ("rule_set", "sondre-land", 2), ("rule_set", "who-2001", 2)}
    assert files[("rule_set", "sondre-land", 2)].source == "rules/sondre-land.toml"
    audit = files[("instrument", "audit", 1)]
    assert catalogue.instrument("audit").fingerprint == audit.fingerprint
    assert catalogue.rule_set("sondre-land").fingerprint == files[
        ("rule_set", "sondre-land", 2)].fingerprint
    assert all(len(f.fingerprint) == 64 and int(f.fingerprint, 16) >= 0 for f in files.values())
    assert len({f.fingerprint for f in files.values()}) == len(files)


def test_comments_and_layout_do_not_count(tmp_path: Path) -> None:
    before = _fingerprints(copy_instruments(tmp_path / "a"))
    directory = copy_instruments(tmp_path / "b")
    edit(directory, "audit.toml", "# AUDIT - Alcohol",
         "# A comment corrected.\n\n# AUDIT - Alcohol")
    edit(directory, "audit.toml", 'kind = "questionnaire"\nversion = 1',
         "version   =   1\nkind = 'questionnaire'   # reordered, other quotes")
    edit(directory, "rules/sondre-land.toml", "older_age = 65   # inclusive",
         "older_age = 65\n\n# inclusive")
    assert _fingerprints(directory) == before


@pytest.mark.parametrize(("name", "old", "new", "key"), [
    ("audit.toml", '"Ja, i løpet av siste år"]', '"Ja, i løpet av det siste året"]',
     ("instrument", "audit", 1)),
    ("audit.toml", "points = [0, 2, 4]", "points = [0, 1, 4]", ("instrument", "audit", 1)),
    ("rules/sondre-land.toml", "male = 4\nfemale = 3", "male = 5\nfemale = 3",
     ("rule_set", "sondre-land", 2)),
    ("medication_falls.toml", "version = 1", "version = 1\n",
     ("instrument", "medication_falls", 1)),
])
def test_every_value_counts(tmp_path: Path, name: str, old: str, new: str,
                            key: tuple[str, str, int]) -> None:
    before = _fingerprints(copy_instruments(tmp_path / "a"))
    directory = copy_instruments(tmp_path / "b")
    edit(directory, name, old, new)
    after = _fingerprints(directory)
    changed = {k for k in after if after[k] != before[k]}
    if old.strip() == new.strip():  # a blank line only: nothing changed
        assert changed == set()
    else:
        assert changed == {key}


def test_canonical_content_is_sorted_compact_utf8() -> None:
    assert canonical_json({"b": 1, "a": {"æ": [1, "ø"]}}) == '{"a":{"æ":[1,"ø"]},"b":1}'.encode()
    assert fingerprint({"a": 1}) == fingerprint({"a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": "1"})


def _with_version_2(tmp_path: Path) -> Path:
    """audit.toml raised to version 2 with item 6 reworded; version 1 kept in versions/."""
    directory = copy_instruments(tmp_path)
    (directory / "versions").mkdir(exist_ok=True)
    shutil.copy(directory / "audit.toml", directory / "versions" / "audit-1.toml")
    edit(directory, "audit.toml", "version = 1", "version = 2")
    edit(directory, "audit.toml", '"Hvor ofte starter du dagen din med alkohol?"',
         '"Hvor ofte har du trengt en drink om morgenen for å komme i gang?"')
    return directory


def test_earlier_version_is_kept_with_its_own_texts(tmp_path: Path) -> None:
    catalogue = load_catalogue(_with_version_2(tmp_path))
    assert catalogue.instrument("audit").version == 2
    old = catalogue.instrument_version("audit", "1")
    new = catalogue.instrument_version("audit", 2)
    assert old is not None and new is catalogue.instrument("audit")
    assert old.item("q6").text("nb") == "Hvor ofte starter du dagen din med alkohol?"
    assert new.item("q6").text("nb") == ("Hvor ofte har du trengt en drink om morgenen for å "
                                         "komme i gang?")
    assert old.source_file == "versions/audit-1.toml"
    assert catalogue.instrument_version("audit", 3) is None
    assert catalogue.instrument_version("audit", "x") is None
    assert catalogue.instrument_version("nope", 1) is None
    keys = [f.key for f in catalogue.files()]
    assert ("instrument", "audit", 1) in keys and ("instrument", "audit", 2) in keys
    # the file moved unchanged keeps its fingerprint
    assert old.fingerprint == load_catalogue().instrument("audit").fingerprint


@pytest.mark.parametrize(("source", "file_name", "version", "expected"), [
    ("audit.toml", "audit-old.toml", 1,
     "versions/audit-old.toml: (file): an earlier version of 'audit' version 1 must be named "
     "audit-1.toml"),
    ("audit.toml", "audit-2.toml", 2,
     "versions/audit-2.toml: version: 2 is not earlier than the current version 2 of 'audit' "
     "(audit.toml)"),
    ("brief_intervention.toml", "brief_intervention-1.toml", 1,
     "versions/brief_intervention-1.toml: kind: versions/ holds earlier versions of instruments "
     "only"),
])
def test_versions_folder_is_checked(tmp_path: Path, source: str, file_name: str, version: int,
                                    expected: str) -> None:
    directory = _with_version_2(tmp_path)
    (directory / "versions" / "audit-1.toml").unlink()
    text = (DEFAULT_DIRECTORY / source).read_text("utf-8")
    (directory / "versions" / file_name).write_text(
        text.replace("version = 1", f"version = {version}", 1), "utf-8")
    results = dict(check_directory(directory))
    assert results[f"versions/{file_name}"] == [expected]
    assert sum(len(errors) for errors in results.values()) == 1


def _file(kind: str, ident: str, version: int, value: str) -> FileFingerprint:
    return FileFingerprint(kind, ident, version, value * 64, f"{ident}.toml")


def test_compare_changed_missing_and_new() -> None:
    recorded = [_file("instrument", "audit", 1, "a"), _file("instrument", "dudit", 1, "b"),
                _file("rule_set", "sondre-land", 1, "c"), _file("instrument", "old", 1, "d")]
    loaded = [_file("instrument", "audit", 1, "a"), _file("instrument", "dudit", 1, "e"),
              _file("rule_set", "sondre-land", 2, "f"), _file("instrument", "audit_c", 1, "g")]
    problems, new = compare(recorded, loaded)
    assert [(p.code, p.recorded.id) for p in problems] == [("changed", "dudit"),
                                                          ("missing", "old")]
    # a rule set no longer installed is no problem: results keep its names and reasons
    assert [f.key for f in new] == [("instrument", "audit_c", 1), ("rule_set", "sondre-land", 2)]
    changed = problems[0].line()
    assert changed.startswith("dudit.toml: instrument 'dudit' version 1 differs from the content "
                              "recorded for that version (recorded bbbbbbbb, file now eeeeeeee)")
    assert "raise its version" in changed
    assert problems[1].line().startswith("instrument 'old' version 1 was recorded")
    assert "versions/old-1.toml" in problems[1].line()
    assert compare(loaded, loaded) == ([], [])
