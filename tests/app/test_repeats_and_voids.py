"""Nothing stored twice, wrong screenings voided, and what a result and a sheet say
(issue 16, points 1, 3, 7, 8 and 9), through the Flask client with CSRF on."""

from __future__ import annotations

import random
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from screening.models import AccessLogEntry, Assessment, FollowUp, ReportFact
from screening.services import assessments
from tests.app.fnr import random_fnr
from tests.app.report_counts import counted_from_facts, stored_counts
from tests.app.staffing import CHECKLIST_NO, login, make_staff, make_units
from tests.app.test_screening_flow import audit_form, post_audit, register
from tests.conftest import csrf_from

RNG = random.Random(1616)
W7_WOMAN = [2, 1, 1, 1, 0, 0, 1, 1, 0, 0]  # clinical-rules §6: F 72, 7 points, level 2 (W7)


@pytest.fixture
def clinic(app):  # type: ignore[no-untyped-def]
    make_units(app)
    return {
        "nurse": make_staff(app, "nurse.a", "nurse", ("home-a",)),
        "colleague": make_staff(app, "nurse.a2", "nurse", ("home-a",)),
        "nurse_b": make_staff(app, "nurse.b", "nurse", ("home-b",)),
    }


def older_woman() -> str:
    return random_fnr(RNG, sex="female", born_from=date(1950, 1, 1), born_to=date(1956, 12, 31))


def younger_man() -> str:
    return random_fnr(RNG, sex="male", born_from=date(1970, 1, 1), born_to=date(1980, 12, 31))


def count(app, model) -> int:  # type: ignore[no-untyped-def]
    session = app.extensions["screening.db"].read_session()
    try:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        session.close()


def screened(client, patient: str, answers=W7_WOMAN) -> str:  # type: ignore[no-untyped-def]
    html, token = audit_form(client, patient)
    response = post_audit(client, patient, html, token, answers)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    return response.headers["Location"].rsplit("/", 1)[1]


# ------------------------------------------------------------------ 1. stored once


def test_back_then_send_again_asks_before_a_second_assessment(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_woman(), "Tilbake Sendesen")
    first = screened(client, patient)
    # "Back" shows the form with the answers and a fresh token: sending it stores nothing yet
    html, token = audit_form(client, patient)
    again = post_audit(client, patient, html, token, W7_WOMAN)
    assert again.status_code == 409
    page = again.get_data(as_text=True)
    stored_at = app.extensions["screening.db"].read_session().scalar(
        select(Assessment.created_at).where(Assessment.uuid == first))
    local = stored_at.astimezone(ZoneInfo("Europe/Oslo"))
    assert f"kl. {local:%H:%M}" in page and "med sum 7" in page
    assert "Svarene er de samme som da." in page
    assert f'href="/assessments/{first}"' in page
    assert count(app, Assessment) == 1
    # the confirmation page sends the answers on (hidden fields), with the earlier one named
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    assert hidden["confirm_repeat"] == first and hidden["q1"] == "2"
    assert hidden["submission_token"] == token
    confirmed = client.post(f"/patients/{patient}/screen/audit",
                            data={**hidden, "csrf_token": csrf_from(page), "action": "submit"})
    assert confirmed.status_code == 303
    assert count(app, Assessment) == 2
    # the same confirmed form once more: still two (the submission token)
    again = client.post(f"/patients/{patient}/screen/audit",
                        data={**hidden, "csrf_token": csrf_from(page), "action": "submit"})
    assert again.headers["Location"] == confirmed.headers["Location"]
    assert count(app, Assessment) == 2


def test_other_answers_are_asked_about_too_and_named_as_different(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_woman(), "Annen Svarsen")
    screened(client, patient)
    html, token = audit_form(client, patient)
    again = post_audit(client, patient, html, token, [0, None, None, None, None, None, None,
                                                      None, 0, 0])
    assert again.status_code == 409
    assert "Svarene er de samme som da." not in again.get_data(as_text=True)


