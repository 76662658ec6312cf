"""Referrals through the Flask client (CSRF on): sent from the result with the patient's
consent (or the refusal recorded), seen in the receiving unit's inbox, accepted (access to
the record and a follow-up task) or returned with a note that the sender sees; other units
refused; a nurse's specialist referral goes to the GP office; the conversation sends
nothing by itself (issue 16, point 10)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from screening.localtime import local_today
from screening.models import Assessment, FollowUp, Patient, Referral
from screening.models.base import new_uuid
from screening.services import care, referrals
from tests.app.care_world import (
    LEVEL_3,
    LEVEL_4,
    World,
    build,
    follow_ups_of,
    option_values,
    post_to,
    referrals_of,
)
from tests.conftest import csrf_from

SUC = "substance_use_consultant"
REASON_NB = "Nivå 3–4: ruskonsulenten gir kommunal oppfølging"  # the rule set's reason


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return build(app)


def at_level_3(world: World, name: str = "Ragnhild Henvisningsen") -> tuple[str, str]:
    patient = world.patient(name)
    return patient, world.audit(patient, LEVEL_3)


def send(world: World, assessment: str, pathway: str = SUC, consent: str = "yes",
         who: str = "nurse", **extra: str):  # type: ignore[no-untyped-def]
    client = world.client(who)
    url = f"/assessments/{assessment}/referrals/{pathway}"
    page = client.get(url).get_data(as_text=True)
    data = {"consent": consent, **extra}
    units = option_values(page, "unit") if 'name="unit"' in page else []
    if units and "unit" not in data:
        data["unit"] = next(value for value, _label, selected in units if selected)
    if "reason" not in data:
        data["reason"] = "Ønsker samtale om alkohol; samtykker til kontakt."
    return client, client.post(url, data={"csrf_token": csrf_from(page), **data})


def test_result_offers_a_referral_per_pathway_to_another_unit(world: World) -> None:
    _patient, assessment = at_level_3(world)
    result = world.client("nurse").get(f"/assessments/{assessment}").get_data(as_text=True)
    # level 3 at home: GP and substance-use consultant go to other units; elder care is hers
    assert f"/assessments/{assessment}/referrals/gp" in result
    assert f"/assessments/{assessment}/referrals/{SUC}" in result
    assert f"/assessments/{assessment}/referrals/elder_care" not in result
    assert "Send henvisning: Ruskonsulent" in result
    # her own unit's pathway has nothing to send: no form
    assert world.client("nurse").get(
        f"/assessments/{assessment}/referrals/elder_care").status_code == 404


def test_the_form_preselects_the_unit_and_prefills_the_reason(world: World) -> None:
    _patient, assessment = at_level_3(world)
    page = world.client("nurse").get(f"/assessments/{assessment}/referrals/{SUC}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    units = option_values(html, "unit")
    # the active units of the substance-use kind only, the first preselected
    assert [label for _v, label, _s in units] == ["Substance-use service",
                                                   "Substance-use service B"]
    assert [selected for _v, _l, selected in units] == [True, False]
    assert REASON_NB in html and "Ragnhild Henvisningsen" in html
    assert 'value="yes"' in html and 'value="no"' in html


def test_sent_accepted_then_the_record_opens(world: World) -> None:
    patient, assessment = at_level_3(world)
    consultant = world.client("consultant")
    # before anything is sent the consultant has no access and an empty inbox
    assert consultant.get(f"/patients/{patient}").status_code == 403
    assert "Ragnhild" not in consultant.get("/worklist").get_data(as_text=True)

    _nurse, response = send(world, assessment)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/assessments/{assessment}")
    referral = world.one(Referral, assessment_id=world.assessment_id(assessment))
    assert (referral.status, referral.consent, referral.to_unit_id, referral.pathway) == (
        "sent", True, world.units["sub"], SUC)
    assert b"samtale om alkohol" not in referral.reason_sealed  # sealed
    assert follow_ups_of(world, assessment) == []  # no task, no access before acceptance
    assert [row.action for row in world.log_of(patient)][-1] == "referral_send"

    # the inbox: who, when, the pathway, the reason, name and age; logged as a referral read
    before = len(world.log_of(patient))
    inbox = consultant.get("/worklist").get_data(as_text=True)
    assert "Henvisninger til enheten din (1)" in inbox
    assert "Ragnhild Henvisningsen" in inbox and "samtale om alkohol" in inbox
    assert "Nurse (Home care A)" in inbox
    rows = world.log_of(patient)[before:]
    assert [(r.action, r.purpose, r.outcome) for r in rows] == [
        ("referral_view", "referral", "ok")]
    # the referral's page opens; the full record does not
    page = consultant.get(f"/referrals/{referral.uuid}").get_data(as_text=True)
    assert "Ta imot henvisningen" in page and "Åpne pasienten" not in page
    denied = consultant.get(f"/patients/{patient}")
    assert denied.status_code == 403 and "Ragnhild" not in denied.get_data(as_text=True)
    assert world.log_of(patient)[-1].action == "access_denied"
    assert consultant.get(f"/assessments/{assessment}").status_code == 403

    due = local_today() + timedelta(days=7)
    accepted = post_to(consultant, f"/referrals/{referral.uuid}",
                       f"/referrals/{referral.uuid}/accept",
                       {"due_date": due.isoformat(), "mode": "phone", "accept_note": ""})
    assert accepted.status_code == 303
    assert world.log_of(patient)[-1].action == "referral_accept"
    assert world.log_of(patient)[-1].purpose == "referral"
    referral = world.one(Referral, uuid=referral.uuid)
    task = world.one(FollowUp, id=referral.follow_up_id)
    assert referral.status == "accepted" and referral.answered_by == world.people["consultant"].id
    assert (task.unit_id, task.due_date, task.mode, task.status, task.responsible_id) == (
        world.units["sub"], due, "phone", "open", world.people["consultant"].id)
    assert world.fact_state(assessment) == "pending"

    # access by the accepted referral, logged as such
    opened = consultant.get(f"/patients/{patient}")
    assert opened.status_code == 200 and "Ragnhild Henvisningsen" in opened.get_data(as_text=True)
    last = world.log_of(patient)[-1]
    assert (last.action, last.purpose, last.unit_id) == (
        "patient_view", "referral", world.units["sub"])
    # the task is on her worklist; the inbox is empty
    worklist = consultant.get("/worklist").get_data(as_text=True)
    assert "Henvisninger til enheten din" not in worklist
    assert f"/follow-ups/{task.uuid}" in worklist
    # the sender sees the outcome on the patient page and on her worklist
    nurse = world.client("nurse")
    assert "tatt imot" in nurse.get(f"/patients/{patient}").get_data(as_text=True)
    assert "tatt imot" in nurse.get("/worklist").get_data(as_text=True)
    # another substance-use service still has no access
    assert world.client("consultant_b").get(f"/patients/{patient}").status_code == 403


def test_consent_refused_is_recorded_and_nothing_is_sent(world: World) -> None:
    patient, assessment = at_level_3(world)
    client, response = send(world, assessment, consent="no")
    assert response.status_code == 303
    shown = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Pasienten samtykket ikke. Det er registrert, og ingenting er sendt." in shown
    referral = world.one(Referral, assessment_id=world.assessment_id(assessment))
    assert (referral.status, referral.consent) == ("consent_refused", False)
    consultant = world.client("consultant")
    assert "Ragnhild" not in consultant.get("/worklist").get_data(as_text=True)
    assert consultant.get(f"/referrals/{referral.uuid}").status_code == 403
    assert consultant.get(f"/patients/{patient}").status_code == 403
    page = client.get(f"/patients/{patient}").get_data(as_text=True)
    assert "ikke sendt: pasienten samtykket ikke" in page


def test_consent_must_be_recorded(world: World) -> None:
    _patient, assessment = at_level_3(world)
    _client, response = send(world, assessment, consent="")
    assert response.status_code == 422
    assert "Registrer om pasienten samtykker." in response.get_data(as_text=True)
    assert referrals_of(world, assessment) == []


def test_returned_with_a_note_that_the_sender_sees(world: World) -> None:
    patient, assessment = at_level_3(world)
    send(world, assessment)
    referral = world.one(Referral, assessment_id=world.assessment_id(assessment))
    consultant = world.client("consultant")
    url = f"/referrals/{referral.uuid}"
    empty = post_to(consultant, url, f"{url}/return", {"return_note": "  "})
    assert empty.status_code == 422
    assert "Skriv en merknad til avsenderen." in empty.get_data(as_text=True)
    assert world.one(Referral, uuid=referral.uuid).status == "sent"
    note = "Pasienten er allerede i kontakt med oss via NAV; ta kontakt ved behov."
    returned = post_to(consultant, url, f"{url}/return", {"return_note": note})
    assert returned.status_code == 303
    row = world.one(Referral, uuid=referral.uuid)
    assert row.status == "returned" and b"NAV" not in row.answer_note_sealed
    assert world.log_of(patient)[-1].action == "referral_return"
    assert consultant.get(f"/patients/{patient}").status_code == 403  # no access
    nurse = world.client("nurse")
    page = nurse.get(f"/patients/{patient}").get_data(as_text=True)
    assert "sendt tilbake" in page and note in page
    worklist = nurse.get("/worklist").get_data(as_text=True)
    assert "Henvisninger du har sendt" in worklist and "via NAV" in worklist
    # a second answer changes nothing
    again = post_to(consultant, url, f"{url}/accept",
                    {"due_date": local_today().isoformat(), "mode": "phone"})
    assert again.status_code == 303
    assert "allerede besvart" in consultant.get(again.headers["Location"]).get_data(as_text=True)
    assert world.one(Referral, uuid=referral.uuid).status == "returned"
    assert follow_ups_of(world, assessment) == []
    assert consultant.get(f"/patients/{patient}").status_code == 403


def test_other_units_can_neither_read_nor_answer(world: World) -> None:
    patient, assessment = at_level_3(world)
    send(world, assessment)
    referral = world.one(Referral, assessment_id=world.assessment_id(assessment))
    for who in ("nurse_b", "gp", "consultant_b"):
        client = world.client(who)
        before = len(world.log_of(patient))
        response = client.get(f"/referrals/{referral.uuid}")
        assert response.status_code == 403, who
        assert "Ragnhild" not in response.get_data(as_text=True)
        assert [r.action for r in world.log_of(patient)[before:]] == ["access_denied"]
        answered = post_to(client, "/worklist", f"/referrals/{referral.uuid}/accept",
                           {"due_date": local_today().isoformat(), "mode": "phone"})
        assert answered.status_code == 403, who
    # the sender reads it but cannot answer it herself
    nurse = world.client("nurse")
    assert nurse.get(f"/referrals/{referral.uuid}").status_code == 200
    assert post_to(nurse, "/worklist", f"/referrals/{referral.uuid}/accept",
                   {"due_date": local_today().isoformat(), "mode": "phone"}).status_code == 403
    assert world.one(Referral, uuid=referral.uuid).status == "sent"


def test_accepting_with_a_past_date_is_refused(world: World) -> None:
    _patient, assessment = at_level_3(world)
    send(world, assessment)
    referral = world.one(Referral, assessment_id=world.assessment_id(assessment))
    consultant = world.client("consultant")
    url = f"/referrals/{referral.uuid}"
    yesterday = local_today() - timedelta(days=1)
    refused = post_to(consultant, url, f"{url}/accept",
                      {"due_date": yesterday.isoformat(), "mode": "phone"})
    assert refused.status_code == 422
    assert "Datoen kan ikke være tilbake i tid." in refused.get_data(as_text=True)
    assert world.one(Referral, uuid=referral.uuid).status == "sent"
    assert follow_ups_of(world, assessment) == []


def test_a_resend_stores_one(world: World) -> None:
    _patient, assessment = at_level_3(world)
    client, first = send(world, assessment)
    _again, second = send(world, assessment)
    assert first.status_code == second.status_code == 303
    assert len(referrals_of(world, assessment)) == 1
    shown = client.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert "sendt, venter på svar" in shown


def test_a_nurses_specialist_referral_goes_to_the_gp_who_records_her_own(world: World) -> None:
    patient = world.patient("Trygve Spesialistsen", sex="male")
    assessment = world.audit(patient, LEVEL_4)
    nurse = world.client("nurse")
    result = nurse.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert "/referrals/specialist_referral" in result
    form = nurse.get(f"/assessments/{assessment}/referrals/specialist_referral")
    html = form.get_data(as_text=True)
    assert [label for _v, label, _s in option_values(html, "unit")] == ["GP office A"]
    assert "Henvisning til spesialisthelsetjenesten (TSB) anbefales:" in html
    assert "går til legekontoret" in html
    _client, sent = send(world, assessment, pathway="specialist_referral")
    assert sent.status_code == 303
    referral = world.one(Referral, pathway="specialist_referral")
    assert (referral.status, referral.to_unit_id) == ("sent", world.units["gp-a"])

    gp = world.client("gp")
    inbox = gp.get("/worklist").get_data(as_text=True)
    assert "Trygve Spesialistsen" in inbox and "Henvisning til TSB" in inbox
    assert gp.get(f"/patients/{patient}").status_code == 403
    post_to(gp, f"/referrals/{referral.uuid}", f"/referrals/{referral.uuid}/accept",
            {"due_date": local_today().isoformat(), "mode": "consultation"})
    assert gp.get(f"/patients/{patient}").status_code == 200
    # the GP's result page: her own referral to specialist care, recorded, no receiving unit
    result = gp.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert "Registrer henvisning til TSB" in result
    own = gp.get(f"/assessments/{assessment}/referrals/specialist_referral")
    assert 'name="unit"' not in own.get_data(as_text=True)
    # one specialist referral is live for this assessment already (the nurse's, accepted)
    recorded = referrals.send(world.db, world.keyring, world.users["gp"], assessment,
                              "specialist_referral", unit_id=None,
                              reason="Henvist til TSB ved DPS.", consent=True)
    assert recorded.duplicate  # the accepted one stands; nothing new
    # on a new assessment the GP records her own referral: external, no unit
    later = world.audit(patient, LEVEL_4, who="gp", setting="gp_practice")
    _gp, own_post = send(world, later, pathway="specialist_referral", who="gp",
                         reason="Henvist til TSB ved DPS.")
    assert own_post.status_code == 303
    mine = world.one(Referral, assessment_id=world.assessment_id(later))
    assert (mine.status, mine.to_unit_id, mine.sent_by) == (
        "external", None, world.people["gp"].id)


def test_the_conversation_sends_nothing_by_itself(world: World) -> None:
    """Item 11 ticked with consent, and item 10 "by the GP" from a nurse: no task for
    another unit and no access for it (before: a follow-up for the other unit, which gave
    it the record); "save and send a referral" leads to the referral form."""
    patient, assessment = at_level_3(world)
    nurse = world.client("nurse")
    url = f"/assessments/{assessment}/conversation"
    page = nurse.get(url).get_data(as_text=True)
    assert "Lagre og send henvisning" in page
    saved = nurse.post(url, data={
        "csrf_token": csrf_from(page), "version": "", "feedback.given": "on",
        "goal.type": "reduce", "goal.units_per_week": "7",
        "follow_up.date": (local_today() + timedelta(days=5)).isoformat(),
        "follow_up.by": "gp", "follow_up.mode": "consultation",
        "referrals.referrals.substance_use_consultant": "on",
        "referrals.referrals.substance_use_consultant.consent": "on",
        "then": "referral"})
    assert saved.status_code == 303
    assert saved.headers["Location"].endswith(f"/assessments/{assessment}/referrals/gp")
    assert follow_ups_of(world, assessment) == []
    assert referrals_of(world, assessment) == []
    for who in ("consultant", "gp"):
        assert world.client(who).get(f"/patients/{patient}").status_code == 403, who
    shown = nurse.get(saved.headers["Location"]).get_data(as_text=True)
    assert "hører til en annen enhet: send en henvisning" in shown
    # the consent recorded in the conversation is the form's starting point
    suc = nurse.get(f"/assessments/{assessment}/referrals/{SUC}").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="consent"[^>]*value="yes"', suc)


def test_care_rule_follow_up_alone_gives_no_access(world: World) -> None:
    """The old rule 2 (any follow-up assigned to my unit opens the patient) is gone: only
    an accepted referral opens another unit's patient."""
    patient, assessment = at_level_3(world)
    with world.db.write() as session:
        a = session.scalar(select(Assessment).where(Assessment.uuid == assessment))
        session.add(FollowUp(uuid=new_uuid(), patient_id=a.patient_id, assessment_id=a.id,
                             fact_id=a.fact_id, pathway=SUC, unit_id=world.units["sub"],
                             due_date=local_today(), mode="phone"))
    session = world.db.read_session()
    try:
        found = session.scalar(select(Patient).where(Patient.uuid == patient))
        assert care.grant_for(session, world.users["consultant"], found) is None
    finally:
        session.close()
    assert world.client("consultant").get(f"/patients/{patient}").status_code == 403


