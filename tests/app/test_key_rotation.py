"""Key rotation end to end through ``flask keys rotate`` and ``flask keys retire``, and the
re-encryption of sealed fields under new data keys."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from screening.crypto.fields import wrapped_key_id
from screening.crypto.keys import load_key_file
from screening.models import Draft, Patient, Staff
from screening.services import access_log, accounts, key_rotation, patients
from tests.app.clinic import Clinic, register_many, save_drafts, setup_clinic
from tests.app.test_erasure import add_records, flask


def wrapped_ids(clinic: Clinic) -> dict[str, int]:
    counts: dict[str, int] = {}
    with clinic.db.engine.connect() as conn:
        for model in (Patient, Staff):
            for wrapped in conn.execute(select(model.data_key_wrapped)).scalars():
                kek = wrapped_key_id(bytes(wrapped))
                counts[kek] = counts.get(kek, 0) + 1
    return counts


def open_everything(clinic: Clinic, keyring: Any, expected: list[Any], staff: bool = True) -> None:
    nurse = clinic.people["nurse-a"]
    with clinic.db.write() as session:
        for item in expected:
            record = patients.open_patient(session, keyring, nurse, item.uuid)
            assert (record.fnr, record.name) == (item.fnr, item.name)
        for draft in session.scalars(select(Draft)):
            patient = session.get(Patient, draft.patient_id)
            assert patient is not None
            patients.unlock(draft, patients.data_key(keyring, patient))
            assert draft.answers["q1"] in (1, 2, 3)
        for member in session.scalars(select(Staff)) if staff else ():
            assert accounts.totp_secret(keyring, member)


def test_rotate_and_retire_through_the_commands(app, settings) -> None:  # type: ignore[no-untyped-def]
    clinic = setup_clinic(app)
    registered = register_many(clinic, 30)
    add_records(clinic, registered[0].uuid, "rot")
    save_drafts(clinic, clinic.people["nurse-a"],
                [(item.uuid, {"q1": 1}) for item in registered[1:6]])
    first_id = clinic.keyring.kek_id
    assert wrapped_ids(clinic) == {first_id: 35}  # 30 patients, 5 staff

    rotated = flask(["keys", "rotate", "--batch-size", "7"], settings)
    assert rotated.returncode == 0, rotated.stderr
    assert "re-wrapped 35 data key(s)" in rotated.stdout
    second = load_key_file(settings.resolved_key_file)
    assert second.kek_id != first_id and set(second.keks) == {first_id, second.kek_id}
    assert wrapped_ids(clinic) == {second.kek_id: 35}
    assert key_rotation.rows_using(clinic.db, first_id) == 0
    assert key_rotation.rows_using(clinic.db, second.kek_id) == 35
    open_everything(clinic, second, registered)
    # The app still running with the old key file in memory keeps opening the re-wrapped
    # keys (it reads the new key file when a wrapped key names a KEK it lacks), staff keys too
    open_everything(clinic, clinic.keyring, registered, staff=False)
    with clinic.db.engine.connect() as conn:
        for staff_uuid, wrapped in conn.execute(select(Staff.uuid, Staff.data_key_wrapped)):
            patients.unwrap_key(clinic.keyring, bytes(wrapped), f"staff:{staff_uuid}")
    # ... and wraps new patients under the key file's current KEK, not its stale one, so
    # nothing new lands under the KEK that is about to be retired.
    late = register_many(clinic, 1, seed=77)
    assert wrapped_ids(clinic) == {second.kek_id: 36}
    # Retiring the current KEK is refused; retiring an unknown one too.
    current = flask(["keys", "retire", second.kek_id], settings)
    assert current.returncode != 0 and "Traceback" not in current.stderr

    refused = flask(["keys", "retire", "k-00000000"], settings)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    again = flask(["keys", "rotate"], settings)
    assert again.returncode == 0, again.stderr
    assert "re-wrapped 36 data key(s)" in again.stdout
    third = load_key_file(settings.resolved_key_file)
    for old in (first_id, second.kek_id):
        retired = flask(["keys", "retire", old], settings)
        assert retired.returncode == 0, retired.stderr
        assert f"retired key-encryption key {old}" in retired.stdout
    final = load_key_file(settings.resolved_key_file)
    assert set(final.keks) == {third.kek_id}
    assert wrapped_ids(clinic) == {third.kek_id: 36}
    open_everything(clinic, final, registered + late)
    # no key bytes in anything the commands printed
    document = json.loads(settings.resolved_key_file.read_text())
    printed = "".join(r.stdout + r.stderr for r in (rotated, refused, current, again))
    for entry in [*document["keks"], document["blind_index_key"], document["pseudonym_key"]]:
        assert entry["key"] not in printed and entry["kcv"] not in printed
    unknown = flask(["keys", "retire", "k-00000000"], settings)
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr


def test_rewrap_is_idempotent_and_skips_what_does_not_open(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from screening.crypto.keys import rotate_key_file

    clinic = setup_clinic(app)
    registered = register_many(clinic, 12)
    broken = registered[3]
    with clinic.db.write() as session:
        row = session.scalar(select(Patient).where(Patient.uuid == broken.uuid))
        assert row is not None
        row.data_key_wrapped = row.data_key_wrapped[:-1] + bytes([row.data_key_wrapped[-1] ^ 1])
    ring = rotate_key_file(clinic.keyring.path)
    assert key_rotation.rewrap_all(clinic.db, ring, batch_size=5) == 16  # 11 patients, 5 staff
    assert key_rotation.rewrap_all(clinic.db, ring, batch_size=5) == 0
    assert key_rotation.rows_using(clinic.db, clinic.keyring.kek_id) == 1
    assert key_rotation.rows_using(clinic.db, "no such id") == 0
    assert key_rotation.rows_using(clinic.db, "ø") == 0


def test_reencrypt_gives_new_data_keys_and_everything_still_opens(app) -> None:  # type: ignore[no-untyped-def]
    clinic = setup_clinic(app)
    registered = register_many(clinic, 9)
    for item in registered[:3]:
        add_records(clinic, item.uuid, "re")
    save_drafts(clinic, clinic.people["nurse-b"], [(item.uuid, {"q1": 2}) for item in registered])
    with clinic.db.engine.connect() as conn:
        before = {u: bytes(w) for u, w in conn.execute(select(Patient.uuid,
                                                              Patient.data_key_wrapped))}
        drafts_before = {bytes(b) for b in conn.execute(select(Draft.answers_sealed)).scalars()}
    result = key_rotation.reencrypt_all(clinic.db, clinic.keyring, batch_size=4)
    assert (result.patients, result.failed) == (9, 0)
    # 4 per patient, and per each of 3 patients: 2 assessment, conversation, follow-up,
    # grant, 2 drafts (nurse-a's from add_records, nurse-b's), referral; 1 draft for the
    # other 6
    assert result.fields == 9 * 4 + 3 * (2 + 1 + 1 + 1 + 2 + 1) + 6
    with clinic.db.engine.connect() as conn:
        after = {u: bytes(w) for u, w in conn.execute(select(Patient.uuid,
                                                             Patient.data_key_wrapped))}
        drafts_after = {bytes(b) for b in conn.execute(select(Draft.answers_sealed)).scalars()}
    assert before.keys() == after.keys()
    for patient_uuid in before:
        assert before[patient_uuid] != after[patient_uuid]
    assert not drafts_before & drafts_after
    open_everything(clinic, clinic.keyring, registered)
    session = clinic.db.read_session()
    try:
        assert access_log.verify(session, clinic.keyring).ok
    finally:
        session.close()


def test_reencrypt_redoes_a_batch_changed_meanwhile(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A draft saved (under the old data key) between the batch's read and its write is
    re-sealed inside the write transaction, not overwritten and not left under the old key."""
    clinic = setup_clinic(app)
    registered = register_many(clinic, 3)
    nurse = clinic.people["nurse-a"]
    save_drafts(clinic, nurse, [(item.uuid, {"q1": 1}) for item in registered])
    real_plan = key_rotation._plan
    calls = []

    def plan_with_an_edit_in_between(keyring, snapshot):  # type: ignore[no-untyped-def]
        calls.append(len(snapshot))
        if len(calls) == 1:
            save_drafts(clinic, nurse, [(registered[1].uuid, {"q1": 3, "note": "edited"})])
            save_drafts(clinic, clinic.people["nurse-b"], [(registered[2].uuid, {"q1": 2})])
        return real_plan(keyring, snapshot)

    monkeypatch.setattr(key_rotation, "_plan", plan_with_an_edit_in_between)
    result = key_rotation.reencrypt_all(clinic.db, clinic.keyring, batch_size=10)
    assert len(calls) == 2  # planned again inside the write transaction
    assert (result.patients, result.failed, result.replanned) == (3, 0, 1)
    assert result.fields == 3 * 4 + 4
    with clinic.db.write() as session:
        answers = {}
        for draft in session.scalars(select(Draft)):
            patient = session.get(Patient, draft.patient_id)
            assert patient is not None
            patients.unlock(draft, patients.data_key(clinic.keyring, patient))
            answers[(patient.uuid, draft.staff_id)] = draft.answers
    assert answers[(registered[1].uuid, nurse.id)] == {"q1": 3, "note": "edited"}
    assert answers[(registered[2].uuid, clinic.people["nurse-b"].id)] == {"q1": 2}
    open_everything(clinic, clinic.keyring, registered)
