"""Administration pages and break-the-glass: staff accounts, units, membership, review.
Administrators see no patient data."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from screening.crypto.hashing import pseudonym
from screening.models import (
    AccessLogEntry,
    BreakGlass,
    Membership,
    Patient,
    Staff,
    StaffSession,
    Unit,
)
from screening.models.base import utcnow
from screening.services import care
from screening.services.accounts import resume, set_locale
from tests.app.staffing import PASSWORD, login, make_patient, make_staff, make_units, sign_in
from tests.conftest import csrf_from


def _db(app):  # type: ignore[no-untyped-def]
    return app.extensions["screening.db"]


def _scalar(app, statement):  # type: ignore[no-untyped-def]
    session = _db(app).read_session()
    try:
        return session.scalar(statement)
    finally:
        session.close()


@pytest.fixture
def admin_client(app):  # type: ignore[no-untyped-def]
    make_units(app)
    admin = make_staff(app, "boss", "admin")
    # English, so that these tests do not depend on the state of the bokmål catalogue
    set_locale(_db(app), admin.id, "en")
    client = app.test_client()
    sign_in(app, client, admin)
    client.admin = admin  # type: ignore[attr-defined]
    return client


def post_form(client, page: str, action: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def staff_uuid(app, username: str) -> str:  # type: ignore[no-untyped-def]
    return _scalar(app, select(Staff.uuid).where(Staff.username == username))  # type: ignore[no-any-return]


# ----------------------------------------------------------------------------- pages


def test_staff_list_shows_accounts_roles_units_and_second_factor(app, admin_client) -> None:
    make_staff(app, "nurse1", "nurse", ("home-a", "home-b"))
    make_staff(app, "fresh", "gp", ("gp-a",), enrolled=False)
    html = admin_client.get("/admin/").get_data(as_text=True)
    assert "nurse1" in html and "home-a, home-b" in html and "nurse" in html
    assert "<td>not set up</td>" in html  # fresh has no second factor yet
    assert 'href="/admin/"' in admin_client.get("/").get_data(as_text=True)  # nav link


def test_nav_link_only_for_administrators(app) -> None:
    make_units(app)
    nurse = make_staff(app, "nurse1", "nurse", ("home-a",))
    client = app.test_client()
    sign_in(app, client, nurse)
    assert "/admin/" not in client.get("/").get_data(as_text=True)


def test_create_staff_with_clear_messages_and_nothing_stored_on_bad_input(app,
                                                                          admin_client) -> None:
    units = {code: _scalar(app, select(Unit.id).where(Unit.code == code))
             for code in ("home-a", "sub")}
    good = {"username": "Kari.N", "display_name": "Kari Nordmann", "role": "nurse",
            "units": [units["home-a"], units["sub"]], "hpr_number": "1234567",
            "password": "Lang-og-sjelden-frase-7", "confirm": "Lang-og-sjelden-frase-7"}
    bad_cases = [
        ({"password": "short", "confirm": "short"}, "at least 12 characters"),
        ({"password": "password123456", "confirm": "password123456"}, "too common"),
        ({"password": "Kari.n-sitt-passord", "confirm": "Kari.n-sitt-passord"},
         "must not contain the username"),
        ({"confirm": "Noe-helt-annet-123"}, "not the same"),
        ({"username": "kari nordmann"}, "letters a-z"),
        ({"username": ""}, "This field is required"),
        ({"hpr_number": "12ab"}, "6 to 9 digits"),
        ({"role": "superuser"}, "Not a valid choice"),
        ({"units": [999999]}, "is not a valid choice"),
    ]
    staff_before = _scalar(app, select(func.count()).select_from(Staff))
    for change, message in bad_cases:
        response = post_form(admin_client, "/admin/staff/new", "/admin/staff/new",
                             {**good, **change})
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and message in html, (change, message)
        assert 'class="error"' in html
    assert _scalar(app, select(func.count()).select_from(Staff)) == staff_before
    response = post_form(admin_client, "/admin/staff/new", "/admin/staff/new", good)
    assert response.status_code == 302
    assert "kari.n" in admin_client.get("/admin/").get_data(as_text=True)
    kari_id = _scalar(app, select(Staff.id).where(Staff.username == "kari.n"))
    assert _scalar(app, select(func.count()).select_from(Membership)
                   .where(Membership.staff_id == kari_id)) == 2
    taken = post_form(admin_client, "/admin/staff/new", "/admin/staff/new", good)
    assert "already taken" in taken.get_data(as_text=True)
    # the new account logs in and is sent to set up its second factor
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    first = client.post("/login", data={"csrf_token": token, "username": "kari.n",
                                        "password": good["password"], "code": ""})
    assert first.headers["Location"] == "/login/enrol"


def test_pages_and_messages_in_bokmal_by_default(app, admin_client) -> None:
    set_locale(_db(app), admin_client.admin.id, "nb")
    html = admin_client.get("/admin/staff/new").get_data(as_text=True)
    assert '<html lang="nb">' in html and "Brukernavn" in html and "Ny konto" in html
    response = post_form(admin_client, "/admin/staff/new", "/admin/staff/new",
                         {"username": "x", "display_name": "X", "role": "nurse",
                          "password": "short", "confirm": "short"})
    assert "Passordet må ha minst 12 tegn." in response.get_data(as_text=True)
    assert "Administrasjon" in admin_client.get("/admin/").get_data(as_text=True)


def test_disable_ends_sessions_and_own_account_is_refused(app, admin_client) -> None:
    nurse = make_staff(app, "nurse1", "nurse", ("home-a",))
    nurse_client = app.test_client()
    sign_in(app, nurse_client, nurse)
    assert nurse_client.get("/").status_code == 200
    page = f"/admin/staff/{staff_uuid(app, 'nurse1')}"
    response = post_form(admin_client, page, page + "/disable", {})
    assert response.status_code == 302
    assert "<dd>disabled</dd>" in admin_client.get(page).get_data(as_text=True)
    assert nurse_client.get("/").status_code == 302
    assert login(app.test_client(), nurse).status_code == 200  # cannot log in again
    own = f"/admin/staff/{staff_uuid(app, 'boss')}"
    response = post_form(admin_client, own, own + "/disable", {})
    assert "your own account" in admin_client.get(own).get_data(as_text=True)
    assert _scalar(app, select(Staff.active).where(Staff.username == "boss")) is True


def test_reset_second_factor(app, admin_client) -> None:
    make_staff(app, "nurse1", "nurse", ("home-a",))
    page = f"/admin/staff/{staff_uuid(app, 'nurse1')}"
    post_form(admin_client, page, page + "/reset-2fa", {})
    assert _scalar(app, select(Staff.totp_enrolled).where(Staff.username == "nurse1")) is False
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"csrf_token": token, "username": "nurse1",
                                           "password": PASSWORD, "code": ""})
    assert response.headers["Location"] == "/login/enrol"


def test_units_and_membership(app, admin_client) -> None:
    make_staff(app, "nurse1", "nurse", ("home-a",))
    bad = post_form(admin_client, "/admin/units", "/admin/units",
                    {"code": "Home C", "name": "Home care C", "kind": "home_care"})
    assert "lower-case letters" in bad.get_data(as_text=True)
    taken = post_form(admin_client, "/admin/units", "/admin/units",
                      {"code": "home-a", "name": "Again", "kind": "home_care"})
    assert "already exists" in taken.get_data(as_text=True)
    ok = post_form(admin_client, "/admin/units", "/admin/units",
                   {"code": "home-c", "name": "Home care C", "kind": "home_care"})
    assert ok.status_code == 302
    assert "Home care C" in admin_client.get("/admin/units").get_data(as_text=True)
    home_c = _scalar(app, select(Unit.id).where(Unit.code == "home-c"))
    page = f"/admin/staff/{staff_uuid(app, 'nurse1')}"
    post_form(admin_client, page, page + "/units", {"unit": home_c})
    nurse_id = _scalar(app, select(Staff.id).where(Staff.username == "nurse1"))
    assert _scalar(app, select(func.count()).select_from(Membership)
                   .where(Membership.staff_id == nurse_id)) == 2
    post_form(admin_client, page, f"{page}/units/{home_c}/remove", {})
    assert _scalar(app, select(func.count()).select_from(Membership)
                   .where(Membership.staff_id == nurse_id)) == 1
    again = post_form(admin_client, page, f"{page}/units/{home_c}/remove", {})
    assert again.status_code == 302
    assert "not a member" in admin_client.get(page).get_data(as_text=True)


def test_unknown_staff_or_grant_is_404(app, admin_client) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    assert admin_client.get(f"/admin/staff/{missing}").status_code == 404
    assert admin_client.get("/admin/staff/not-a-uuid").status_code == 404
    token = csrf_from(admin_client.get("/admin/").get_data(as_text=True))
    assert admin_client.post(f"/admin/staff/{missing}/disable",
                             data={"csrf_token": token}).status_code == 404
    assert admin_client.post(f"/admin/break-glass/{missing}/reviewed",
                             data={"csrf_token": token}).status_code == 404


# ----------------------------------------------------------------------------- break-the-glass


class User:
    def __init__(self, person, units: frozenset[int] = frozenset()) -> None:  # type: ignore[no-untyped-def]
        self.id, self.role, self.unit_ids = person.id, person.role, units


REASON = "Akutt fall hjemme, fastlegen er ikke tilgjengelig; trenger legemiddellisten"


def test_break_glass_grants_access_for_at_most_24_hours_and_logs_it(app) -> None:
    make_units(app)
    nurse = make_staff(app, "nurse2", "nurse", ("home-b",))
    patient_uuid = make_patient(app, "home-a", name="Kari Pasient", fnr="01010012356")
    keyring, db = app.extensions["screening.keys"], _db(app)
    user = User(nurse)
    session = db.read_session()
    patient = session.scalar(select(Patient).where(Patient.uuid == patient_uuid))
    assert care.grant_for(session, user, patient) is None
    session.close()
    now = utcnow()
    grant = care.break_glass(db, keyring, user, patient_uuid, REASON, now=now)
    assert grant.expires_at == now + timedelta(hours=24)
    session = db.read_session()
    patient = session.scalar(select(Patient).where(Patient.uuid == patient_uuid))
    within = care.grant_for(session, user, patient, now=now + timedelta(hours=23))
    assert within is not None and within.purpose == "break_glass"
    assert care.grant_for(session, user, patient, now=now + timedelta(hours=24, seconds=1)) is None
    entry = session.scalar(select(AccessLogEntry).order_by(AccessLogEntry.id.desc()))
    stored = session.scalar(select(BreakGlass.reason_sealed))
    session.close()
    assert (entry.action, entry.purpose, entry.outcome, entry.staff_id) == (
        "break_glass", "break_glass", "ok", nurse.id)
    assert entry.patient_pseudonym == pseudonym(keyring, patient_uuid)
    assert REASON.encode() not in stored and b"legemiddel" not in stored  # sealed


@pytest.mark.parametrize("reason, hours, code", [
    ("too short", 24, "reason_too_short"),
    ("         padded         ", 24, "reason_too_short"),
    ("x" * 501, 24, "reason_too_long"),
    (REASON, 25, "bad_hours"),
    (REASON, 0, "bad_hours"),
])
def test_break_glass_refuses_bad_requests_and_stores_nothing(app, reason: str, hours: int,
                                                             code: str) -> None:
    make_units(app)
    nurse = make_staff(app, "nurse2", "nurse", ("home-b",))
    patient_uuid = make_patient(app)
    with pytest.raises(care.CareError) as caught:
        care.break_glass(_db(app), app.extensions["screening.keys"], User(nurse), patient_uuid,
                         reason, hours=hours)
    assert caught.value.code == code
    assert _scalar(app, select(func.count()).select_from(BreakGlass)) == 0
    assert _scalar(app, select(func.count()).select_from(AccessLogEntry)) == 0


def test_break_glass_only_for_clinicians_and_known_patients(app) -> None:
    make_units(app)
    keyring, db = app.extensions["screening.keys"], _db(app)
    patient_uuid = make_patient(app)
    for role in ("analyst", "admin"):
        person = make_staff(app, f"x{role}", role)
        with pytest.raises(care.CareError, match="not_clinician"):
            care.break_glass(db, keyring, User(person), patient_uuid, REASON)
    gp = make_staff(app, "gp1", "gp", ("gp-a",))
    with pytest.raises(care.CareError, match="unknown_patient"):
        care.break_glass(db, keyring, User(gp), "00000000-0000-4000-8000-000000000000", REASON)
    assert _scalar(app, select(func.count()).select_from(BreakGlass)) == 0


def test_break_glass_on_an_unreadable_patient_key_logs_the_failure_and_grants_nothing(app) -> None:
    make_units(app)
    gp = make_staff(app, "gp1", "gp", ("gp-a",))
    patient_uuid = make_patient(app)
    with _db(app).write() as session:
        patient = session.scalar(select(Patient).where(Patient.uuid == patient_uuid))
        wrapped = patient.data_key_wrapped
        patient.data_key_wrapped = wrapped[:-1] + bytes([wrapped[-1] ^ 1])
    with pytest.raises(care.CareError, match="undecryptable"):
        care.break_glass(_db(app), app.extensions["screening.keys"], User(gp), patient_uuid, REASON)
    assert _scalar(app, select(func.count()).select_from(BreakGlass)) == 0
    entry = _scalar(app, select(AccessLogEntry))
    assert (entry.action, entry.outcome) == ("undecryptable", "error")


def test_review_list_shows_staff_times_and_reason_but_no_patient(app, admin_client) -> None:
    nurse = make_staff(app, "nurse2", "nurse", ("home-b",))
    fnr, name = "01010012356", "Kari Pasientsen"
    patient_uuid = make_patient(app, "home-a", fnr=fnr, name=name)
    care.break_glass(_db(app), app.extensions["screening.keys"], User(nurse), patient_uuid,
                     REASON, hours=4)
    html = admin_client.get("/admin/break-glass").get_data(as_text=True)
    assert "Nurse2 (nurse2" in html and REASON in html and "still active" in html
    for identifier in (fnr, name, patient_uuid, "home-a"):
        assert identifier not in html
    grant_uuid = _scalar(app, select(BreakGlass.uuid))
    response = post_form(admin_client, "/admin/break-glass",
                         f"/admin/break-glass/{grant_uuid}/reviewed", {})
    assert response.status_code == 302
    html = admin_client.get("/admin/break-glass").get_data(as_text=True)
    assert REASON not in html and "Nothing awaits review" in html
    reviewed = _scalar(app, select(BreakGlass.reviewed_by))
    assert reviewed == admin_client.admin.id
    again = post_form(admin_client, "/admin/break-glass",
                      f"/admin/break-glass/{grant_uuid}/reviewed", {})
    assert again.status_code == 302
    assert "already been reviewed" in admin_client.get("/admin/break-glass").get_data(as_text=True)


def test_mark_reviewed_is_for_administrators_only(app) -> None:
    make_units(app)
    nurse = make_staff(app, "nurse2", "nurse", ("home-b",))
    with pytest.raises(care.CareError, match="not_admin"):
        care.mark_reviewed(_db(app), User(nurse), "00000000-0000-4000-8000-000000000000")


def test_sessions_of_a_disabled_account_stay_ended(app, admin_client) -> None:
    nurse = make_staff(app, "nurse1", "nurse", ("home-a",))
    client = app.test_client()
    token = sign_in(app, client, nurse)
    page = f"/admin/staff/{staff_uuid(app, 'nurse1')}"
    post_form(admin_client, page, page + "/disable", {})
    assert _scalar(app, select(func.count()).select_from(StaffSession)
                   .where(StaffSession.staff_id == nurse.id, StaffSession.ended_at.is_(None))) == 0
    assert resume(_db(app), token, timedelta(minutes=30), timedelta(hours=12)) is None
