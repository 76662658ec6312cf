"""Login with password and TOTP, enrolment, session rules, throttling."""

from __future__ import annotations

from datetime import timedelta

import pyotp

from screening.models.base import utcnow
from screening.services import accounts
from tests.app.staffing import PASSWORD, logged_in_name, login, make_staff, make_units, next_code
from tests.conftest import csrf_from


def test_login_with_password_and_code(app, client) -> None:
    make_units(app)
    nurse = make_staff(app, "nurse1", "nurse", ("home-a",))
    old_cookie = client.get("/login").headers.get("Set-Cookie")
    response = login(client, nurse)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    html = client.get("/").get_data(as_text=True)
    assert logged_in_name(html) == "Nurse1 (sykepleier)"
    assert old_cookie is None or client.get_cookie("screening_session").value not in old_cookie


def test_wrong_password_or_code_refused(app, client) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    assert "Feil brukernavn" in login(client, nurse, password="Wrong-password-123").get_data(
        as_text=True
    )
    assert "Feil brukernavn" in login(
        client, nurse, code="000000" if next_code(nurse.secret) != "000000" else "111111"
    ).get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_code_accepted_at_most_once(app) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    code = next_code(nurse.secret)
    first, second = app.test_client(), app.test_client()
    assert login(first, nurse, code=code).status_code == 302
    assert login(second, nurse, code=code).status_code == 200  # replay refused
    assert second.get("/").status_code == 302


def test_code_outside_one_step_refused(app, client) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    for offset in (-3, -2, 2, 3):
        code = next_code(nurse.secret, offset)
        if code in {next_code(nurse.secret, o) for o in (-1, 0, 1)}:
            continue
        assert login(client, nurse, code=code).status_code == 200
    assert login(client, nurse, code=next_code(nurse.secret, -1)).status_code == 302


def test_sixth_failure_within_a_minute_refused_even_with_right_password(app) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    other = make_staff(app, "nurse2", "nurse")
    for _ in range(5):
        login(app.test_client(), nurse, password="Wrong-password-123")
    response = login(app.test_client(), nurse)
    assert response.status_code == 200
    assert "For mange" in response.get_data(as_text=True)
    assert login(app.test_client(), other).status_code == 302  # other accounts unaffected


def test_enrolment_at_first_login(app, client) -> None:
    nurse = make_staff(app, "fresh", "nurse", enrolled=False)
    response = login(client, nurse, code="")
    assert response.headers["Location"] == "/login/enrol"
    assert client.get("/").headers["Location"] == "/login/enrol"
    page = client.get("/login/enrol").get_data(as_text=True)
    assert "<svg" in page
    secret = page.split('<code class="secret">')[1].split("<")[0]
    assert (
        secret
        == client.get("/login/enrol")
        .get_data(as_text=True)
        .split('<code class="secret">')[1]
        .split("<")[0]
    )
    response = client.post(
        "/login/enrol", data={"csrf_token": csrf_from(page), "code": pyotp.TOTP(secret).now()}
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_idle_and_absolute_timeouts(app) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    db = app.extensions["screening.db"]
    outcome = accounts.login(
        db,
        app.extensions["screening.keys"],
        app.extensions["screening.hasher"],
        username="nurse1",
        password=PASSWORD,
        code=next_code(nurse.secret),
        address="127.0.0.1",
    )
    assert outcome.status == "ok" and outcome.token
    now = utcnow()
    idle, absolute = timedelta(minutes=30), timedelta(hours=12)
    assert accounts.resume(db, outcome.token, idle, absolute, now) is not None
    assert accounts.resume(db, outcome.token, idle, absolute, now + timedelta(minutes=31)) is None
    # once ended, it stays ended
    assert accounts.resume(db, outcome.token, idle, absolute, now) is None


def test_absolute_timeout_despite_activity(app) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    db = app.extensions["screening.db"]
    start = utcnow()
    outcome = accounts.login(
        db,
        app.extensions["screening.keys"],
        app.extensions["screening.hasher"],
        username="nurse1",
        password=PASSWORD,
        code=next_code(nurse.secret),
        address="127.0.0.1",
        now=start,
    )
    assert outcome.token
    idle, absolute = timedelta(minutes=30), timedelta(hours=12)
    t = start
    while t < start + timedelta(hours=11, minutes=50):
        t += timedelta(minutes=20)
        assert accounts.resume(db, outcome.token, idle, absolute, t) is not None
    assert (
        accounts.resume(db, outcome.token, idle, absolute, start + timedelta(hours=12, minutes=1))
        is None
    )


def test_disabling_ends_every_session(app) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    first, second = app.test_client(), app.test_client()
    login(first, nurse)
    login(second, nurse, code=next_code(nurse.secret, 1))
    assert first.get("/").status_code == 200 and second.get("/").status_code == 200
    accounts.disable(app.extensions["screening.db"], "nurse1")
    assert first.get("/").status_code == 302 and second.get("/").status_code == 302


def test_logout(app, client) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    login(client, nurse)
    html = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(html)})
    assert client.get("/").status_code == 302