def test_the_patients_access_list_says_why(world: World) -> None:
    """Reads by the receiving unit are listed with the purpose "henvisning" (referral)."""
    patient, assessment = at_level_3(world)
    send(world, assessment)
    referral = world.one(Referral, assessment_id=world.assessment_id(assessment))
    consultant = world.client("consultant")
    post_to(consultant, f"/referrals/{referral.uuid}", f"/referrals/{referral.uuid}/accept",
            {"due_date": local_today().isoformat(), "mode": "phone"})
    consultant.get(f"/patients/{patient}")
    listing = world.client("nurse").get(f"/patients/{patient}/access-log").get_data(as_text=True)
    # the access-log page lists newest first: time, who, role, unit, what, purpose, outcome
    rows = re.findall(r'<tr class="outcome-[a-z]+">(.*?)</tr>', listing, re.S)
    cells = [re.findall(r'<td data-label="[^"]*">(.*?)</td>', row, re.S) for row in rows]
    by_consultant = [c for c in reversed(cells) if c and c[1] == "Consultant"]
    assert [c[4:6] for c in by_consultant] == [
        ["leste en henvisning", "henvisning"],
        ["tok imot en henvisning", "henvisning"],
        ["åpnet journalen", "henvisning"],
    ]
    sent = [c for c in cells if c and c[4] == "registrerte en henvisning"]
    assert sent and sent[0][5] == "helsehjelp"


