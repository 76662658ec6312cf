"""AUDIT-C first, then the full AUDIT (issue 17, point 5), through the Flask client with CSRF
on: a GP screens with AUDIT-C; a positive one offers "Utvid til full AUDIT", whose form shows
items 1-3 as answered and asks the rest; one AUDIT is stored, linked to the AUDIT-C, and the
reports count the two steps without counting one screening twice."""

from __future__ import annotations

import random
import re
from datetime import date

import pytest
from sqlalchemy import select

from screening.models import AccessLogEntry, Assessment, Draft, ReportFact
from screening.services import assessments, extensions
from screening.services.reports import Filters, grouped_rows
from tests.app.fnr import random_fnr
from tests.app.staffing import CHECKLIST_NO, login, make_staff, make_units
from tests.app.test_screening_flow import register
from tests.conftest import csrf_from

RNG = random.Random(1717)


@pytest.fixture
def clinic(app):  # type: ignore[no-untyped-def]
    make_units(app)
    return {
        "gp": make_staff(app, "gp.a", "gp", ("gp-a",)),
        "gp2": make_staff(app, "gp.a2", "gp", ("gp-a",)),
        "nurse_b": make_staff(app, "nurse.b", "nurse", ("home-b",)),
    }


def person(sex: str, older: bool) -> str:
    born = (date(1950, 1, 1), date(1955, 12, 31)) if older else (date(1975, 1, 1),
                                                                  date(1985, 12, 31))
    return random_fnr(RNG, sex=sex, born_from=born[0], born_to=born[1])


def token_of(html: str) -> str:
    return re.search(r'name="submission_token"[^>]*value="([^"]+)"', html).group(1)


def post_audit_c(client, patient: str, answers, checklist=CHECKLIST_NO, **extra):  # type: ignore[no-untyped-def]
    html = client.get(f"/patients/{patient}/screen/audit_c").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "submission_token": token_of(html),
            "setting": "gp_practice", "action": "submit", **checklist, **extra}
    data.update({f"q{i + 1}": str(v) for i, v in enumerate(answers) if v is not None})
    return client.post(f"/patients/{patient}/screen/audit_c", data=data)


def screened_c(client, patient: str, answers) -> str:  # type: ignore[no-untyped-def]
    response = post_audit_c(client, patient, answers)
    assert response.status_code == 303, response.get_data(as_text=True)[:800]
    return response.headers["Location"].rsplit("/", 1)[1]


def post_extension(client, source: str, answers: dict[str, int], **extra):  # type: ignore[no-untyped-def]
    html = client.get(f"/assessments/{source}/extend").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "submission_token": token_of(html),
            "action": "submit", **{k: str(v) for k, v in answers.items()}, **extra}
    return client.post(f"/assessments/{source}/extend", data=data)


def rows(app, model, *where):  # type: ignore[no-untyped-def]
    session = app.extensions["screening.db"].read_session()
    try:
        return list(session.scalars(select(model).where(*where)))
    finally:
        session.close()


REST_ZERO = {f"q{n}": 0 for n in range(4, 11)}


