"""A form sent after the session ended is never a 400 and never lost (issue 16, point 2):
the answers are kept sealed for their author, she logs in and is back on the form with every
answer as she sent it. Nothing goes into a URL, a log line or a clear-text column."""

from __future__ import annotations

import logging
import random
import re
from datetime import date, timedelta
from urllib.parse import unquote, urlsplit

import pytest
from sqlalchemy import func, select, update

from screening.models import Assessment, ParkedForm, StaffSession
from screening.models.base import utcnow
from screening.services import patients
from tests.app.fnr import random_fnr
from tests.app.staffing import CHECKLIST_NO, PASSWORD, make_staff, make_units, next_code
from tests.app.test_screening_flow import audit_form, register
from tests.conftest import csrf_from

RNG = random.Random(2216)
ANSWERS = {"q1": "3", "q2": "2", "q3": "1", "q4": "0", "q5": "1", "q6": "0", "q7": "2",
           "q8": "0", "q9": "2", "q10": "0"}
VIEW_TEXT = "Synes vinen hjelper mot søvnløsheten"  # a free-text answer (sealed)


@pytest.fixture
def clinic(app):  # type: ignore[no-untyped-def]
    make_units(app)
    return {"nurse": make_staff(app, "nurse.a", "nurse", ("home-a",)),
            "colleague": make_staff(app, "nurse.a2", "nurse", ("home-a",))}


def log_in(client, person, next_path: str = "/", step: int = 0):  # type: ignore[no-untyped-def]
    page = client.get("/login?next=" + next_path).get_data(as_text=True)
    form_next = re.search(r'id="next" name="next" type="hidden" value="([^"]*)"', page)
    return client.post("/login", data={
        "csrf_token": csrf_from(page), "username": person.username, "password": PASSWORD,
        "code": next_code(person.secret, step),
        "next": form_next.group(1) if form_next else next_path})


def expire_sessions(app) -> None:  # type: ignore[no-untyped-def]
    """Every session idle for two hours (the idle limit is 30 minutes)."""
    with app.extensions["screening.db"].write() as session:
        session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=2)))


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    session = app.extensions["screening.db"].read_session()
    try:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        session.close()


def screening_form(client, patient: str, token: str, html: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"csrf_token": csrf_from(html), "submission_token": token, "setting": "home_care",
            "action": "submit", **ANSWERS, **CHECKLIST_NO, "med_fall": "1"}


def checked(html: str) -> dict[str, str]:
    return {name: value for name, value in re.findall(
        r'<input type="radio" name="([^"]+)" value="([^"]+)"[^>]*\n?\s*checked', html)}


def older_patient(client) -> str:  # type: ignore[no-untyped-def]
    fnr = random_fnr(RNG, sex="female", born_from=date(1944, 1, 1), born_to=date(1950, 1, 1))
    return register(client, fnr, "Utløpt Øktesen")


def test_an_expired_session_on_the_screening_form_loses_nothing(app, client, clinic,
                                                                 caplog) -> None:
    caplog.set_level(logging.DEBUG)
    assert log_in(client, clinic["nurse"]).status_code == 302
    patient = older_patient(client)
    html, token = audit_form(client, patient)
    expire_sessions(app)
    sent = client.post(f"/patients/{patient}/screen/audit",
                       data=screening_form(client, patient, token, html))
    # not a 400: to the login page, the form's own address as the way back
    assert sent.status_code == 303
    target = urlsplit(sent.headers["Location"])
    assert target.path == "/login"
    assert unquote(target.query) == f"next=/patients/{patient}/screen/audit"
    assert count(app, Assessment) == 0 and count(app, ParkedForm) == 1
    session = app.extensions["screening.db"].read_session()
    try:
        parked = session.scalar(select(ParkedForm))
        assert b"q1" not in parked.fields_sealed and b"home_care" not in parked.fields_sealed
        assert parked.path == f"/patients/{patient}/screen/audit"
    finally:
        session.close()
    login_page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Svarene dine er tatt vare på" in login_page
    back = log_in(client, clinic["nurse"], f"/patients/{patient}/screen/audit", step=1)
    assert back.status_code == 302 and back.headers["Location"] == (
        f"/patients/{patient}/screen/audit")
    form = client.get(back.headers["Location"]).get_data(as_text=True)
    assert "ingenting er lagret ennå" in form
    assert checked(form) == {**ANSWERS, **CHECKLIST_NO, "med_fall": "1"}
    assert re.search(r'<input checked id="setting-\d" name="setting" type="radio" '
                     r'value="home_care">', form)
    assert f'name="submission_token" type="hidden" value="{token}"' in form
    assert count(app, ParkedForm) == 0  # taken once
    # sent again from there, it is stored once
    stored = client.post(f"/patients/{patient}/screen/audit",
                         data=screening_form(client, patient, token, form))
    assert stored.status_code == 303 and count(app, Assessment) == 1
    # nothing of the answers or the patient in any log line
    for record in caplog.records:
        text = record.getMessage()
        assert "Utløpt" not in text and "med_fall" not in text and "q1=" not in text


