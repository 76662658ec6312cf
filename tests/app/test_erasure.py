"""Erasure (crypto-shredding): the patient's key and rows go, the anonymous report facts stay,
the erasure is logged; from the service and from ``flask patients erase``."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.engine import make_url

from screening.crypto.fields import OpenError, open_sealed_bytes, unwrap_data_key
from screening.crypto.hashing import pseudonym
from screening.models import (
    AccessLogEntry,
    Assessment,
    Base,
    BreakGlass,
    Conversation,
    Draft,
    FollowUp,
    Patient,
    Referral,
    ReportFact,
)
from screening.models.base import new_uuid, utcnow
from screening.services import access_log, patient_search, patients
from screening.services.patients import PatientError
from tests.app.clinic import Clinic, Registered, register_many, setup_clinic

ROOT = Path(__file__).resolve().parents[2]
CHILD_TABLES = (Assessment, Draft, Conversation, FollowUp, BreakGlass, Referral)


@pytest.fixture
def clinic(app) -> Clinic:  # type: ignore[no-untyped-def]
    return setup_clinic(app)


def add_records(clinic: Clinic, patient_uuid: str, tag: str) -> None:
    """One of everything that belongs to a patient, sealed fields set through the properties."""
    nurse, other = clinic.people["nurse-a"], clinic.people["nurse-b"]
    with clinic.db.write() as session:
        patient = session.scalar(select(Patient).where(Patient.uuid == patient_uuid))
        assert patient is not None
        key = patients.data_key(clinic.keyring, patient)
        fact = ReportFact(month="2026-11", age_band="75_84", sex="female",
                          unit_id=patient.unit_id, setting="home_care", instrument="audit",
                          zone="II", level=2, pw_gp=True, follow_up="pending")
        session.add(fact)
        session.flush()
        assessment = Assessment(
            uuid=new_uuid(), patient_id=patient.id, fact_id=fact.id,
            submission_token=secrets.token_hex(16), instrument="audit", instrument_version="1",
            item_text_version="t1", rule_set="test", rule_set_version="1", total=9, zone="II",
            level=2, flags="[]", pathways='["gp"]', setting="home_care", unit_id=patient.unit_id,
            created_by=nurse.id)
        patients.unlock(assessment, key)
        assessment.answers = {"q1": 2, "q2": 1}
        assessment.context = {"age": 79, "free_text": f"context {tag}"}
        session.add(assessment)
        session.flush()
        conversation = Conversation(uuid=new_uuid(), assessment_id=assessment.id,
                                    patient_id=patient.id, created_by=nurse.id)
        patients.unlock(conversation, key)
        conversation.record = {"goal": f"goal {tag}"}
        follow_up = FollowUp(uuid=new_uuid(), patient_id=patient.id, assessment_id=assessment.id,
                             fact_id=fact.id, pathway="gp", unit_id=clinic.units["gp-a"],
                             due_date=date.today() + timedelta(weeks=4), mode="consultation")
        patients.unlock(follow_up, key)
        follow_up.note = f"note {tag}"
        glass = BreakGlass(uuid=new_uuid(), staff_id=other.id, patient_id=patient.id,
                           expires_at=utcnow() + timedelta(hours=1))
        patients.unlock(glass, key)
        glass.reason = f"reason {tag}"
        draft = Draft(uuid=new_uuid(), staff_id=nurse.id, patient_id=patient.id,
                      instrument="audit")
        patients.unlock(draft, key)
        draft.answers = {"q1": 3, "note": f"draft {tag}"}
        referral = Referral(uuid=new_uuid(), patient_id=patient.id, assessment_id=assessment.id,
                            pathway="gp", status="sent", consent=True,
                            to_unit_id=clinic.units["gp-a"], sent_by=nurse.id)
        patients.unlock(referral, key)
        referral.reason = f"reason {tag}"
        session.add_all([conversation, follow_up, glass, draft, referral])


def counts(clinic: Clinic, patient_id: int | None = None) -> dict[str, int]:
    session = clinic.db.read_session()
    try:
        result = {}
        for model in CHILD_TABLES:
            query = select(func.count()).select_from(model)
            if patient_id is not None:
                query = query.where(model.patient_id == patient_id)
            result[model.__tablename__] = session.scalar(query) or 0
        result["report_facts"] = session.scalar(select(func.count()).select_from(ReportFact)) or 0
        return result
    finally:
        session.close()


def patient_id(clinic: Clinic, patient_uuid: str) -> int:
    session = clinic.db.read_session()
    try:
        found = session.scalar(select(Patient.id).where(Patient.uuid == patient_uuid))
    finally:
        session.close()
    assert found is not None
    return found


def sealed_blobs(clinic: Clinic, pid: int) -> list[tuple[str, str, str, bytes]]:
    """(table, column, row uuid, blob) of every sealed value of one patient."""
    found = []
    with clinic.db.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            columns = [c.name for c in table.columns if c.info.get("sealed")]
            if not columns or table.name == "staff":
                continue
            link = "id" if table.name == "patients" else "patient_id"
            for row in conn.execute(select(table).where(table.c[link] == pid)).mappings():
                for name in columns:
                    if row[name] is not None:
                        found.append((table.name, name[:-7], row["uuid"], bytes(row[name])))
    return found


def all_data_keys(clinic: Clinic) -> list[bytes]:
    with clinic.db.engine.connect() as conn:
        rows = conn.execute(select(Patient.uuid, Patient.data_key_wrapped)).all()
    return [unwrap_data_key(clinic.keyring, bytes(w), u) for u, w in rows]


def test_every_reference_to_a_patient_cascades(app) -> None:  # type: ignore[no-untyped-def]
    referring = {}
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "patients":
                referring[table.name] = fk.ondelete
    assert set(referring) >= {m.__tablename__ for m in CHILD_TABLES}
    assert set(referring.values()) == {"CASCADE"}, referring
    inspector = inspect(app.extensions["screening.db"].engine)
    for name in referring:
        migrated = [fk for fk in inspector.get_foreign_keys(name)
                    if fk["referred_table"] == "patients"]
        assert migrated and all(fk["options"].get("ondelete", "").upper() == "CASCADE"
                                for fk in migrated), (name, migrated)
    assert "patient_id" not in ReportFact.__table__.c


def test_the_database_cascades_by_itself(clinic: Clinic) -> None:
    item = register_many(clinic, 1)[0]
    add_records(clinic, item.uuid, "x")
    pid = patient_id(clinic, item.uuid)
    assert set(counts(clinic, pid).values()) == {1}
    with clinic.db.write() as session:
        session.execute(text("DELETE FROM patients WHERE id = :i"), {"i": pid})
    after = counts(clinic, pid)
    assert after.pop("report_facts") == 1
    assert set(after.values()) == {0}


def test_erase(clinic: Clinic) -> None:
    registered = register_many(clinic, 3)
    for i, item in enumerate(registered):
        add_records(clinic, item.uuid, f"p{i}")
    target = registered[1]
    pid = patient_id(clinic, target.uuid)
    blobs = sealed_blobs(clinic, pid)
    assert len(blobs) == 11  # patient 4, assessment 2, conversation, follow-up, grant, draft,
    # referral
    with clinic.db.engine.connect() as conn:
        wrapped = bytes(conn.execute(select(Patient.data_key_wrapped)
                                     .where(Patient.id == pid)).scalar_one())
    before = counts(clinic)

    patients.erase(clinic.db, clinic.keyring, target.uuid)

    assert counts(clinic, pid) == {**{m.__tablename__: 0 for m in CHILD_TABLES},
                                   "report_facts": before["report_facts"]}
    after = counts(clinic)
    assert after == {**{k: v - 1 for k, v in before.items()}, "report_facts": 3}
    # none of the patient's fields opens: the wrapped key is gone, and no remaining key
    # opens any of the patient's sealed values
    with clinic.db.engine.connect() as conn:
        remaining = [bytes(w) for w in conn.execute(select(Patient.data_key_wrapped)).scalars()]
    assert wrapped not in remaining
    for key in all_data_keys(clinic):
        for table, column, row_uuid, blob in blobs:
            with pytest.raises(OpenError):
                open_sealed_bytes(key, blob, table=table, column=column, row_uuid=row_uuid)
    # the lookup finds nothing; the uuid is unknown
    nurse = clinic.people["nurse-a"]
    assert patient_search.find_by_fnr(clinic.db, clinic.keyring, nurse, target.fnr) is None
    with clinic.db.write() as session, pytest.raises(PatientError) as caught:
        patients.open_patient(session, clinic.keyring, nurse, target.uuid)
    assert caught.value.code == "not_found"
    # every other patient opens, with all records
    for item in (registered[0], registered[2]):
        with clinic.db.write() as session:
            record = patients.open_patient(session, clinic.keyring, nurse, item.uuid)
            assert (record.fnr, record.name) == (item.fnr, item.name)
        other_pid = patient_id(clinic, item.uuid)
        key = next(k for k in all_data_keys(clinic)
                   if _opens(k, sealed_blobs(clinic, other_pid)[0]))
        for table, column, row_uuid, blob in sealed_blobs(clinic, other_pid):
            open_sealed_bytes(key, blob, table=table, column=column, row_uuid=row_uuid)
    # logged, chain intact, the patient's access history still listed by pseudonym
    session = clinic.db.read_session()
    try:
        erased = session.scalars(select(AccessLogEntry).where(
            AccessLogEntry.action == "patient_erase")).all()
        assert [(e.purpose, e.outcome, e.role, e.staff_id, e.patient_pseudonym) for e in erased] \
            == [("erasure", "ok", "system", None, pseudonym(clinic.keyring, target.uuid))]
        assert access_log.verify(session, clinic.keyring).ok
        assert [e.action for e in access_log.history(session, clinic.keyring, target.uuid)] == [
            "patient_register", "patient_erase"]
    finally:
        session.close()


def _opens(key: bytes, blob: tuple[str, str, str, bytes]) -> bool:
    table, column, row_uuid, value = blob
    try:
        open_sealed_bytes(key, value, table=table, column=column, row_uuid=row_uuid)
    except OpenError:
        return False
    return True


@pytest.mark.sqlite_only
def test_erase_leaves_no_copy_of_the_key_in_the_sqlite_files(clinic: Clinic) -> None:
    assert clinic.db.is_sqlite
    registered = register_many(clinic, 20)
    target = registered[7]
    add_records(clinic, target.uuid, "gone")
    pid = patient_id(clinic, target.uuid)
    with clinic.db.engine.connect() as conn:
        wrapped = bytes(conn.execute(select(Patient.data_key_wrapped)
                                     .where(Patient.id == pid)).scalar_one())
    blobs = [b for *_x, b in sealed_blobs(clinic, pid)]
    patients.erase(clinic.db, clinic.keyring, target.uuid)
    path = Path(clinic.db.engine.url.database or "")
    for suffix in ("", "-wal", "-shm"):
        file = Path(str(path) + suffix)
        if not file.exists():
            continue
        data = file.read_bytes()
        assert wrapped not in data and wrapped[-32:] not in data, suffix
        for blob in blobs:
            assert blob[-24:] not in data, suffix


def test_erase_refusals(clinic: Clinic) -> None:
    register_many(clinic, 1)
    for bad in ["", "nope", "11111111-2222-4333-8444-555555555555"]:
        with pytest.raises(PatientError) as caught:
            patients.erase(clinic.db, clinic.keyring, bad)
        assert caught.value.code == "not_found"
    session = clinic.db.read_session()
    try:
        assert session.scalar(select(func.count()).select_from(Patient)) == 1
        assert not session.scalars(select(AccessLogEntry).where(
            AccessLogEntry.action == "patient_erase")).all()
    finally:
        session.close()


# ----------------------------------------------------------------- the command


def flask(args: list[str], settings: Any,
          stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    env.update({
        "SCREENING_INSTANCE_DIR": str(settings.instance_dir),
        "SCREENING_DATABASE_URL": make_url(settings.resolved_database_url)
        .render_as_string(hide_password=False),
        "SCREENING_ENV": "test",
        "SCREENING_ARGON2_TIME_COST": "1",
        "SCREENING_ARGON2_MEMORY_KIB": "8",
    })
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, input=stdin, timeout=120)


def _exists(clinic: Clinic, item: Registered) -> bool:
    session = clinic.db.read_session()
    try:
        return session.scalar(select(Patient.id).where(Patient.uuid == item.uuid)) is not None
    finally:
        session.close()


def test_erase_command(clinic: Clinic, settings) -> None:  # type: ignore[no-untyped-def]
    first, second, third = register_many(clinic, 3)
    add_records(clinic, first.uuid, "cli")

    for args, message in ((["not-a-uuid"], "not a patient uuid"),
                          (["11111111-2222-4333-8444-555555555555", "--yes"],
                           "no patient has that uuid")):
        result = flask(["patients", "erase", *args], settings)
        assert result.returncode != 0
        assert message in result.stderr and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1

    declined = flask(["patients", "erase", first.uuid], settings, stdin="n\n")
    assert declined.returncode != 0 and "Traceback" not in declined.stderr
    assert "cannot be undone" in declined.stdout
    assert _exists(clinic, first)

    confirmed = flask(["patients", "erase", first.uuid.upper()], settings, stdin="y\n")
    assert confirmed.returncode == 0, confirmed.stderr
    assert f"erased patient {first.uuid}" in confirmed.stdout
    assert not _exists(clinic, first)

    forced = flask(["patients", "erase", "--yes", second.uuid], settings)
    assert forced.returncode == 0, forced.stderr
    assert not _exists(clinic, second) and _exists(clinic, third)
    for result in (declined, confirmed, forced):
        for item in (first, second):
            assert item.fnr not in result.stdout + result.stderr
            assert item.name not in result.stdout + result.stderr
    again = flask(["patients", "erase", "--yes", second.uuid], settings)
    assert again.returncode != 0 and "no patient has that uuid" in again.stderr
    session = clinic.db.read_session()
    try:
        erased = session.scalars(select(AccessLogEntry.patient_pseudonym).where(
            AccessLogEntry.action == "patient_erase")).all()
    finally:
        session.close()
    assert erased == [pseudonym(clinic.keyring, first.uuid),
                      pseudonym(clinic.keyring, second.uuid)]
