"""Correcting a patient's details: the name, a changed fødselsnummer or D-number (birth date
and sex follow, and so do the report facts of the patient's screenings), refusals that store
nothing, the ``patient_correct`` access-log row, and the page "Endre pasientopplysninger"."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from screening.crypto.hashing import pseudonym
from screening.models import AccessLogEntry, Assessment, Patient, ReportFact
from screening.services import patient_edits, patient_search, patients
from screening.services.care import AccessDenied
from screening.services.patients import PatientError
from tests.app import fnr as gen
from tests.app.clinic import Clinic, Registered, register_many, setup_clinic
from tests.app.staffing import Person, sign_in
from tests.app.test_erasure import add_records
from tests.conftest import csrf_from


@pytest.fixture
def clinic(app) -> Clinic:  # type: ignore[no-untyped-def]
    return setup_clinic(app)


def log_rows(clinic: Clinic) -> list[AccessLogEntry]:
    session = clinic.db.read_session()
    try:
        return list(session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))
    finally:
        session.close()


def opened(clinic: Clinic, patient_uuid: str) -> patients.PatientRecord:
    with clinic.db.write() as session:
        return patients.open_patient(session, clinic.keyring, clinic.people["nurse-a"],
                                     patient_uuid)


def stored(clinic: Clinic) -> list[tuple[object, ...]]:
    """Every patient row as stored, to show that a refusal changed nothing."""
    session = clinic.db.read_session()
    try:
        return [tuple(r) for r in session.execute(select(Patient.__table__)).all()]
    finally:
        session.close()


def d_number_and_number(day: date, individual: int) -> tuple[str, str]:
    for i in range(individual, individual + 200):
        d_number, number = gen.make_fnr(day, i, d_number=True), gen.make_fnr(day, i + 2)
        if d_number and number:
            return d_number, number
    raise AssertionError


def test_correct_the_name(clinic: Clinic) -> None:
    item = register_many(clinic, 1)[0]
    nurse = clinic.people["nurse-a"]
    before = len(log_rows(clinic))
    done = patient_edits.correct(clinic.db, clinic.keyring, nurse, item.uuid,
                                 name="  Eldbjørg Nordbyhaug ")
    assert (done.name, done.number, done.details, done.changed) == (True, False, False, True)
    record = opened(clinic, item.uuid)
    assert (record.name, record.fnr) == ("Eldbjørg Nordbyhaug", item.fnr)
    rows = log_rows(clinic)[before:]
    assert [(r.action, r.staff_id, r.unit_id, r.purpose, r.patient_pseudonym)
            for r in rows[:1]] == [("patient_correct", nurse.id, clinic.units["home-a"], "care",
                                    pseudonym(clinic.keyring, item.uuid))]


def test_a_d_number_replaced_by_a_fodselsnummer(clinic: Clinic) -> None:
    d_number, number = d_number_and_number(date(1950, 6, 15), 124)
    nurse = clinic.people["nurse-a"]
    patient_uuid = patients.register(clinic.db, clinic.keyring, nurse, fnr=d_number,
                                     name="Dagfinn Gjerdrum", unit_id=clinic.units["home-a"])
    done = patient_edits.correct(clinic.db, clinic.keyring, nurse, patient_uuid,
                                 name="Dagfinn Gjerdrum", fnr=gen.spaced(number))
    assert (done.name, done.number, done.details) == (False, True, False)
    record = opened(clinic, patient_uuid)
    assert (record.fnr, record.birth_date, record.sex) == (number, date(1950, 6, 15), "female")
    assert patient_search.find_by_fnr(clinic.db, clinic.keyring, nurse, number) == patient_uuid
    assert patient_search.find_by_fnr(clinic.db, clinic.keyring, nurse, d_number) is None
    # the old number is free again
    again = patients.register(clinic.db, clinic.keyring, nurse, fnr=d_number, name="Ny Person",
                              unit_id=clinic.units["home-a"])
    assert again != patient_uuid


def test_a_wrong_number_corrected_moves_birth_date_sex_and_report_facts(clinic: Clinic) -> None:
    wrong = gen.make_fnr(date(1960, 1, 1), 101) or gen.make_fnr(date(1960, 1, 1), 103)
    right = next(n for i in range(100, 200, 2) if (n := gen.make_fnr(date(1940, 5, 2), i)))
    assert wrong and right
    nurse = clinic.people["nurse-a"]
    patient_uuid = patients.register(clinic.db, clinic.keyring, nurse, fnr=wrong,
                                     name="Fridtjof Hauklien", unit_id=clinic.units["home-a"])
    add_records(clinic, patient_uuid, "fix")
    done = patient_edits.correct(clinic.db, clinic.keyring, nurse, patient_uuid,
                                 name="Fridtjof Hauklien", fnr=right)
    assert (done.number, done.details, done.screenings) == (True, True, 1)
    record = opened(clinic, patient_uuid)
    assert (record.birth_date, record.sex) == (date(1940, 5, 2), "female")
    session = clinic.db.read_session()
    try:
        fact = session.execute(
            select(ReportFact.age_band, ReportFact.sex)
            .join(Assessment, Assessment.fact_id == ReportFact.id)
            .join(Patient, Patient.id == Assessment.patient_id)
            .where(Patient.uuid == patient_uuid)).one()
    finally:
        session.close()
    assert tuple(fact) == ("85_plus", "female")


def test_refusals_store_nothing(clinic: Clinic) -> None:
    mine, other_mine = register_many(clinic, 2)
    theirs = register_many(clinic, 1, unit="home-b", seed=9)[0]
    nurse = clinic.people["nurse-a"]
    rows_before, before = len(log_rows(clinic)), stored(clinic)

    def refused(code: str, **kwargs: object) -> None:
        with pytest.raises(PatientError) as caught:
            patient_edits.correct(clinic.db, clinic.keyring, nurse, mine.uuid,
                                  **{"name": mine.name, **kwargs})  # type: ignore[arg-type]
        assert caught.value.code == code and str(caught.value) == code

    refused("invalid_fnr", fnr=gen.with_bad_check_digit(mine.fnr))
    refused("bad_name", name=" ")
    refused("bad_name", name="a\u202eb")
    assert len(log_rows(clinic)) == rows_before  # bad input: nothing logged
    refused("duplicate_fnr", fnr=other_mine.fnr)
    refused("fnr_unavailable", fnr=theirs.fnr)
    assert stored(clinic) == before
    rows = log_rows(clinic)[rows_before:]
    assert [(r.action, r.outcome, r.unit_id, r.patient_pseudonym) for r in rows] == [
        ("duplicate_refused", "denied", clinic.units["home-a"],
         pseudonym(clinic.keyring, other_mine.uuid)),
        ("duplicate_refused", "denied", None, pseudonym(clinic.keyring, theirs.uuid))]
    with pytest.raises(PatientError) as caught:
        patient_edits.correct(clinic.db, clinic.keyring, nurse, "not-a-uuid", name="X")
    assert caught.value.code == "not_found"


def test_without_a_care_relationship_the_refusal_is_logged(clinic: Clinic) -> None:
    theirs = register_many(clinic, 1, unit="home-b")[0]
    before = stored(clinic)
    with pytest.raises(AccessDenied):
        patient_edits.correct(clinic.db, clinic.keyring, clinic.people["nurse-a"], theirs.uuid,
                              name="Endret Navn")
    assert stored(clinic) == before
    last = log_rows(clinic)[-1]
    assert (last.action, last.outcome, last.patient_pseudonym) == (
        "access_denied", "denied", pseudonym(clinic.keyring, theirs.uuid))


def test_nothing_changed_writes_nothing(clinic: Clinic) -> None:
    item = register_many(clinic, 1)[0]
    rows_before, before = len(log_rows(clinic)), stored(clinic)
    done = patient_edits.correct(clinic.db, clinic.keyring, clinic.people["nurse-a"], item.uuid,
                                 name=item.name, fnr=item.fnr)
    assert done.changed is False
    assert stored(clinic) == before and len(log_rows(clinic)) == rows_before


# ----------------------------------------------------------------- the page


def nurse_client(app, clinic: Clinic, who: str = "nurse-a"):  # type: ignore[no-untyped-def]
    person = clinic.people[who]
    client = app.test_client()
    sign_in(app, client, Person(person.username, person.role, "", person.id))
    return client


def post_details(client, item: Registered, **data: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/patients/{item.uuid}/details")
    assert page.status_code == 200
    return client.post(f"/patients/{item.uuid}/details",
                       data={"csrf_token": csrf_from(page.get_data(as_text=True)), **data})


def test_the_page_corrects_and_refuses_in_plain_words(app, clinic: Clinic) -> None:
    mine = register_many(clinic, 1)[0]
    theirs = register_many(clinic, 1, unit="home-b", seed=9)[0]
    client = nurse_client(app, clinic)
    patient_page = client.get(f"/patients/{mine.uuid}").get_data(as_text=True)
    assert f'href="/patients/{mine.uuid}/details"' in patient_page
    assert "Endre pasientopplysninger" in patient_page
    form = client.get(f"/patients/{mine.uuid}/details").get_data(as_text=True)
    assert "<h1>Endre pasientopplysninger</h1>" in form
    assert f"{mine.fnr[:6]} {mine.fnr[6:]}" in form and f'value="{mine.name}"' in form
    done = post_details(client, mine, name="Cecilie Ystebøvang", fnr="")
    assert done.status_code == 303 and done.headers["Location"].endswith(mine.uuid)
    assert "Pasientopplysningene er rettet." in client.get(done.headers["Location"]).get_data(
        as_text=True)
    assert opened(clinic, mine.uuid).name == "Cecilie Ystebøvang"
    refused = post_details(client, mine, name="Cecilie Ystebøvang", fnr=theirs.fnr)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Ingen pasient med dette nummeret kan registreres i enhetene dine" in html
    assert theirs.name not in html and theirs.uuid not in html
    assert "fnr_unavailable" not in html and "duplicate" not in html
    bad = post_details(client, mine, name="", fnr="")
    assert bad.status_code == 422
    unchanged = post_details(client, mine, name="Cecilie Ystebøvang", fnr=mine.fnr)
    assert unchanged.status_code == 303
    assert "Ingenting ble endret." in client.get(unchanged.headers["Location"]).get_data(
        as_text=True)
    # another unit's nurse gets the break-the-glass page, and nothing changes
    other = nurse_client(app, clinic, "nurse-b")
    assert other.get(f"/patients/{mine.uuid}/details").status_code == 403
    session = clinic.db.read_session()
    try:
        assert session.scalar(select(func.count()).select_from(Patient)) == 2
    finally:
        session.close()