def test_demo_data_puts_two_referrals_in_the_consultants_inbox(app) -> None:  # type: ignore[no-untyped-def]
    from screening.models import Staff
    from screening.services import demo, worklist

    ext = app.extensions
    for _ in range(2):  # a second run keeps what the first made and adds nothing
        demo.ensure_demo(ext["screening.db"], ext["screening.keys"], ext["screening.hasher"],
                         ext["screening.catalogue"])
    session = ext["screening.db"].read_session()
    try:
        rows = session.scalars(select(Referral)).all()
        consultant = session.scalar(select(Staff).where(Staff.username == "ruskonsulent"))
        nurse = session.scalar(select(Staff).where(Staff.username == "sykepleier"))
    finally:
        session.close()
    assert [(r.status, r.pathway) for r in rows] == [("sent", SUC)] * 2
    inbox = worklist.worklist(ext["screening.db"], ext["screening.keys"], consultant).inbox
    assert sorted(item.patient_name or "" for item in inbox) == [
        "Halvard Prøvesen", "Synnøve Demodatter"]
    day = worklist.day(ext["screening.db"], ext["screening.keys"], nurse)
    assert [(t.patient_name, t.mode) for t in day.today] == [("Synnøve Demodatter", "home_visit")]


def test_voiding_the_screening_withdraws_a_waiting_referral(world: World) -> None:
    _patient, assessment = at_level_3(world)
    client, sent = send(world, assessment)
    assert sent.status_code == 303
    page = client.get(f"/assessments/{assessment}").get_data(as_text=True)
    voided = client.post(f"/assessments/{assessment}/void", data={
        "csrf_token": csrf_from(page), "reason": "Feil pasient ble screenet."})
    assert voided.status_code == 303
    [referral] = referrals_of(world, assessment)
    assert referral.status == "withdrawn"
    shown = client.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert "trukket tilbake: screeningen er merket som ugyldig" in shown
    # the receiving unit's inbox no longer offers it
    inbox = world.client("consultant").get("/worklist").get_data(as_text=True)
    assert referral.uuid not in inbox
