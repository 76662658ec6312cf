"""The patient store: fødselsnummer validation, registration, lookup through the blind index,
opening a record with the care relationship checked and every step in the access log."""

from __future__ import annotations

import random
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

from screening.crypto.hashing import pseudonym
from screening.models import AccessLogEntry, Patient, Unit
from screening.services import access_log, patient_search, patients
from screening.services.care import AccessDenied
from screening.services.patients import PatientError, validate_fnr, validate_name
from tests.app import fnr as gen
from tests.app.clinic import Clinic, register_many, setup_clinic


@pytest.fixture
def clinic(app) -> Clinic:  # type: ignore[no-untyped-def]
    return setup_clinic(app)


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


def nurse_actor(clinic: Clinic, unit: str = "home-a") -> access_log.Actor:
    return access_log.Actor(clinic.people["nurse-a"].id, "nurse", clinic.units[unit])


# ----------------------------------------------------------------- fødselsnummer


def test_generated_numbers_are_valid_with_birth_date_and_sex() -> None:
    rng = random.Random(11)
    for _ in range(500):
        birth = date(1920, 1, 1) + timedelta(days=rng.randrange(365 * 80))
        span = gen.individual_range(birth.year)
        individual = rng.randrange(span.start, span.stop)
        number = gen.make_fnr(birth, individual)
        if number is None:
            continue
        info = validate_fnr(number)
        assert info.normalised == number
        assert info.birth_date == birth
        assert info.sex == ("male" if individual % 2 else "female")
        assert info.d_number is False


def test_d_numbers_are_accepted_and_their_birth_date_is_the_day_minus_40() -> None:
    rng = random.Random(12)
    seen = 0
    while seen < 300:
        birth = date(1925, 1, 1) + timedelta(days=rng.randrange(365 * 70))
        individual = rng.randrange(0, 500)
        number = gen.make_fnr(birth, individual, d_number=True)
        if number is None:
            continue
        seen += 1
        assert int(number[0]) in (4, 5, 6, 7)
        info = validate_fnr(number)
        assert info.d_number is True
        assert info.birth_date == birth
        assert info.sex == ("male" if individual % 2 else "female")


def test_births_in_this_century_and_the_nineteenth() -> None:
    number = gen.make_fnr(date(2003, 4, 5), 512) or gen.make_fnr(date(2003, 4, 5), 514)
    assert number is not None and validate_fnr(number).birth_date == date(2003, 4, 5)
    old = next(n for i in range(500, 750) if (n := gen.make_fnr(date(1899, 12, 31), i)))
    assert validate_fnr(old).birth_date == date(1899, 12, 31)


@pytest.mark.parametrize("form", ["{a} {b}", "{a}-{b}", "  {a}{b}  ", "{a}\u00a0{b}",
                                  "{a} - {b}", "{x}"])
def test_accepted_forms(form: str) -> None:
    number = gen.synthetic_fnrs(1, seed=3)[0]
    typed = form.format(a=number[:6], b=number[6:], x=number)
    assert validate_fnr(typed).normalised == number


def _bad_numbers() -> list[str]:
    number = gen.synthetic_fnrs(1, seed=4)[0]
    future = next(n for i in range(500, 1000)
                  if (n := gen.make_fnr(date.today() + timedelta(days=40), i)))
    h_number = number[:2] + str(int(number[2]) + 4) + number[3:9]
    h_number += gen.check_digits(h_number) or "00"
    fh_number = "8" + number[1:9]
    fh_number += gen.check_digits(fh_number) or "00"
    feb_31 = "310250123"
    feb_31 += gen.check_digits(feb_31) or "00"
    return [
        "", " ", number[:10], number + "1", gen.with_bad_check_digit(number),
        number[:6] + "." + number[6:], number[:6] + "/" + number[6:], number[:5] + "x" + number[6:],
        "".join(chr(0xFF10 + int(d)) for d in number),  # full-width digits
        "\u0661" * 11,  # Arabic-Indic digits
        number[:6] + "\n" + number[6:], number[:6] + "\t" + number[6:], number + "\x00",
        future, h_number, fh_number, feb_31, "00000000000",
    ]


@pytest.mark.parametrize("value", _bad_numbers())
def test_refused_numbers(value: str) -> None:
    with pytest.raises(PatientError) as caught:
        validate_fnr(value)
    assert caught.value.code == "invalid_fnr"
    assert value.strip() == "" or value.strip() not in str(caught.value)