def test_gp_screens_with_audit_c_and_extends_to_one_audit(app, client, clinic) -> None:
    login(client, clinic["gp"])
    patient = register(client, person("female", older=True), "Ragnhild Testesen")
    page = client.get(f"/patients/{patient}").get_data(as_text=True)
    assert "Ny AUDIT-C" in page
    form = client.get(f"/patients/{patient}/screen/audit_c").get_data(as_text=True)
    assert 'name="q3"' in form and 'name="q4"' not in form
    assert "Legemidler og fall" in form  # the checklist is part of the AUDIT-C from 65 too
    missing = post_audit_c(client, patient, [1, 1, 1], checklist={})
    assert missing.status_code == 422
    assert "sjekklisten om legemidler og fall en del av AUDIT" in missing.get_data(as_text=True)
    source = screened_c(client, patient, [1, 1, 1])  # the example: F 70, 3 points
    result = client.get(f"/assessments/{source}").get_data(as_text=True)
    assert "AUDIT-C" in result and re.search(r'<dd class="big">3</dd>', result)
    assert "positiv" in result and "Utvid til full AUDIT" in result
    assert "fastlegen fullfører AUDIT" in result  # the screening service's pathway
    assert "Registrer samtalen" not in result  # the conversation follows the full AUDIT
    sheet = client.get(f"/assessments/{source}/sheet").get_data(as_text=True)
    assert "Du fikk 3 av 12 poeng på de tre første spørsmålene" in sheet
    assert "DUDIT" not in sheet and "kan være risikofylt" in sheet
    exported = client.get(f"/assessments/{source}/fhir.json")
    assert exported.status_code == 200 and "75626-2" in exported.get_data(as_text=True)
    # the extension form: items 1-3 shown as answered, not asked; 4-10 asked
    form = client.get(f"/assessments/{source}/extend").get_data(as_text=True)
    assert "Utvid til full AUDIT" in form
    assert "Hvor ofte drikker du alkohol?" in form and "Månedlig eller sjeldnere" in form
    for item in ("q1", "q2", "q3"):
        assert f'name="{item}"' not in form
    for n in range(4, 11):
        assert f'name="q{n}"' in form
    # an answer posted for an item carried over is refused: changed only by going back
    tampered = post_extension(client, source, {**REST_ZERO, "q1": 4})
    assert tampered.status_code == 400
    incomplete = post_extension(client, source, {"q4": 0})
    assert incomplete.status_code == 422 and "ikke besvart" in incomplete.get_data(as_text=True)
    done = post_extension(client, source, {**REST_ZERO, "q5": 1})
    assert done.status_code == 303, done.get_data(as_text=True)[:1500]
    full_uuid = done.headers["Location"].rsplit("/", 1)[1]
    full = client.get(f"/assessments/{full_uuid}").get_data(as_text=True)
    assert re.search(r'<dd class="big">4</dd>', full)  # 3 carried over + 1
    assert "Denne AUDIT utvider AUDIT-C fra" in full and "Registrer samtalen" in full
    # one AUDIT, linked to the AUDIT-C, with items 1-3 from it and its checklist
    (c_row,) = rows(app, Assessment, Assessment.instrument == "audit_c")
    (a_row,) = rows(app, Assessment, Assessment.instrument == "audit")
    assert a_row.extends_id == c_row.id and a_row.setting == "gp_practice"
    session = app.extensions["screening.db"].read_session()
    try:
        shown = assessments.view(app.extensions["screening.db"], app.extensions["screening.keys"],
                                 _user(app, clinic["gp"]), full_uuid)
    finally:
        session.close()
    assert shown.answers == {"q1": 1, "q2": 1, "q3": 1, "q4": 0, "q5": 1, "q6": 0, "q7": 0,
                             "q8": 0, "q9": 0, "q10": 0}
    assert shown.context["checklist"] == {"answers": {k.removeprefix("med_"): False
                                                      for k in CHECKLIST_NO}}
    assert shown.extends is not None and shown.extends[0] == source
    # the AUDIT-C now links to its AUDIT, and offers no second extension
    result = client.get(f"/assessments/{source}").get_data(as_text=True)
    assert "Utvidet til full AUDIT" in result and f"/assessments/{full_uuid}" in result
    again = client.get(f"/assessments/{source}/extend")
    assert again.status_code == 303 and again.headers["Location"].endswith(full_uuid)
    # the report facts: an AUDIT-C (positive) and an AUDIT counted as an extension
    facts = rows(app, ReportFact)
    assert sorted((f.instrument, f.positive, f.is_extension) for f in facts) == [
        ("audit", None, True), ("audit_c", True, False)]
    # the patient page lists both, by the names clinicians use
    page = client.get(f"/patients/{patient}").get_data(as_text=True)
    assert "<td>AUDIT-C</td>" in page and "<td>AUDIT</td>" in page


def _user(app, staff):  # type: ignore[no-untyped-def]
    from tests.app.clinic import Clinician

    session = app.extensions["screening.db"].read_session()
    try:
        from screening.models import Membership

        units = frozenset(session.scalars(select(Membership.unit_id)
                                          .where(Membership.staff_id == staff.id)))
    finally:
        session.close()
    return Clinician(staff.id, staff.username, staff.role, units)