def test_no_question_for_another_clinician_another_instrument_or_after_the_window(
        app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_woman(), "Vindu Utenfor")
    screened(client, patient)
    colleague = app.test_client()
    login(colleague, clinic["colleague"])
    screened(colleague, patient)  # another clinician: no question
    db, keyring, catalogue = (app.extensions[k] for k in
                              ("screening.db", "screening.keys", "screening.catalogue"))
    from tests.app.clinic import Clinician

    nurse = Clinician(clinic["nurse"].id, "nurse.a", "nurse",
                      frozenset({_unit(app, "home-a")}))
    later = datetime.now(UTC) + assessments.REPEAT_WINDOW + timedelta(minutes=1)
    done = assessments.submit(
        db, keyring, catalogue, nurse, patient_uuid=patient, instrument_id="audit",
        answers=dict(zip([f"q{i}" for i in range(1, 11)], W7_WOMAN, strict=True)),
        setting="home_care", checklist=assessments.Checklist(
            answers={k[4:]: False for k in CHECKLIST_NO}),
        submission_token="t" * 43, now=later)
    assert not done.duplicate
    with pytest.raises(assessments.PossibleRepeat):
        assessments.submit(
            db, keyring, catalogue, nurse, patient_uuid=patient, instrument_id="audit",
            answers={"q1": 0, "q9": 0, "q10": 0}, setting="home_care",
            checklist=assessments.Checklist(not_asked="declined"),
            submission_token="u" * 43, now=later + timedelta(minutes=5))
    assert count(app, Assessment) == 3


def _unit(app, code: str) -> int:  # type: ignore[no-untyped-def]
    from screening.models import Unit

    session = app.extensions["screening.db"].read_session()
    try:
        return int(session.scalar(select(Unit.id).where(Unit.code == code)))
    finally:
        session.close()


# ------------------------------------------------------------------ 3. void


