"""Sealed columns: the marks on the models hold, the migrated database stores them as binary,
and a ciphertext changed or moved at the database level does not open (and is logged)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import LargeBinary, inspect, select, text
from sqlalchemy.types import _Binary

from screening.crypto.hashing import pseudonym
from screening.models import AccessLogEntry, Base, Draft, Patient
from screening.models.sealing import Locked, Sealed, Undecryptable
from screening.services import patient_search, patients
from screening.services.patients import PatientError
from tests.app.clinic import Clinic, register_many, save_drafts, setup_clinic

# Columns that identify a patient without being sealed: keyed hashes for exact lookup.
KEYED_INDEXES = {("patients", "fnr_index")}
# Clear text columns allowed in tables that hold patient data; a new one must be added here
# deliberately (and must not identify anyone).
CLEAR_TEXT = {
    "patients": {"uuid"},
    # The fingerprints are SHA-256 digests of the instrument and rule-set files, the same for
    # every result made with them: provenance, nothing about the patient.
    "assessments": {"uuid", "submission_token", "instrument", "instrument_version",
                    "item_text_version", "rule_set", "rule_set_version", "zone", "flags",
                    "pathways", "setting", "instrument_fingerprint", "rule_set_fingerprint"},
    "drafts": {"uuid", "instrument"},
    "conversations": {"uuid"},
    "follow_ups": {"uuid", "pathway", "mode", "status", "outcome"},
    "referrals": {"uuid", "pathway", "status"},
    "break_glass": {"uuid"},
    # A form sent after the session ended, sealed under its author's key; the endpoint and
    # path name the form (random uuids only), never a person.
    "parked_forms": {"uuid", "endpoint", "path"},
    # integers only: keyed 16-bit search terms (services/search_terms.py), internal ids
    "patient_search_terms": set(),
    "recent_patients": set(),
}


def _models() -> list[type[Any]]:
    return [mapper.class_ for mapper in Base.registry.mappers]


def test_identifying_columns_are_sealed_or_keyed_indexes() -> None:
    marked = [(t.name, c) for t in Base.metadata.sorted_tables for c in t.columns
              if c.info.get("identifies_patient")]
    assert {(t, c.name) for t, c in marked} >= {("patients", "fnr_sealed"),
                                               ("patients", "name_sealed"),
                                               ("patients", "birth_date_sealed"),
                                               ("patients", "fnr_index")}
    for table, column in marked:
        if (table, column.name) in KEYED_INDEXES:
            assert isinstance(column.type, LargeBinary) and column.type.length == 32
            assert column.unique
        else:
            assert column.info.get("sealed"), f"{table}.{column.name} identifies but is not sealed"


def test_sealed_marks_names_and_types_agree() -> None:
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            named = column.name.endswith("_sealed")
            assert named == bool(column.info.get("sealed")), f"{table.name}.{column.name}"
            if named:
                assert isinstance(column.type, LargeBinary), f"{table.name}.{column.name}"
                assert "uuid" in table.c, f"{table.name} seals without a row uuid"


def test_every_sealed_property_has_its_column() -> None:
    found = 0
    for model in _models():
        for name, value in vars(model).items():
            if isinstance(value, Sealed):
                found += 1
                column = model.__table__.c.get(f"{name}_sealed")
                assert column is not None, f"{model.__name__}.{name} has no {name}_sealed"
                assert column.info.get("sealed")
    assert found >= 8


def test_patient_tables_keep_no_other_clear_text() -> None:
    """Tables holding patient data: every text column is sealed or listed in CLEAR_TEXT."""
    from sqlalchemy import String, Text

    for table in Base.metadata.sorted_tables:
        holds_patient = table.name == "patients" or "patient_id" in table.c
        if not holds_patient:
            continue
        assert table.name in CLEAR_TEXT, f"new patient table {table.name}: review its columns"
        texts = {c.name for c in table.columns if isinstance(c.type, String | Text)}
        assert texts <= CLEAR_TEXT[table.name], f"{table.name}: {texts - CLEAR_TEXT[table.name]}"


def test_migrated_database_stores_sealed_columns_as_binary(app) -> None:  # type: ignore[no-untyped-def]
    engine = app.extensions["screening.db"].engine
    inspector = inspect(engine)
    checked = 0
    for table in Base.metadata.sorted_tables:
        actual = {c["name"]: c for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.info.get("sealed") or column.info.get("identifies_patient") \
                    or column.name == "data_key_wrapped":
                assert column.name in actual, f"{table.name}.{column.name} not migrated"
                assert isinstance(actual[column.name]["type"], _Binary), (
                    f"{table.name}.{column.name} is {actual[column.name]['type']}")
                checked += 1
    assert checked >= 12
    unique = {tuple(u["column_names"]) for u in inspector.get_unique_constraints("patients")}
    unique |= {tuple(i["column_names"]) for i in inspector.get_indexes("patients") if i["unique"]}
    assert ("fnr_index",) in unique and ("uuid",) in unique


def test_sealed_property_without_key_is_locked() -> None:
    row = Patient(uuid="7d1c3f2e-8a9b-4c0d-9e1f-2a3b4c5d6e7f")
    with pytest.raises(Locked):
        row.name = "Åshild Bråtheim"
    row.name_sealed = b"\x01" + b"\x00" * 40
    with pytest.raises(Locked):
        _ = row.name


# ----------------------------------------------------------------- tamper


@pytest.fixture
def clinic(app) -> Clinic:  # type: ignore[no-untyped-def]
    return setup_clinic(app)


def _raw(clinic: Clinic, sql: str, **params: Any) -> Any:
    with clinic.db.write() as session:
        return session.execute(text(sql), params)


def _column(clinic: Clinic, column: str, patient_uuid: str) -> bytes:
    session = clinic.db.read_session()
    try:
        value = session.execute(text(f"SELECT {column} FROM patients WHERE uuid = :u"),
                                {"u": patient_uuid}).scalar_one()
    finally:
        session.close()
    return bytes(value)


def _set(clinic: Clinic, column: str, patient_uuid: str, value: bytes) -> None:
    _raw(clinic, f"UPDATE patients SET {column} = :v WHERE uuid = :u", v=value, u=patient_uuid)


def _undecryptable_logged(clinic: Clinic, patient_uuid: str) -> int:
    session = clinic.db.read_session()
    try:
        return len(session.scalars(select(AccessLogEntry).where(
            AccessLogEntry.action == "undecryptable", AccessLogEntry.outcome == "error",
            AccessLogEntry.patient_pseudonym == pseudonym(clinic.keyring, patient_uuid))).all())
    finally:
        session.close()


def _expect_undecryptable(clinic: Clinic, patient_uuid: str) -> None:
    before = _undecryptable_logged(clinic, patient_uuid)
    with pytest.raises(Undecryptable) as caught:
        with clinic.db.write() as session:
            patients.open_patient(session, clinic.keyring, clinic.people["nurse-a"], patient_uuid)
    assert "\\x" not in str(caught.value)
    assert _undecryptable_logged(clinic, patient_uuid) == before + 1


SEALED_PATIENT_COLUMNS = ["fnr_sealed", "name_sealed", "birth_date_sealed", "sex_sealed",
                          "data_key_wrapped"]


@pytest.mark.parametrize("column", SEALED_PATIENT_COLUMNS)
def test_flipped_byte_truncation_and_key_id_change_do_not_open(clinic: Clinic,
                                                               column: str) -> None:
    item = register_many(clinic, 1)[0]
    original = _column(clinic, column, item.uuid)
    positions = sorted({0, 1, 3, 5, 10, 17, len(original) // 2, len(original) - 1})
    damaged = [original[:i] + bytes([original[i] ^ (1 << (i % 8))]) + original[i + 1:]
               for i in positions]
    damaged += [original[:-1], original[: len(original) // 2], original + b"\x00", b""]
    for value in damaged:
        _set(clinic, column, item.uuid, value)
        _expect_undecryptable(clinic, item.uuid)
    _set(clinic, column, item.uuid, original)
    with clinic.db.write() as session:
        assert patients.open_patient(session, clinic.keyring, clinic.people["nurse-a"],
                                     item.uuid).fnr == item.fnr


@pytest.mark.parametrize("column", SEALED_PATIENT_COLUMNS)
def test_swaps_between_patients_do_not_open(clinic: Clinic, column: str) -> None:
    first, second = register_many(clinic, 2)
    a, b = _column(clinic, column, first.uuid), _column(clinic, column, second.uuid)
    _set(clinic, column, first.uuid, b)
    _set(clinic, column, second.uuid, a)
    _expect_undecryptable(clinic, first.uuid)
    _expect_undecryptable(clinic, second.uuid)


def test_swaps_between_columns_do_not_open(clinic: Clinic) -> None:
    item = register_many(clinic, 1)[0]
    name, fnr = _column(clinic, "name_sealed", item.uuid), _column(clinic, "fnr_sealed", item.uuid)
    _set(clinic, "name_sealed", item.uuid, fnr)
    _set(clinic, "fnr_sealed", item.uuid, name)
    _expect_undecryptable(clinic, item.uuid)


def test_a_changed_row_uuid_does_not_open(clinic: Clinic) -> None:
    item = register_many(clinic, 1)[0]
    moved = "0" + item.uuid[1:] if item.uuid[0] != "0" else "1" + item.uuid[1:]
    _raw(clinic, "UPDATE patients SET uuid = :n WHERE uuid = :u", n=moved, u=item.uuid)
    _expect_undecryptable(clinic, moved)


def test_a_copied_blind_index_is_caught_by_the_search(clinic: Clinic) -> None:
    """Swapping the blind index of two rows makes a search find the other row; the sealed
    number is compared, so the search fails and is logged instead."""
    first, second = register_many(clinic, 2)
    a, b = _column(clinic, "fnr_index", first.uuid), _column(clinic, "fnr_index", second.uuid)
    _set(clinic, "fnr_index", first.uuid, b"\x00" * 32)
    _set(clinic, "fnr_index", second.uuid, a)
    _set(clinic, "fnr_index", first.uuid, b)
    with pytest.raises(Undecryptable):
        patient_search.find_by_fnr(clinic.db, clinic.keyring, clinic.people["nurse-a"], first.fnr)
    assert _undecryptable_logged(clinic, second.uuid) == 1


def test_draft_answers_moved_between_patients_do_not_open(clinic: Clinic) -> None:
    first, second = register_many(clinic, 2)
    nurse = clinic.people["nurse-a"]
    save_drafts(clinic, nurse, [(first.uuid, {"q1": 1, "note": "alpha"}),
                                (second.uuid, {"q1": 2, "note": "beta"})])
    session = clinic.db.read_session()
    try:
        drafts = {d.patient_id: (d.id, bytes(d.answers_sealed))
                  for d in session.scalars(select(Draft))}
    finally:
        session.close()
    (id_a, blob_a), (id_b, blob_b) = drafts.values()
    _raw(clinic, "UPDATE drafts SET answers_sealed = :v WHERE id = :i", v=blob_b, i=id_a)
    _raw(clinic, "UPDATE drafts SET answers_sealed = :v WHERE id = :i", v=blob_a, i=id_b)
    with clinic.db.write() as session:
        for draft in session.scalars(select(Draft)):
            patient = session.get(Patient, draft.patient_id)
            assert patient is not None
            patients.unlock(draft, patients.data_key(clinic.keyring, patient))
            with pytest.raises(Undecryptable):
                _ = draft.answers


def test_erased_key_means_nothing_opens(clinic: Clinic) -> None:
    """A row whose wrapped key is gone or replaced by another patient's never shows
    ciphertext as text: opening fails."""
    first, second = register_many(clinic, 2)
    _set(clinic, "data_key_wrapped", first.uuid, _column(clinic, "data_key_wrapped", second.uuid))
    _expect_undecryptable(clinic, first.uuid)
    with clinic.db.write() as session, pytest.raises(PatientError):
        patients.open_patient(session, clinic.keyring, clinic.people["nurse-a"],
                              "11111111-2222-4333-8444-555555555555")
