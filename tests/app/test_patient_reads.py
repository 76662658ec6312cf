"""Reading a patient outside the write transaction (services.patient_reads): the read is
logged once and committed before anything is returned; a refusal and an unreadable field
are logged and raised; nothing is logged for an unknown patient."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from screening.crypto.hashing import pseudonym
from screening.models import AccessLogEntry
from screening.models.sealing import Undecryptable
from screening.services import patient_reads
from screening.services.care import AccessDenied
from screening.services.patients import PatientError
from tests.app.clinic import Clinic, register_many, setup_clinic


@pytest.fixture
def clinic(app) -> Clinic:  # type: ignore[no-untyped-def]
    return setup_clinic(app)


def _log(clinic: Clinic, patient_uuid: str) -> list[tuple[str, str]]:
    session = clinic.db.read_session()
    try:
        return [(a, o) for a, o in session.execute(
            select(AccessLogEntry.action, AccessLogEntry.outcome)
            .where(AccessLogEntry.patient_pseudonym == pseudonym(clinic.keyring, patient_uuid))
            .order_by(AccessLogEntry.id))]
    finally:
        session.close()


def _read(clinic: Clinic, who: str, patient_uuid: str) -> None:
    with patient_reads.read_patient(clinic.db, clinic.keyring, clinic.people[who],
                                    patient_uuid, "patient_view"):
        pass


def test_a_read_is_logged_before_it_is_returned(clinic: Clinic) -> None:
    item = register_many(clinic, 1)[0]
    before = _log(clinic, item.uuid)
    with patient_reads.read_patient(clinic.db, clinic.keyring, clinic.people["nurse-a"],
                                    item.uuid, "patient_view") as (opened, session):
        seen = _log(clinic, item.uuid)  # what another connection sees by now
        assert session.is_active
    assert opened.record.fnr == item.fnr and opened.record.name == item.name
    assert _log(clinic, item.uuid) == [*before, ("patient_view", "ok")]
    assert seen == [*before, ("patient_view", "ok")]  # committed before the body ran


def test_a_refusal_is_logged_and_raised(clinic: Clinic) -> None:
    item = register_many(clinic, 1)[0]  # a patient of home-a
    before = _log(clinic, item.uuid)
    with pytest.raises(AccessDenied):
        _read(clinic, "nurse-b", item.uuid)
    assert _log(clinic, item.uuid) == [*before, ("access_denied", "denied")]


def test_an_unreadable_field_is_logged_and_raised(clinic: Clinic) -> None:
    item = register_many(clinic, 1)[0]
    with clinic.db.write() as session:
        session.execute(text("UPDATE patients SET name_sealed = :v WHERE uuid = :u"),
                        {"v": b"\x01" * 40, "u": item.uuid})
    before = _log(clinic, item.uuid)
    with pytest.raises(Undecryptable):
        _read(clinic, "nurse-a", item.uuid)
    assert _log(clinic, item.uuid) == [*before, ("undecryptable", "error")]


def test_an_unknown_patient_logs_nothing(clinic: Clinic) -> None:
    session = clinic.db.read_session()
    try:
        count = len(session.scalars(select(AccessLogEntry.id)).all())
    finally:
        session.close()
    for bad in ("not-a-uuid", "123e4567-e89b-42d3-a456-426614174000"):
        with pytest.raises(PatientError):
            _read(clinic, "nurse-a", bad)
    session = clinic.db.read_session()
    try:
        assert len(session.scalars(select(AccessLogEntry.id)).all()) == count
    finally:
        session.close()


def test_an_analyst_never_opens_a_patient(clinic: Clinic) -> None:
    item = register_many(clinic, 1)[0]
    with pytest.raises(AccessDenied):
        _read(clinic, "analyst", item.uuid)