def test_skip_rules_of_the_audit_apply_to_the_answers_carried_over(app, client, clinic) -> None:
    """A man with 4 points from frequency alone (items 2 and 3 score 0): positive, and the
    AUDIT's skip rule leaves only items 9 and 10 to ask."""
    login(client, clinic["gp"])
    patient = register(client, person("male", older=False), "Halvard Prøvesen")
    source = screened_c(client, patient, [4, 0, 0])
    form = client.get(f"/assessments/{source}/extend").get_data(as_text=True)
    assert 'name="q9"' in form and 'name="q10"' in form
    for n in range(4, 9):
        assert f'name="q{n}"' not in form
    assert form.count("Ikke spurt: et svar som er tatt med") == 5
    refused = post_extension(client, source, {"q4": 1, "q9": 0, "q10": 0})
    assert refused.status_code == 422 and "Spørsmål 4 stilles ikke" in refused.get_data(
        as_text=True)
    done = post_extension(client, source, {"q9": 0, "q10": 2})
    assert done.status_code == 303
    (a_row,) = rows(app, Assessment, Assessment.instrument == "audit")
    assert a_row.total == 8 and a_row.zone == "II"


def test_a_negative_audit_c_offers_no_extension(app, client, clinic) -> None:
    login(client, clinic["gp"])
    patient = register(client, person("male", older=False), "Torleif Prøvesen")
    source = screened_c(client, patient, [1, 1, 1])  # a man: 3 is below 4
    result = client.get(f"/assessments/{source}").get_data(as_text=True)
    assert "negativ" in result and "Utvid til full AUDIT" not in result
    assert client.get(f"/assessments/{source}/extend").status_code == 404
    posted = client.post(f"/assessments/{source}/extend",
                         data={"csrf_token": csrf_from(result), "submission_token": "t" * 43,
                               "action": "submit", **{k: str(v) for k, v in REST_ZERO.items()}})
    assert posted.status_code == 404
    assert rows(app, Assessment, Assessment.instrument == "audit") == []


def test_extension_is_logged_stored_once_and_needs_the_care_relationship(
        app, client, clinic) -> None:
    login(client, clinic["gp"])
    patient = register(client, person("female", older=False), "Gunnhild Prøvesen")
    source = screened_c(client, patient, [2, 1, 0])
    html = client.get(f"/assessments/{source}/extend").get_data(as_text=True)
    data = {"csrf_token": csrf_from(html), "submission_token": token_of(html),
            "action": "submit", **{k: str(v) for k, v in REST_ZERO.items()}}
    before = len(rows(app, AccessLogEntry))
    first = client.post(f"/assessments/{source}/extend", data=data)
    second = client.post(f"/assessments/{source}/extend", data=data)  # sent again
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(rows(app, Assessment, Assessment.instrument == "audit")) == 1
    created = [e for e in rows(app, AccessLogEntry)[before:] if e.action == "assessment_create"]
    assert len(created) == 1
    # a nurse of another unit: refused, and the refusal logged
    other = app.test_client()
    login(other, clinic["nurse_b"])
    assert other.get(f"/assessments/{source}/extend").status_code == 403
    assert rows(app, AccessLogEntry)[-1].action == "access_denied"


def test_a_second_extension_is_refused_even_in_a_race(app, client, clinic, monkeypatch) -> None:
    """The partial unique index holds one live extension per AUDIT-C even when the check
    before the write is passed by two at once (simulated: the check sees none)."""
    login(client, clinic["gp"])
    patient = register(client, person("female", older=False), "Sigrid Prøvesen")
    source = screened_c(client, patient, [2, 1, 0])
    db, keyring, catalogue = (app.extensions[f"screening.{n}"] for n in ("db", "keys",
                                                                          "catalogue"))
    user = _user(app, clinic["gp"])
    first = extensions.extend(db, keyring, catalogue, user, source_uuid=source,
                              answers=REST_ZERO, submission_token="a" * 43)
    with pytest.raises(assessments.AlreadyExtended) as caught:
        extensions.extend(db, keyring, catalogue, user, source_uuid=source, answers=REST_ZERO,
                          submission_token="b" * 43)
    assert caught.value.uuid == first.uuid
    monkeypatch.setattr(assessments, "live_extension", lambda session, assessment_id: None)
    with pytest.raises(assessments.AlreadyExtended) as raced:
        extensions.extend(db, keyring, catalogue, user, source_uuid=source, answers=REST_ZERO,
                          submission_token="c" * 43)
    assert raced.value.uuid == first.uuid
    assert len(rows(app, Assessment, Assessment.instrument == "audit")) == 1
    assert len(rows(app, ReportFact)) == 2  # nothing half-stored by the refused one