@pytest.mark.parametrize("value", [None, 12345678901, b"01010112345"])
def test_refused_types(value: object) -> None:
    with pytest.raises(PatientError):
        validate_fnr(value)


def test_names() -> None:
    assert validate_name("  Åse Ødegård  ") == "Åse Ødegård"
    assert validate_name("A" * 200) == "A" * 200
    assert validate_name("A\u030a") == "\u00c5"  # NFC
    for bad in ["", "   ", "A" * 201, "Kari\nNordmann", "Kari\tN", "Kari\x00", "Kari\u202eN",
                "Kari\u2028N", "Kari\u200bN", "Kari\ue000", None, 5]:
        with pytest.raises(PatientError) as caught:
            validate_name(bad)
        assert caught.value.code == "bad_name"


# ----------------------------------------------------------------- register and open


def test_register_then_open(clinic: Clinic) -> None:
    number = next(n for i in range(124, 500, 2) if (n := gen.make_fnr(date(1950, 6, 15), i)))
    nurse = clinic.people["nurse-a"]
    new = patients.register(clinic.db, clinic.keyring, nurse, fnr=gen.spaced(number),
                            name=" Magnhild Fjellheim ", unit_id=clinic.units["home-a"])
    assert patients.canonical_uuid(new) == new
    with clinic.db.write() as session:
        record = patients.open_patient(session, clinic.keyring, nurse, new,
                                       today=date(2026, 6, 14))
    assert (record.uuid, record.fnr, record.name, record.birth_date, record.sex,
            record.age, record.unit_id) == (
        new, number, "Magnhild Fjellheim", date(1950, 6, 15), "female", 75,
        clinic.units["home-a"])
    assert number not in repr(record) and "Magnhild" not in repr(record)
    with clinic.db.write() as session:
        assert patients.open_patient(session, clinic.keyring, nurse, new,
                                     today=date(2026, 6, 15)).age == 76
    rows = log_rows(clinic)
    assert [(r.action, r.purpose, r.outcome) for r in rows] == [
        ("patient_register", "registration", "ok"), ("patient_view", "care", "ok"),
        ("patient_view", "care", "ok")]
    assert {r.patient_pseudonym for r in rows} == {pseudonym(clinic.keyring, new)}
    assert {(r.staff_id, r.role, r.unit_id) for r in rows} == {
        (nurse.id, "nurse", clinic.units["home-a"])}
    # nothing in clear in the row
    session = clinic.db.read_session()
    try:
        raw = session.execute(text("SELECT * FROM patients")).one()
    finally:
        session.close()
    flat = b"".join(v if isinstance(v, bytes) else str(v).encode() for v in raw)
    for needle in (number, gen.spaced(number), "Magnhild", "1950-06-15", "female"):
        assert needle.encode() not in flat


def test_register_refusals_store_nothing(clinic: Clinic) -> None:
    number = gen.synthetic_fnrs(1, seed=5)[0]
    actor = nurse_actor(clinic)
    first = patients.register(clinic.db, clinic.keyring, actor, fnr=number, name="Oddveig Lyngdal",
                              unit_id=clinic.units["home-a"])
    before = (count(clinic, Patient), count(clinic, AccessLogEntry))
    cases = [
        (dict(fnr=gen.spaced(number), name="Another Name", unit_id=clinic.units["home-b"]),
         "duplicate_fnr"),
        (dict(fnr=number[:6] + "-" + number[6:], name="X Y", unit_id=clinic.units["home-a"]),
         "duplicate_fnr"),
        (dict(fnr=gen.with_bad_check_digit(number), name="X Y", unit_id=clinic.units["home-a"]),
         "invalid_fnr"),
        (dict(fnr=gen.synthetic_fnrs(2, seed=5)[1], name="  ", unit_id=clinic.units["home-a"]),
         "bad_name"),
        (dict(fnr=gen.synthetic_fnrs(2, seed=5)[1], name="X Y", unit_id=999_999), "unknown_unit"),
    ]
    for kwargs, code in cases:
        with pytest.raises(PatientError) as caught:
            patients.register(clinic.db, clinic.keyring, actor, **kwargs)  # type: ignore[arg-type]
        assert caught.value.code == code
        assert str(caught.value) == code  # the message carries no value
    assert (count(clinic, Patient), count(clinic, AccessLogEntry)) == before
    with clinic.db.write() as session:
        session.execute(text("UPDATE units SET active = :f WHERE code = 'home-b'"), {"f": False})
    with pytest.raises(PatientError) as caught:
        patients.register(clinic.db, clinic.keyring, actor, fnr=gen.synthetic_fnrs(2, seed=5)[1],
                          name="X Y", unit_id=clinic.units["home-b"])
    assert caught.value.code == "unknown_unit"
    assert first