def test_a_logout_in_another_tab_then_the_old_form_sent(app, client, clinic) -> None:
    log_in(client, clinic["nurse"])
    patient = older_patient(client)
    html, token = audit_form(client, patient)
    home = client.get("/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_from(home)})  # the other tab
    sent = client.post(f"/patients/{patient}/screen/audit",
                       data=screening_form(client, patient, token, html))
    assert sent.status_code == 303 and "/login" in sent.headers["Location"]
    assert count(app, ParkedForm) == 1
    log_in(client, clinic["nurse"], f"/patients/{patient}/screen/audit", step=1)
    form = client.get(f"/patients/{patient}/screen/audit").get_data(as_text=True)
    assert checked(form)["q9"] == "2"


def test_the_conversation_comes_back_as_it_was_sent(app, client, clinic) -> None:
    log_in(client, clinic["nurse"])
    patient = older_patient(client)
    html, token = audit_form(client, patient)
    done = client.post(f"/patients/{patient}/screen/audit",
                       data=screening_form(client, patient, token, html))
    assessment = done.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/assessments/{assessment}/conversation").get_data(as_text=True)
    expire_sessions(app)
    due = (date.today() + timedelta(days=9)).isoformat()
    sent = client.post(f"/assessments/{assessment}/conversation", data={
        "csrf_token": csrf_from(page), "version": "", "feedback.given": "on",
        "patient_view.pros": VIEW_TEXT, "goal.type": "reduce", "goal.units_per_week": "6",
        "follow_up.date": due, "follow_up.by": "elder_care", "follow_up.mode": "phone"})
    assert sent.status_code == 303 and "/login" in sent.headers["Location"]
    log_in(client, clinic["nurse"], f"/assessments/{assessment}/conversation", step=1)
    again = client.get(f"/assessments/{assessment}/conversation").get_data(as_text=True)
    assert VIEW_TEXT in again and 'value="6"' in again and due in again


def test_another_user_on_the_same_browser_gets_nothing(app, client, clinic) -> None:
    log_in(client, clinic["nurse"])
    patient = older_patient(client)
    html, token = audit_form(client, patient)
    expire_sessions(app)
    client.post(f"/patients/{patient}/screen/audit",
                data=screening_form(client, patient, token, html))
    assert count(app, ParkedForm) == 1
    log_in(client, clinic["colleague"], f"/patients/{patient}/screen/audit")
    form = client.get(f"/patients/{patient}/screen/audit").get_data(as_text=True)
    assert "q9" not in checked(form)
    assert count(app, ParkedForm) == 0  # deleted unopened


def test_a_form_from_nowhere_is_not_kept(app, client, clinic) -> None:
    """No session cookie at all (another browser, or a forged post): the login page, nothing
    kept; a session cookie with a wrong CSRF token: the same."""
    log_in(client, clinic["nurse"])
    patient = older_patient(client)
    html, token = audit_form(client, patient)
    stranger = app.test_client()
    sent = stranger.post(f"/patients/{patient}/screen/audit",
                         data=screening_form(stranger, patient, token, html))
    assert sent.status_code == 303 and "/login" in sent.headers["Location"]
    expire_sessions(app)
    forged = {**screening_form(client, patient, token, html), "csrf_token": "forged"}
    sent = client.post(f"/patients/{patient}/screen/audit", data=forged)
    assert sent.status_code == 303 and "/login" in sent.headers["Location"]
    assert count(app, ParkedForm) == 0


def test_erasing_the_patient_erases_a_parked_form(app, client, clinic) -> None:
    log_in(client, clinic["nurse"])
    patient = older_patient(client)
    html, token = audit_form(client, patient)
    expire_sessions(app)
    client.post(f"/patients/{patient}/screen/audit",
                data=screening_form(client, patient, token, html))
    assert count(app, ParkedForm) == 1
    patients.erase(app.extensions["screening.db"], app.extensions["screening.keys"], patient)
    assert count(app, ParkedForm) == 0


def test_a_follow_up_outcome_comes_back_as_it_was_sent(app, client, clinic) -> None:
    log_in(client, clinic["nurse"])
    patient = older_patient(client)
    html, token = audit_form(client, patient)
    done = client.post(f"/patients/{patient}/screen/audit",
                       data=screening_form(client, patient, token, html))
    assessment = done.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/assessments/{assessment}/conversation").get_data(as_text=True)
    due = (date.today() + timedelta(days=3)).isoformat()
    saved = client.post(f"/assessments/{assessment}/conversation", data={
        "csrf_token": csrf_from(page), "version": "", "feedback.given": "on",
        "goal.type": "abstain", "follow_up.date": due, "follow_up.by": "elder_care",
        "follow_up.mode": "phone"})
    assert saved.status_code == 303
    session = app.extensions["screening.db"].read_session()
    try:
        from screening.models import FollowUp

        follow_up = session.scalar(select(FollowUp.uuid))
    finally:
        session.close()
    page = client.get(f"/follow-ups/{follow_up}").get_data(as_text=True)
    expire_sessions(app)
    sent = client.post(f"/follow-ups/{follow_up}/close", data={
        "csrf_token": csrf_from(page), "outcome": "not_reached",
        "note": "Ringte to ganger, ingen svar"})
    assert sent.status_code == 303 and "/login" in sent.headers["Location"]
    assert unquote(urlsplit(sent.headers["Location"]).query) == f"next=/follow-ups/{follow_up}"
    log_in(client, clinic["nurse"], f"/follow-ups/{follow_up}", step=1)
    again = client.get(f"/follow-ups/{follow_up}").get_data(as_text=True)
    assert "Ringte to ganger, ingen svar" in again
    assert re.search(r'checked[^>]*value="not_reached"|value="not_reached"[^>]*checked', again)
