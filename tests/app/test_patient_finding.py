"""The find page through the Flask client (CSRF on): a number of another unit's patient
reads exactly like a number nobody has, on the search, emergency-access and registration
pages alike; emergency access with a reason is the way on; and the lists on the find page
("Mine i dag", "Nylig åpnet", unfinished screenings) name the patients and log each."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from screening.crypto.hashing import pseudonym
from screening.localtime import local_today
from screening.models import AccessLogEntry, Assessment, BreakGlass, Draft, FollowUp, Patient
from screening.models.base import new_uuid
from screening.services import patients, recent_patients
from tests.app.clinic import Clinic, Registered, register_many, save_drafts, setup_clinic
from tests.app.staffing import Person, sign_in
from tests.app.test_erasure import add_records
from tests.conftest import csrf_from

TOKEN = re.compile(r'(name="(?:csrf_token|emergency-csrf_token)"[^>]*value=")[^"]+"')


@pytest.fixture
def clinic(app) -> Clinic:  # type: ignore[no-untyped-def]
    return setup_clinic(app)


def client_of(app, clinic: Clinic, who: str):  # type: ignore[no-untyped-def]
    person = clinic.people[who]
    client = app.test_client()
    sign_in(app, client, Person(person.username, person.role, "", person.id))
    return client


def log_rows(clinic: Clinic) -> list[AccessLogEntry]:
    session = clinic.db.read_session()
    try:
        return list(session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))
    finally:
        session.close()


def count(clinic: Clinic, model) -> int:  # type: ignore[no-untyped-def]
    session = clinic.db.read_session()
    try:
        return session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        session.close()


def unknown_number(clinic: Clinic, taken: list[Registered]) -> str:
    from tests.app.fnr import synthetic_fnrs

    return next(n for n in synthetic_fnrs(50, seed=404) if n not in {r.fnr for r in taken})


def neutral(html: str, number: str) -> str:
    """The page with its CSRF tokens and the number typed taken out: what may differ."""
    return TOKEN.sub(r'\1"', html).replace(number, "NUMBER")


def search(client, query: str):  # type: ignore[no-untyped-def]
    page = client.get("/patients").get_data(as_text=True)
    return client.post("/patients", data={"csrf_token": csrf_from(page), "query": query})


# ----------------------------------------------------------------- no confirmation


def test_another_units_number_reads_like_a_number_nobody_has(app, clinic: Clinic) -> None:
    theirs = register_many(clinic, 1, unit="home-b")[0]
    nobody = unknown_number(clinic, [theirs])
    nurse = client_of(app, clinic, "nurse-a")
    before = len(log_rows(clinic))
    elsewhere = search(nurse, theirs.fnr)
    after_first = len(log_rows(clinic))
    missing = search(nurse, nobody)
    assert elsewhere.status_code == missing.status_code == 200
    first, second = elsewhere.get_data(as_text=True), missing.get_data(as_text=True)
    assert neutral(first, theirs.fnr) == neutral(second, nobody)
    assert theirs.name not in first and theirs.uuid not in first
    assert "Ingen pasient med dette fødselsnummeret er registrert i enhetene dine." in first
    assert "Nødtilgang" in first and "Registrer denne pasienten" in first
    # the access log tells them apart: the patient can see who looked for them
    rows = log_rows(clinic)
    assert [(r.action, r.outcome, r.patient_pseudonym) for r in rows[before:after_first]] == [
        ("patient_search", "denied", pseudonym(clinic.keyring, theirs.uuid))]
    assert [(r.action, r.outcome, r.patient_pseudonym) for r in rows[after_first:]] == [
        ("patient_search", "ok", None)]
    # the spaced form too
    assert neutral(search(nurse, theirs.fnr[:6] + " " + theirs.fnr[6:]).get_data(as_text=True),
                   theirs.fnr[:6] + " " + theirs.fnr[6:]).count("NUMBER") >= 1


def test_own_number_opens_the_patient(app, clinic: Clinic) -> None:
    mine = register_many(clinic, 1)[0]
    response = search(client_of(app, clinic, "nurse-a"), mine.fnr)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/patients/{mine.uuid}")


def emergency(client, page: str, number: str, reason: str):  # type: ignore[no-untyped-def]
    return client.post("/patients/emergency", data={
        "csrf_token": csrf_from(page), "emergency-fnr": number, "emergency-reason": reason})


def test_emergency_access_by_number(app, clinic: Clinic) -> None:
    theirs = register_many(clinic, 1, unit="home-b")[0]
    nobody = unknown_number(clinic, [theirs])
    nurse = client_of(app, clinic, "nurse-a")
    page = search(nurse, theirs.fnr).get_data(as_text=True)
    # a reason too short: the same neutral page again, with the error, for both numbers
    short = emergency(nurse, page, theirs.fnr, "akutt")
    short_nobody = emergency(nurse, page, nobody, "akutt")
    assert short.status_code == short_nobody.status_code == 422
    assert neutral(short.get_data(as_text=True), theirs.fnr) == neutral(
        short_nobody.get_data(as_text=True), nobody)
    assert "10 til 500 tegn" in short.get_data(as_text=True)
    assert count(clinic, BreakGlass) == 0
    # a number nobody has: told so, once the choice was made
    before = len(log_rows(clinic))
    told = emergency(nurse, page, nobody, "Akutt tilsyn på kveldsvakt")
    assert told.status_code == 200
    html = told.get_data(as_text=True)
    assert "Ingen pasient med dette fødselsnummeret er registrert." in html
    assert "Åpne med nødtilgang" not in html and "Registrer denne pasienten" in html
    assert [(r.action, r.purpose, r.patient_pseudonym) for r in log_rows(clinic)[before:]] == [
        ("patient_search", "break_glass", None)]
    # the other unit's patient: a grant for 24 hours, and the record opens
    before = len(log_rows(clinic))
    granted = emergency(nurse, page, theirs.fnr, "Akutt tilsyn på kveldsvakt")
    assert granted.status_code == 303
    assert granted.headers["Location"].endswith(f"/patients/{theirs.uuid}")
    assert count(clinic, BreakGlass) == 1
    assert [(r.action, r.purpose, r.patient_pseudonym) for r in log_rows(clinic)[before:]] == [
        ("break_glass", "break_glass", pseudonym(clinic.keyring, theirs.uuid))]
    assert nurse.get(f"/patients/{theirs.uuid}").status_code == 200
    # a patient of her own unit needs no grant: opened, and no grant made
    mine = register_many(clinic, 1, seed=31)[0]
    own = emergency(nurse, page, mine.fnr, "Akutt tilsyn på kveldsvakt")
    assert own.status_code == 303 and own.headers["Location"].endswith(mine.uuid)
    assert count(clinic, BreakGlass) == 1
    assert "Nødtilgang gitt" not in nurse.get(own.headers["Location"]).get_data(as_text=True)
    # bad numbers are a plain message, nothing logged
    before = len(log_rows(clinic))
    for bad in ("", "123", theirs.fnr[:10] + "x"):
        refused = emergency(nurse, page, bad, "Akutt tilsyn på kveldsvakt")
        assert refused.status_code == 422
        assert "ikke et gyldig fødselsnummer" in refused.get_data(as_text=True)
    assert len(log_rows(clinic)) == before


def register_form(client, number: str, name: str, unit_id: int):  # type: ignore[no-untyped-def]
    page = client.get("/patients/new").get_data(as_text=True)
    return client.post("/patients/new", data={"csrf_token": csrf_from(page), "fnr": number,
                                              "name": name, "unit": str(unit_id)})


def test_registering_another_units_number_is_refused_neutrally_and_logged(
        app, clinic: Clinic) -> None:
    theirs = register_many(clinic, 1, unit="home-b")[0]
    nurse = client_of(app, clinic, "nurse-a")
    before = (count(clinic, Patient), len(log_rows(clinic)))
    refused = register_form(nurse, theirs.fnr, "Noen Andre", clinic.units["home-a"])
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Ingen pasient med dette nummeret kan registreres i enhetene dine" in html
    assert "Åpne med nødtilgang" in html
    assert theirs.name not in html and theirs.uuid not in html and "allerede" not in html
    assert count(clinic, Patient) == before[0]
    rows = log_rows(clinic)[before[1]:]
    assert [(r.action, r.outcome, r.staff_id, r.patient_pseudonym) for r in rows] == [
        ("duplicate_refused", "denied", clinic.people["nurse-a"].id,
         pseudonym(clinic.keyring, theirs.uuid))]
    # the patient's own unit is told plainly (it may open the record anyway)
    own = register_form(client_of(app, clinic, "nurse-b"), theirs.fnr, "Noen Andre",
                        clinic.units["home-b"])
    assert own.status_code == 422
    assert "allerede registrert" in own.get_data(as_text=True)
    assert log_rows(clinic)[-1].action == "duplicate_refused"
    assert log_rows(clinic)[-1].unit_id == clinic.units["home-b"]
    # listed for review: who and when, never the patient
    listed = app.test_cli_runner().invoke(args=["access-log", "refusals", "--days", "1"])
    assert listed.exit_code == 0, listed.output
    assert "nurse-a (Nurse-A)" in listed.output and "nurse-b (Nurse-B)" in listed.output
    assert "2 refused registration(s)" in listed.output
    assert theirs.name not in listed.output and theirs.fnr not in listed.output


# ----------------------------------------------------------------- lists


def follow_up(clinic: Clinic, patient_uuid: str, unit: str, due: date,
              status: str = "open") -> None:
    with clinic.db.write() as session:
        row = session.scalar(select(Patient).where(Patient.uuid == patient_uuid))
        assert row is not None
        assessment = session.scalars(
            select(Assessment).where(Assessment.patient_id == row.id)).first()
        assert assessment is not None
        session.add(FollowUp(uuid=new_uuid(), patient_id=row.id, assessment_id=assessment.id,
                             fact_id=assessment.fact_id, pathway="elder_care",
                             unit_id=clinic.units[unit], due_date=due, mode="home_visit",
                             status="closed" if status == "done" else status,
                             outcome="done" if status == "done" else None))


def test_mine_today_lists_due_and_overdue_follow_ups_of_my_units(app, clinic: Clinic) -> None:
    today = local_today()
    people = register_many(clinic, 6)
    for item in people:
        add_records(clinic, item.uuid, item.uuid[:4])  # an assessment (and a GP follow-up)
    with clinic.db.write() as session:
        session.execute(delete(Draft))  # only the follow-ups name patients here
    due_today, overdue, later, done, elsewhere = people[:5]
    follow_up(clinic, due_today.uuid, "home-a", today)
    follow_up(clinic, overdue.uuid, "home-a", today - timedelta(days=3))
    follow_up(clinic, later.uuid, "home-a", today + timedelta(days=1))
    follow_up(clinic, done.uuid, "home-a", today - timedelta(days=1), status="done")
    follow_up(clinic, elsewhere.uuid, "home-b", today)
    before = len(log_rows(clinic))
    html = client_of(app, clinic, "nurse-a").get("/patients").get_data(as_text=True)
    section = html.split('id="due-title"')[1].split("</section>")[0]
    assert overdue.name in section and due_today.name in section
    assert section.index(overdue.name) < section.index(due_today.name)
    for absent in (later, done, elsewhere, people[5]):
        assert absent.name not in section
    assert "forfalt siden" in section and "i dag" in section
    rows = log_rows(clinic)[before:]
    assert sorted((r.action, r.patient_pseudonym) for r in rows) == sorted(
        ("patient_list", pseudonym(clinic.keyring, p.uuid)) for p in (due_today, overdue))


def test_recently_opened_keeps_the_newest_ten(app, clinic: Clinic) -> None:
    people = register_many(clinic, 12)
    nurse = client_of(app, clinic, "nurse-a")
    for item in people:
        assert nurse.get(f"/patients/{item.uuid}").status_code == 200
    assert nurse.get(f"/patients/{people[0].uuid}").status_code == 200  # again: to the top
    html = nurse.get("/patients").get_data(as_text=True)
    section = html.split('id="recent-title"')[1].split("</section>")[0]
    expected = [people[0]] + people[11:2:-1]
    assert len(expected) == recent_patients.KEEP
    positions = [section.index(p.name) for p in expected]
    assert positions == sorted(positions)
    assert people[1].name not in section and people[2].name not in section
    session = clinic.db.read_session()
    try:
        assert recent_patients.newest_ids(session, clinic.people["nurse-a"].id)[0] == \
            session.scalar(select(Patient.id).where(Patient.uuid == people[0].uuid))
    finally:
        session.close()
    # another nurse has her own list; a patient she may not open is not listed for her
    other = client_of(app, clinic, "nurse-b").get("/patients").get_data(as_text=True)
    assert people[0].name not in other
    # an erased patient leaves the list
    patients.erase(clinic.db, clinic.keyring, people[0].uuid)
    assert people[0].name not in nurse.get("/patients").get_data(as_text=True)


def test_drafts_are_listed_with_the_patients_name(app, clinic: Clinic) -> None:
    people = register_many(clinic, 2)
    save_drafts(clinic, clinic.people["nurse-a"], [(people[1].uuid, {"q1": 1})])
    html = client_of(app, clinic, "nurse-a").get("/patients").get_data(as_text=True)
    section = html.split('id="drafts-title"')[1].split("</section>")[0]
    assert people[1].name in section and "AUDIT" in section and "lagret" in section
    assert f"/patients/{people[1].uuid}/screen/audit" in section
    assert people[0].name not in section


def test_lists_leave_out_patients_no_longer_open_to_the_user(app, clinic: Clinic) -> None:
    theirs = register_many(clinic, 1, unit="home-b")[0]
    save_drafts(clinic, clinic.people["nurse-a"], [(theirs.uuid, {"q1": 1})])
    before = len(log_rows(clinic))
    html = client_of(app, clinic, "nurse-a").get("/patients").get_data(as_text=True)
    assert theirs.name not in html and theirs.uuid not in html
    assert len(log_rows(clinic)) == before


def test_search_results_page(app, clinic: Clinic) -> None:
    people = register_many(clinic, 3)
    nurse = client_of(app, clinic, "nurse-a")
    surname = people[0].name.split()[-1]
    response = search(nurse, surname[:4].lower())
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert people[0].name in html and f"/patients/{people[0].uuid}" in html
    assert "Søkeresultat" in html
    bad = search(nurse, "31.02.1950")
    assert bad.status_code == 422 and "Den fødselsdatoen finnes ikke" in bad.get_data(as_text=True)
    empty = search(nurse, "  ")
    assert empty.status_code == 422 and "Skriv et navn" in empty.get_data(as_text=True)
    none = search(nurse, "qqqq")
    assert "Ingen pasient i enhetene dine passer til søket." in none.get_data(as_text=True)
