"""The clinician's round through the Flask client (CSRF on): register, screen with AUDIT,
result with reasons, conversation, follow-ups in the worklist, drafts, duplicates, FHIR."""

from __future__ import annotations

import json
import random
import re
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from screening.models import Assessment, FollowUp, ReportFact
from tests.app.fnr import random_fnr
from tests.app.staffing import CHECKLIST_NO, login, make_staff, make_units
from tests.conftest import csrf_from

RNG = random.Random(7)


@pytest.fixture
def clinic(app):  # type: ignore[no-untyped-def]
    make_units(app)
    return {
        "nurse": make_staff(app, "nurse.a", "nurse", ("home-a",)),
        "nurse_b": make_staff(app, "nurse.b", "nurse", ("home-b",)),
        "gp": make_staff(app, "gp.a", "gp", ("gp-a",)),
        "consultant": make_staff(app, "cons", "consultant", ("sub",)),
    }


def register(client, fnr: str, name: str) -> str:  # type: ignore[no-untyped-def]
    page = client.get("/patients/new").get_data(as_text=True)
    unit = re.search(r'<option[^>]*value="(\d+)"', page).group(1)
    response = client.post(
        "/patients/new",
        data={"csrf_token": csrf_from(page), "fnr": fnr, "name": name, "unit": unit},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return response.headers["Location"].rsplit("/", 1)[1]


def audit_form(client, patient_uuid: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/patients/{patient_uuid}/screen/audit")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    token = re.search(r'name="submission_token"[^>]*value="([^"]+)"', html).group(1)
    return html, token


ALL_NO = CHECKLIST_NO


def post_audit(client, patient_uuid, html, token, answers, setting="home_care",  # type: ignore[no-untyped-def]
               checklist=ALL_NO, **extra):
    """Post the AUDIT form; the medication-and-falls checklist (part of the AUDIT from 65)
    answered "no" throughout unless ``checklist`` says otherwise."""
    data = {
        "csrf_token": csrf_from(html),
        "submission_token": token,
        "setting": setting,
        "action": "submit",
        **checklist,
    }
    data.update({f"q{i + 1}": str(v) for i, v in enumerate(answers) if v is not None})
    data.update(extra)
    return client.post(f"/patients/{patient_uuid}/screen/audit", data=data)


def older_fnr(sex: str) -> str:
    return random_fnr(RNG, sex=sex, born_from=date(1945, 1, 1), born_to=date(1952, 12, 31))


def test_nurse_round(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_fnr("female"), "Synnøve Testdatter")
    page = client.get(f"/patients/{patient}").get_data(as_text=True)
    assert "Synnøve Testdatter" in page and "Ny AUDIT" in page
    html, token = audit_form(client, patient)
    assert "alkoholenhet er omtrent 12 g" in html  # unit examples beside items 2 and 3
    assert "Legemidler og fall" in html and '<details class="card checklist" open>' in html
    # clinical-rules §6 example 3: F 72 home care, 7 points -> level 2 by W7
    response = post_audit(client, patient, html, token, [2, 1, 1, 1, 0, 0, 1, 1, 0, 0])
    assert response.status_code == 303
    result = client.get(response.headers["Location"]).get_data(as_text=True)
    assert re.search(r'<dd class="big">7</dd>', result)
    assert "W7" in result and "Hjemmetjenesten" in result or "hjemmetjenesten" in result
    assessment = response.headers["Location"].rsplit("/", 1)[1]
    # the conversation: required at level 2 are feedback, goal and follow-up
    conv = client.get(f"/assessments/{assessment}/conversation").get_data(as_text=True)
    incomplete = client.post(
        f"/assessments/{assessment}/conversation",
        data={"csrf_token": csrf_from(conv), "version": ""},
    )
    assert incomplete.status_code == 422
    due = (date.today() + timedelta(days=3)).isoformat()
    saved = client.post(
        f"/assessments/{assessment}/conversation",
        data={
            "csrf_token": csrf_from(conv),
            "version": "",
            "feedback.given": "on",
            "goal.type": "reduce",
            "goal.units_per_week": "7",
            "follow_up.date": due,
            "follow_up.by": "elder_care",
            "follow_up.mode": "home_visit",
            "follow_up.repeat_audit": "on",
        },
    )
    assert saved.status_code == 303, saved.get_data(as_text=True)[:3000]
    worklist = client.get("/worklist").get_data(as_text=True)
    assert "Synnøve Testdatter" in worklist
    with app.extensions["screening.db"].write() as session:
        follow_up = session.scalar(select(FollowUp))
        fact = session.get(ReportFact, follow_up.fact_id)
        assert fact.conversation_delivered and fact.follow_up == "pending"
        assert fact.level == 2 and fact.age_band in ("65_74", "75_84") and fact.sex == "female"
        follow_up_uuid = follow_up.uuid
    done = client.post(
        f"/follow-ups/{follow_up_uuid}/close",
        data={"csrf_token": csrf_from(worklist), "outcome": "done"},
    )
    # the outcome is shown, and a new AUDIT is offered, not started (issue 16, point 11)
    assert done.status_code == 303 and done.headers["Location"].endswith(follow_up_uuid)
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Utfallet er lagret." in shown and "Start ny AUDIT nå" in shown
    with app.extensions["screening.db"].write() as session:
        assert session.scalar(select(ReportFact.follow_up)) == "on_time"
    sheet = client.get(f"/assessments/{assessment}/sheet").get_data(as_text=True)
    assert "Målet vi ble enige om" in sheet and "høyst 7 enheter" in sheet


def test_gp_round_and_fhir(app, client, clinic) -> None:
    from fhir.resources.R4B.bundle import Bundle

    login(client, clinic["gp"])
    patient = register(
        client,
        random_fnr(RNG, sex="male", born_from=date(1966, 1, 1), born_to=date(1981, 1, 1)),
        "Gunnar Prøvesen",
    )
    html, token = audit_form(client, patient)
    assert re.search(r'<input checked[^>]*value="gp_practice"', html)  # the GP's default
    response = post_audit(
        client, patient, html, token, [3, 1, 1, 1, 0, 3, 1, 0, 0, 0], setting="gp_practice"
    )
    assert response.status_code == 303
    assessment = response.headers["Location"].rsplit("/", 1)[1]
    result = client.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert "E1" in result and "Fastlege" in result
    export = client.get(f"/assessments/{assessment}/fhir.json")
    assert export.status_code == 200
    assert export.headers["Content-Type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate(json.loads(export.get_data(as_text=True)))
    kinds = [entry.resource.__resource_type__ for entry in bundle.entry]
    assert kinds[0] == "QuestionnaireResponse" and "Observation" in kinds
    (total,) = [e.resource for e in bundle.entry if e.resource.id.startswith("total-")]
    assert total.valueQuantity.value == 10 and total.code.coding[0].code == "75624-7"


def test_skip_logic_on_the_server(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_fnr("male"), "Bjarne Hoppover")
    html, token = audit_form(client, patient)
    # item 1 "never": items 2-8 are not asked; an answer to item 4 is refused with a message
    refused = post_audit(
        client, patient, html, token, [0, None, None, 2, None, None, None, None, 0, 0]
    )
    assert refused.status_code == 422
    assert "4" in refused.get_data(as_text=True)
    with app.extensions["screening.db"].write() as session:
        assert session.scalar(select(func.count()).select_from(Assessment)) == 0
    ok = post_audit(
        client, patient, html, token, [0, None, None, None, None, None, None, None, 0, 0]
    )
    assert ok.status_code == 303


def test_incomplete_is_not_scored(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_fnr("female"), "Ingrid Halvferdig")
    html, token = audit_form(client, patient)
    response = post_audit(
        client, patient, html, token, [2, 1, 1, None, None, None, None, None, None, None]
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "ikke besvart" in body
    assert 'value="2" data-index="2"\n          checked' in body or "checked" in body
    with app.extensions["screening.db"].write() as session:
        assert session.scalar(select(func.count()).select_from(Assessment)) == 0


def test_resend_and_concurrent_posts_store_one(app, clinic) -> None:
    client = app.test_client()
    login(client, clinic["nurse"])
    patient = register(client, older_fnr("female"), "Dobbelt Klikkesen")
    html, token = audit_form(client, patient)
    first = post_audit(client, patient, html, token, [1, 0, 0, None, None, None, None, None, 0, 0])
    second = post_audit(client, patient, html, token, [1, 0, 0, None, None, None, None, None, 0, 0])
    assert first.headers["Location"] == second.headers["Location"]
    earlier = first.headers["Location"].rsplit("/", 1)[1]
    # A second form right after (a new token) is a second screening only when confirmed;
    # the confirmed copy, sent ten times at once, is stored once.
    html, token = audit_form(client, patient)
    cookie = client.get_cookie("screening_session").value
    statuses: list[int] = []

    def post() -> None:
        c = app.test_client()
        c.set_cookie("screening_session", cookie)
        statuses.append(
            post_audit(
                c, patient, html, token, [1, 0, 0, None, None, None, None, None, 0, 0],
                confirm_repeat=earlier,
            ).status_code
        )

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [303] * 10
    with app.extensions["screening.db"].write() as session:
        assert session.scalar(select(func.count()).select_from(Assessment)) == 2


def test_draft_saved_and_restored(app, client, clinic) -> None:
    login(client, clinic["nurse"])
    patient = register(client, older_fnr("male"), "Utkast Lagresen")
    html, token = audit_form(client, patient)
    data = {
        "csrf_token": csrf_from(html),
        "q1": "2",
        "q2": "1",
        "q3": "1",
        "q4": "0",
        "q5": "1",
        "q6": "0",
        "q7": "2",
        "setting": "home_care",
    }
    assert client.post(f"/patients/{patient}/screen/audit/draft", data=data).status_code == 204
    restored = client.get(f"/patients/{patient}/screen/audit").get_data(as_text=True)
    assert "hentet fram igjen" in restored
    for item, value in (("q1", 2), ("q5", 1), ("q7", 2)):
        assert re.search(
            rf'name="{item}" value="{value}" data-index="{value}"\s+checked', restored
        ), item


def test_other_unit_gets_break_glass_page(app, clinic) -> None:
    owner, other = app.test_client(), app.test_client()
    login(owner, clinic["nurse"])
    patient = register(owner, older_fnr("female"), "Annen Enhetsen")
    login(other, clinic["nurse_b"])
    denied = other.get(f"/patients/{patient}")
    assert denied.status_code == 403 and "nødstilfelle" in denied.get_data(as_text=True)
    assert "Annen Enhetsen" not in denied.get_data(as_text=True)
    page = denied.get_data(as_text=True)
    granted = other.post(
        f"/patients/{patient}/break-glass",
        data={"csrf_token": csrf_from(page), "reason": "Akutt besøk på kveldsvakt"},
    )
    assert granted.status_code == 303
    assert other.get(f"/patients/{patient}").status_code == 200


def test_search_for_a_patient_of_another_unit_needs_emergency_access(app, clinic) -> None:
    """The number of another unit's patient is answered as if nobody had it (the neutral
    page, no uuid, no name); emergency access with a reason then opens the record."""
    owner, other = app.test_client(), app.test_client()
    login(owner, clinic["nurse"])
    fnr = older_fnr("male")
    patient = register(owner, fnr, "Søkt Andresen")
    login(other, clinic["nurse_b"])
    page = other.get("/patients").get_data(as_text=True)
    found = other.post("/patients", data={"csrf_token": csrf_from(page), "query": fnr})
    html = found.get_data(as_text=True)
    assert found.status_code == 200
    assert "registrert i enhetene dine" in html and "Nødtilgang" in html
    assert "Søkt Andresen" not in html and patient not in html
    assert "registrert i en annen enhet." not in html
    granted = other.post("/patients/emergency", data={
        "csrf_token": csrf_from(html), "emergency-fnr": fnr,
        "emergency-reason": "Akutt tilsyn, natt"})
    assert granted.status_code == 303 and granted.headers["Location"].endswith(patient)
    assert other.get(f"/patients/{patient}").status_code == 200