def void(client, assessment: str, reason: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/assessments/{assessment}").get_data(as_text=True)
    return client.post(f"/assessments/{assessment}/void",
                       data={"csrf_token": csrf_from(page), "reason": reason})


def test_a_colleague_voids_with_a_reason_kept_logged_and_out_of_the_reports(
        app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_woman(), "Feil Registrertsen")
    assessment = screened(client, patient)
    # one more screening of the same patient (confirmed as new): it stays counted
    html, token = audit_form(client, patient)
    page = post_audit(client, patient, html, token, W7_WOMAN).get_data(as_text=True)
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    kept = client.post(f"/patients/{patient}/screen/audit",
                       data={**hidden, "csrf_token": csrf_from(page), "action": "submit"})
    assert kept.status_code == 303
    db = app.extensions["screening.db"]
    assert count(app, ReportFact) == 2
    colleague = app.test_client()
    login(colleague, clinic["colleague"])
    short = void(colleague, assessment, "feil")
    assert short.status_code == 422 and "minst 5 tegn" in short.get_data(as_text=True)
    assert count(app, ReportFact) == 2
    done = void(colleague, assessment, "Feil pasient: screeningen gjaldt en annen.")
    assert done.status_code == 303
    result = colleague.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert "Ugyldig: denne screeningen er merket som feilregistrert" in result
    assert "Feil pasient: screeningen gjaldt en annen." in result
    assert "Merk som ugyldig" not in result  # no second void
    # left out of the reports, the counts follow in the same transaction
    assert count(app, ReportFact) == 1
    session = db.read_session()
    try:
        assert stored_counts(session) == counted_from_facts(session)
        row = session.scalar(select(Assessment).where(Assessment.uuid == assessment))
        assert row.voided_at is not None and row.fact_id is None
        assert row.void_reason_sealed and b"Feil pasient" not in row.void_reason_sealed
        actions = session.scalars(select(AccessLogEntry.action)).all()
        assert "assessment_void" in actions
    finally:
        session.close()
    # shown as void on the patient page, kept in the history, out of the chart
    page = colleague.get(f"/patients/{patient}").get_data(as_text=True)
    assert page.count('class="void"') == 1 and "ugyldig" in page
    # no conversation on a void screening
    refused = colleague.get(f"/assessments/{assessment}/conversation")
    assert refused.status_code == 303
    assert count(app, Assessment) == 2


def test_void_refused_outside_the_unit_and_voided_follow_ups_are_cancelled(
        app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_woman(), "Avlyst Oppfølgingsen")
    assessment = screened(client, patient)
    conv = client.get(f"/assessments/{assessment}/conversation").get_data(as_text=True)
    due = (date.today() + timedelta(days=14)).isoformat()
    saved = client.post(f"/assessments/{assessment}/conversation", data={
        "csrf_token": csrf_from(conv), "version": "", "feedback.given": "on",
        "goal.type": "reduce", "goal.units_per_week": "7", "follow_up.date": due,
        "follow_up.by": "elder_care", "follow_up.mode": "home_visit"})
    assert saved.status_code == 303
    other = app.test_client()
    login(other, clinic["nurse_b"])
    page = other.get("/").get_data(as_text=True)
    refused = other.post(f"/assessments/{assessment}/void",
                         data={"csrf_token": csrf_from(page), "reason": "Ikke min pasient."})
    assert refused.status_code == 403
    assert void(client, assessment, "Svarene ble registrert feil.").status_code == 303
    session = app.extensions["screening.db"].read_session()
    try:
        follow_up = session.scalar(select(FollowUp))
        assert follow_up.status == "cancelled" and follow_up.fact_id is None
    finally:
        session.close()
    assert "Merk som ugyldig" not in client.get(f"/assessments/{assessment}").get_data(
        as_text=True)
    assert "Avlyst Oppfølgingsen" not in client.get("/worklist").get_data(as_text=True)


# ------------------------------------------------------------------ 7. the checklist from 65


def test_from_65_the_checklist_is_answered_or_marked_not_asked(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_woman(), "Sjekkliste Eldresen")
    html, token = audit_form(client, patient)
    missing = post_audit(client, patient, html, token, W7_WOMAN, checklist={})
    assert missing.status_code == 422
    body = missing.get_data(as_text=True)
    assert "sjekklisten om legemidler og fall en del av AUDIT" in body
    assert body.count("Velg ja eller nei.") == 6
    both = post_audit(client, patient, html, token, W7_WOMAN,
                      checklist={"med_fall": "1", "med_not_asked": "declined"})
    assert both.status_code == 422 and "ikke begge deler" in both.get_data(as_text=True)
    bad = post_audit(client, patient, html, token, W7_WOMAN,
                     checklist={"med_not_asked": "because"})
    assert bad.status_code == 422
    assert count(app, Assessment) == 0
    not_asked = post_audit(client, patient, html, token, W7_WOMAN,
                           checklist={"med_not_asked": "unable"})
    assert not_asked.status_code == 303
    result = client.get(not_asked.headers["Location"]).get_data(as_text=True)
    assert "Ikke gått gjennom: pasienten kunne ikke svare" in result


def test_the_result_lists_the_yes_items_and_every_answer(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_woman(), "Ja Fallesen")
    html, token = audit_form(client, patient)
    answered = {**CHECKLIST_NO, "med_sedatives": "1", "med_fall": "1"}
    response = post_audit(client, patient, html, token, W7_WOMAN, checklist=answered)
    assert response.status_code == 303
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    yes = re.search(r'<ul class="checklist-yes">(.*?)</ul>', result, re.S).group(1)
    assert "sovemedisin" in yes and "falt" in yes and "blodfortynnende" not in yes
    # every item with its answer, in words
    table = re.search(r'<table class="answers">(.*?)</table>', result, re.S).group(1)
    assert table.count("<tr") == 11  # the head and ten items
    assert "To til fire ganger i måneden" in table and "3–4" in table
    # the rule code only as small print beside the sentence
    assert re.search(r'<small class="rule-code">regel W7</small>', result)
    assert not re.search(r"<strong>W7</strong>", result)


def test_under_65_the_checklist_stays_optional(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, younger_man(), "Yngre Valgfrisen")
    html, token = audit_form(client, patient)
    response = post_audit(client, patient, html, token, [1, 0, 0, None, None, None, None, None,
                                                         0, 0], checklist={})
    assert response.status_code == 303


# ------------------------------------------------------------------ 8. the sheet


def test_the_sheet_of_a_woman_of_72_with_7_points_says_level_2(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_woman(), "Ark Nivåsen")
    assessment = screened(client, patient)
    conv = client.get(f"/assessments/{assessment}/conversation").get_data(as_text=True)
    due = date.today() + timedelta(days=10)
    client.post(f"/assessments/{assessment}/conversation", data={
        "csrf_token": csrf_from(conv), "version": "", "feedback.given": "on",
        "goal.type": "reduce", "goal.units_per_week": "7", "follow_up.date": due.isoformat(),
        "follow_up.by": "elder_care", "follow_up.mode": "home_visit"})
    sheet = client.get(f"/assessments/{assessment}/sheet").get_data(as_text=True)
    assert "lav risiko" not in sheet
    assert "Tiltaksnivå 2 av 4: Enkle råd." in sheet
    assert "lavere grense" in sheet  # why the level is above the zone, in plain words
    assert "høyst 7 enheter i uken" in sheet
    assert f"{due:%d.%m.%Y}: hjemmebesøk" in sheet and "følger opp" in sheet
    assert 'id="print-sheet"' in sheet and "js/print.js" in sheet
    result = client.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert "Tiltaksnivå 2 av 4: Enkle råd" in result