def test_void_order_and_a_voided_extension_makes_room_for_another(app, client, clinic) -> None:
    login(client, clinic["gp"])
    patient = register(client, person("male", older=False), "Eirik Prøvesen")
    source = screened_c(client, patient, [2, 1, 1])
    done = post_extension(client, source, REST_ZERO)
    full_uuid = done.headers["Location"].rsplit("/", 1)[1]
    page = client.get(f"/assessments/{source}").get_data(as_text=True)
    refused = client.post(f"/assessments/{source}/void",
                          data={"csrf_token": csrf_from(page), "reason": "Feil pasient valgt"})
    assert refused.status_code == 303
    assert "merk det som ugyldig først" in client.get(refused.headers["Location"]).get_data(
        as_text=True)
    assert rows(app, Assessment, Assessment.uuid == source)[0].voided_at is None
    page = client.get(f"/assessments/{full_uuid}").get_data(as_text=True)
    voided = client.post(f"/assessments/{full_uuid}/void",
                         data={"csrf_token": csrf_from(page), "reason": "Svar feilregistrert"})
    assert voided.status_code == 303
    result = client.get(f"/assessments/{source}").get_data(as_text=True)
    assert "Utvid til full AUDIT" in result  # offered again
    again = post_extension(client, source, {**REST_ZERO, "q4": 1})
    assert again.status_code == 303
    live = [a for a in rows(app, Assessment, Assessment.instrument == "audit")
            if a.voided_at is None]
    assert len(live) == 1 and live[0].total == 5


def test_extension_draft_is_kept_apart_from_an_audit_draft(app, client, clinic) -> None:
    login(client, clinic["gp"])
    patient = register(client, person("male", older=False), "Amund Prøvesen")
    source = screened_c(client, patient, [2, 1, 1])
    html = client.get(f"/assessments/{source}/extend").get_data(as_text=True)
    saved = client.post(f"/assessments/{source}/extend/draft",
                        data={"q4": "2", "q7": "1", "q1": "4", "_target": "audit"},
                        headers={"X-CSRFToken": csrf_from(html)})
    assert saved.status_code == 204
    (draft,) = rows(app, Draft)
    assert draft.instrument.startswith("extend:") and len(draft.instrument) <= 32
    form = client.get(f"/assessments/{source}/extend").get_data(as_text=True)
    assert "Svarene du ikke hadde sendt, er hentet fram igjen." in form
    assert re.search(r'name="q4" value="2"[^>]*\s+checked', form)
    find = client.get("/patients")
    assert find.status_code == 200 and "EXTEND" not in find.get_data(as_text=True).upper()
    done = post_extension(client, source, REST_ZERO)
    assert done.status_code == 303
    assert rows(app, Draft) == []


def test_reports_count_the_two_steps_and_say_how(app, client, clinic) -> None:
    login(client, clinic["gp"])
    for n in range(3):
        patient = register(client, person("female", older=False), f"Prøve Person{n}")
        source = screened_c(client, patient, [2, 1, 1])
        if n < 2:
            assert post_extension(client, source, REST_ZERO).status_code == 303
    db = app.extensions["screening.db"]
    session = db.read_session()
    try:
        from screening.localtime import local_month
        from screening.models.base import utcnow

        month = local_month(utcnow())
        from screening.core.report_tables import Period

        audit_rows = grouped_rows(session, Filters(Period.month(month), "audit"))
        c_rows = grouped_rows(session, Filters(Period.month(month), "audit_c"))
    finally:
        session.close()
    assert sum(r.n for r in audit_rows) == 2 and sum(r.extensions for r in audit_rows) == 2
    assert sum(r.n for r in c_rows) == 3 and all(r.positive for r in c_rows)
    analyst = make_staff(app, "analytiker", "analyst")
    reader = app.test_client()
    login(reader, analyst)
    for instrument in ("audit", "audit_c"):
        page = reader.get(f"/reports?kind=month&month={month}&instrument={instrument}")
        html = page.get_data(as_text=True)
        assert page.status_code == 200
        assert "ikke legg sammen AUDIT-C- og AUDIT-rapportene" in html
        if instrument == "audit_c":
            assert "AUDIT-C-screeninger etter resultat, kjønn og aldersgruppe" in html
            assert "Screeninger etter AUDIT-C-resultat" in html and "DUDIT" not in html.replace(
                "AUDIT, AUDIT-C eller DUDIT", "").replace(">DUDIT<", "")
    assert "Utvidet fra AUDIT-C" in reader.get(
        f"/reports?kind=month&month={month}&instrument=audit").get_data(as_text=True)
    csv = reader.get(f"/reports/report.csv?kind=month&month={month}&instrument=audit_c")
    assert "ikke legg sammen" in csv.get_data().decode("utf-8-sig")