def test_session_cookie_flags(app, client) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    response = login(client, nurse)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "nurse1" not in cookie


def test_session_cookie_outlives_the_absolute_limit_by_a_day_not_resigned(app, client) -> None:
    """The cookie is set at login to expire a day after the server's absolute limit (12 h by
    default), so that a form sent after the session ended still shows whose it was and is
    kept for her (web.parking; the server refuses the session itself, see
    test_absolute_timeout_despite_activity); it is not signed again on every page."""
    from email.utils import parsedate_to_datetime

    nurse = make_staff(app, "nurse1", "nurse")
    before = utcnow()
    cookie = login(client, nurse).headers["Set-Cookie"]
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    limit = before + timedelta(hours=app.extensions["screening.settings"].session_max_hours + 24)
    assert abs((expires - limit).total_seconds()) < 60
    assert client.get("/").status_code == 200
    assert "Set-Cookie" not in client.get("/").headers


def _sid(client) -> str | None:  # type: ignore[no-untyped-def]
    with client.session_transaction() as cookie:
        return cookie.get("sid")


def test_every_login_gets_a_new_session_and_the_old_one_stays_dead(app, client) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    db = app.extensions["screening.db"]
    login(client, nurse)
    first = _sid(client)
    html = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(html)})
    assert _sid(client) is None
    login(client, nurse, code=next_code(nurse.secret, 1))
    second = _sid(client)
    assert first and second and first != second
    idle, absolute = timedelta(minutes=30), timedelta(hours=12)
    assert accounts.resume(db, first, idle, absolute) is None
    assert accounts.resume(db, second, idle, absolute) is not None


def test_a_session_id_planted_before_login_is_replaced(app, client) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    with client.session_transaction() as cookie:
        cookie["sid"] = "planted-by-someone-else"
    login(client, nurse)
    assert _sid(client) not in (None, "planted-by-someone-else")


def _age_sessions(app, **changes) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from screening.models import StaffSession

    with app.extensions["screening.db"].write() as session:
        session.execute(update(StaffSession).values(**changes))


def test_idle_session_ends_in_the_browser(app, client) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    login(client, nurse)
    _age_sessions(app, last_seen_at=utcnow() - timedelta(minutes=31))
    response = client.get("/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert _sid(client) is None


def test_old_session_ends_even_when_active(app, client) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    login(client, nurse)
    _age_sessions(
        app,
        created_at=utcnow() - timedelta(hours=12, minutes=1),
        last_seen_at=utcnow() - timedelta(minutes=1),
    )
    assert client.get("/").status_code == 302


def test_session_cookie_holds_no_patient_or_account_data(app, client) -> None:
    nurse = make_staff(app, "nurse1", "nurse")
    login(client, nurse)
    client.get("/")
    with client.session_transaction() as cookie:
        assert set(cookie) <= {"sid", "lang", "csrf_token", "_flashes", "_permanent"}
        assert "nurse1" not in repr(dict(cookie))


def test_per_address_limit(app) -> None:
    """Many failures from one address (for any usernames) refuse the next login from it,
    even with the right password and code; other addresses are unaffected."""
    nurse = make_staff(app, "nurse1", "nurse")
    other_nurse = make_staff(app, "nurse2", "nurse")
    crowded, calm = {"REMOTE_ADDR": "10.0.0.1"}, {"REMOTE_ADDR": "10.0.0.2"}
    client = app.test_client()
    token = csrf_from(client.get("/login").get_data(as_text=True))
    for i in range(accounts.ADDRESS_FAILURES_PER_MINUTE):
        response = client.post(
            "/login",
            environ_base=crowded,
            data={
                "csrf_token": token,
                "username": f"guess{i}",
                "password": "Wrong-password-123",
                "code": "123456",
            },
        )
        assert "Feil brukernavn" in response.get_data(as_text=True)
    refused = client.post(
        "/login",
        environ_base=crowded,
        data={
            "csrf_token": token,
            "username": "nurse1",
            "password": PASSWORD,
            "code": next_code(nurse.secret),
        },
    )
    assert refused.status_code == 200 and "For mange" in refused.get_data(as_text=True)
    elsewhere = app.test_client()
    token = csrf_from(elsewhere.get("/login").get_data(as_text=True))
    accepted = elsewhere.post(
        "/login",
        environ_base=calm,
        data={
            "csrf_token": token,
            "username": "nurse2",
            "password": PASSWORD,
            "code": next_code(other_nurse.secret),
        },
    )
    assert accepted.status_code == 302