def test_a_clinician_registers_only_in_her_units(clinic: Clinic) -> None:
    number = gen.synthetic_fnrs(1, seed=6)[0]
    with pytest.raises(AccessDenied):
        patients.register(clinic.db, clinic.keyring, clinic.people["nurse-a"], fnr=number,
                          name="Ragnvald Kvernvik", unit_id=clinic.units["home-b"])
    with pytest.raises(AccessDenied):
        patients.register(clinic.db, clinic.keyring, clinic.people["admin"], fnr=number,
                          name="Ragnvald Kvernvik", unit_id=clinic.units["home-a"])
    assert count(clinic, Patient) == 0


def test_concurrent_registrations_of_one_number_store_one(clinic: Clinic) -> None:
    number = gen.synthetic_fnrs(1, seed=8)[0]
    barrier = threading.Barrier(6)
    outcomes: list[str] = []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            patients.register(clinic.db, clinic.keyring, nurse_actor(clinic), fnr=number,
                              name=f"Racer {chr(65 + i)}", unit_id=clinic.units["home-a"])
            outcomes.append("ok")
        except PatientError as err:
            outcomes.append(err.code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["duplicate_fnr"] * 5 + ["ok"]
    assert count(clinic, Patient) == 1


def test_open_patient_refusals(clinic: Clinic) -> None:
    new = register_many(clinic, 1)[0].uuid
    nurse_b = clinic.people["nurse-b"]
    for bad in ["", "not-a-uuid", new[:-1], new + "0", "00000000-0000-4000-8000-000000000000"]:
        with clinic.db.write() as session, pytest.raises(PatientError) as caught:
            patients.open_patient(session, clinic.keyring, clinic.people["nurse-a"], bad)
        assert caught.value.code == "not_found"
    # uppercase is the same uuid
    with clinic.db.write() as session:
        assert patients.open_patient(session, clinic.keyring, clinic.people["nurse-a"],
                                     new.upper()).uuid == new
    # no care relationship: the refusal is logged although the caller's block fails, and
    # nothing the caller meant to write after opening is written
    for who in (nurse_b, clinic.people["analyst"], clinic.people["admin"]):
        with pytest.raises(AccessDenied):
            with clinic.db.write() as session:
                patients.open_patient(session, clinic.keyring, who, new)
                session.add(Unit(code=f"sneaky-{who.username}", name="x", kind="home_care"))
    rows = log_rows(clinic)
    denied = [r for r in rows if r.action == "access_denied"]
    assert [(r.staff_id, r.outcome, r.purpose) for r in denied] == [
        (p.id, "denied", "care")
        for p in (nurse_b, clinic.people["analyst"], clinic.people["admin"])]
    assert {r.patient_pseudonym for r in denied} == {pseudonym(clinic.keyring, new)}
    session = clinic.db.read_session()
    try:
        assert session.scalar(select(Unit.id).where(Unit.code.like("sneaky-%"))) is None
        verdict = access_log.verify(session, clinic.keyring)
    finally:
        session.close()
    assert verdict.ok, verdict


def test_open_patient_needs_a_write_transaction(clinic: Clinic) -> None:
    new = register_many(clinic, 1)[0].uuid
    session = clinic.db.read_session()
    try:
        with pytest.raises(RuntimeError):
            patients.open_patient(session, clinic.keyring, clinic.people["nurse-a"], new)
    finally:
        session.close()


def test_find_by_fnr_logs_each_search(clinic: Clinic) -> None:
    registered = register_many(clinic, 3)
    nurse_a, nurse_b = clinic.people["nurse-a"], clinic.people["nurse-b"]
    target = registered[1]
    assert patient_search.find_by_fnr(clinic.db, clinic.keyring, nurse_a, gen.spaced(target.fnr)) \
        == target.uuid
    assert patient_search.find_by_fnr(clinic.db, clinic.keyring, nurse_b, target.fnr) is None
    unknown = next(n for n in gen.synthetic_fnrs(10, seed=99)
                   if n not in {r.fnr for r in registered})
    assert patient_search.find_by_fnr(clinic.db, clinic.keyring, nurse_a, unknown) is None
    before = len(log_rows(clinic))
    with pytest.raises(PatientError):
        patient_search.find_by_fnr(clinic.db, clinic.keyring, nurse_a, "123")
    searches = [r for r in log_rows(clinic) if r.action == "patient_search"]
    assert len(log_rows(clinic)) == before
    mark = pseudonym(clinic.keyring, target.uuid)
    assert [(r.staff_id, r.patient_pseudonym, r.outcome) for r in searches] == [
        (nurse_a.id, mark, "ok"), (nurse_b.id, mark, "denied"), (nurse_a.id, None, "ok")]


def test_blind_index_finds_1000_of_1000(clinic: Clinic) -> None:
    registered = register_many(clinic, 1000, seed=31)
    nurse = clinic.people["nurse-a"]
    rng = random.Random(5)
    found = 0
    for item in registered:
        typed = item.fnr if rng.random() < 0.5 else gen.spaced(item.fnr)
        if patient_search.find_by_fnr(clinic.db, clinic.keyring, nurse, typed) == item.uuid:
            found += 1
    assert found == 1000
    # each opens to its own number and name
    with clinic.db.write() as session:
        for item in rng.sample(registered, 50):
            record = patients.open_patient(session, clinic.keyring, nurse, item.uuid)
            assert (record.fnr, record.name) == (item.fnr, item.name)


def test_blind_index_depends_on_the_key(clinic: Clinic, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The stored index is a keyed hash: another key file gives other values, and no
    unkeyed hash of the number is stored."""
    import hashlib

    from screening.crypto.keys import init_key_file

    item = register_many(clinic, 1)[0]
    other = init_key_file(tmp_path / "other-keys.json")
    session = clinic.db.read_session()
    try:
        stored = session.scalar(select(Patient.fnr_index))
    finally:
        session.close()
    from screening.crypto.hashing import blind_index

    assert stored == blind_index(clinic.keyring, item.fnr)
    assert stored != blind_index(other, item.fnr)
    for algorithm in ("sha256", "sha1", "md5", "sha512", "blake2b"):
        assert hashlib.new(algorithm, item.fnr.encode()).digest()[:32] != stored


def test_undecryptable_page_shows_no_ciphertext(app, clinic: Clinic) -> None:  # type: ignore[no-untyped-def]
    """The web handler: status 500, a clear message, no stored bytes; the event is logged."""
    import base64

    from screening.models.sealing import Undecryptable
    from tests.app.staffing import login

    item = register_many(clinic, 1)[0]
    with clinic.db.write() as session:
        blob = session.execute(text("SELECT name_sealed FROM patients")).scalar_one()
        damaged = blob[:-1] + bytes([blob[-1] ^ 1])
        session.execute(text("UPDATE patients SET name_sealed = :b"), {"b": damaged})

    def boom():  # type: ignore[no-untyped-def]
        from flask import g

        with clinic.db.write() as session:
            patients.open_patient(session, clinic.keyring, g.staff, item.uuid)
        return "opened"

    app.add_url_rule("/_test/undecryptable", "test_undecryptable", boom)
    client = app.test_client()
    from tests.app.staffing import Person

    person = Person("nurse-a", "nurse", "", clinic.people["nurse-a"].id)
    session = clinic.db.read_session()
    try:
        from screening.models import Staff
        from screening.services.accounts import totp_secret

        staff = session.scalar(select(Staff).where(Staff.username == "nurse-a"))
        secret = totp_secret(clinic.keyring, staff)
    finally:
        session.close()
    assert secret is not None
    login(client, Person(person.username, person.role, secret, person.id))
    response = client.get("/_test/undecryptable")
    page = response.get_data()
    assert response.status_code == 500
    assert b"could not be opened" in page or b"kunne ikke" in page
    for shown in (damaged, damaged.hex().encode(), base64.b64encode(damaged),
                  damaged[5:20], damaged[5:20].hex().encode()):
        assert shown not in page
    assert item.name.encode() not in page and item.fnr.encode() not in page
    rows = [r for r in log_rows(clinic) if r.action == "undecryptable"]
    assert [(r.outcome, r.patient_pseudonym) for r in rows] == [
        ("error", pseudonym(clinic.keyring, item.uuid))]
    assert issubclass(Undecryptable, RuntimeError)
