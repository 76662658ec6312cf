"""Follow-ups through the Flask client: past dates refused wherever a date is set (Oslo's
today), closing with each outcome and the report fact's state, no jump into a new form,
the worklist's filters, one access-log row per patient shown, and the home page's day
(issue 16, points 5 and 11)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from screening.localtime import local_today
from screening.models import Conversation, FollowUp
from screening.services import conversations, follow_ups
from tests.app.care_world import LEVEL_2, LEVEL_3, World, build, follow_ups_of, post_to, task
from tests.conftest import csrf_from


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return build(app)


def close(world: World, follow_up_uuid: str, who: str = "nurse", **data: str):  # type: ignore[no-untyped-def]
    client = world.client(who)
    url = f"/follow-ups/{follow_up_uuid}"
    return client, post_to(client, url, f"{url}/close", data)


def conversation_form(world: World, assessment: str, due: date, **extra: str) -> dict[str, str]:
    return {"version": "", "feedback.given": "on", "goal.type": "reduce",
            "goal.units_per_week": "7", "follow_up.date": due.isoformat(),
            "follow_up.by": "elder_care", "follow_up.mode": "home_visit", **extra}


# ------------------------------------------------------------------------------ dates


def test_a_past_follow_up_date_is_refused_in_the_conversation(world: World) -> None:
    patient = world.patient("Oddvar Fortidsen")
    assessment = world.audit(patient, LEVEL_2)
    nurse = world.client("nurse")
    url = f"/assessments/{assessment}/conversation"
    page = nurse.get(url).get_data(as_text=True)
    yesterday = local_today() - timedelta(days=1)
    refused = nurse.post(url, data={"csrf_token": csrf_from(page),
                                    **conversation_form(world, assessment, yesterday)})
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Datoen for oppfølging kan ikke være tilbake i tid." in html
    assert yesterday.isoformat() in html  # what she typed is still there
    assert world.read(Conversation) == [] and follow_ups_of(world, assessment) == []
    # today is allowed
    saved = nurse.post(url, data={"csrf_token": csrf_from(page),
                                  **conversation_form(world, assessment, local_today())})
    assert saved.status_code == 303
    [planned] = follow_ups_of(world, assessment)
    assert (planned.due_date, planned.unit_id, planned.responsible_id) == (
        local_today(), world.units["home-a"], world.people["nurse"].id)


def test_an_edit_may_keep_a_stored_date_that_has_passed(world: World) -> None:
    """A conversation recorded weeks ago keeps its date: editing the goal is no new date."""
    patient = world.patient("Gunda Gammeldato")
    assessment = world.audit(patient, LEVEL_2)
    user = world.users["nurse"]
    catalogue = world.app.extensions["screening.catalogue"]
    plan = {"feedback": {"given": True}, "goal": {"type": "reduce", "units_per_week": 7},
            "follow_up": {"date": "2026-01-05", "by": "elder_care", "mode": "phone"}}
    saved = conversations.save(world.db, world.keyring, catalogue, user,
                               assessment_uuid=assessment, record=plan, expected_version=None,
                               today=date(2026, 1, 2))
    assert saved.follow_up_created
    plan["goal"] = {"type": "reduce", "units_per_week": 5}
    again = conversations.save(world.db, world.keyring, catalogue, user,
                               assessment_uuid=assessment, record=plan, expected_version=1,
                               today=date(2026, 3, 1))
    assert again.uuid == saved.uuid
    plan["follow_up"] = {**plan["follow_up"], "date": "2026-02-20"}  # changed, and past
    with pytest.raises(conversations.ConversationError) as err:
        conversations.save(world.db, world.keyring, catalogue, user,
                           assessment_uuid=assessment, record=plan, expected_version=2,
                           today=date(2026, 3, 1))
    assert err.value.code == "past_date"


def test_today_is_oslos_around_midnight() -> None:
    """22:30 UTC on 31 March is 00:30 on 1 April in Oslo (summer time): 31 March is past
    there, though a UTC clock still says 31 March. In winter 23:30 UTC is 00:30 next day."""
    from screening.localtime import local_today as oslo_today

    late = datetime(2026, 3, 31, 22, 30, tzinfo=UTC)
    assert oslo_today(late) == date(2026, 4, 1)
    with pytest.raises(follow_ups.FollowUpError):
        follow_ups.check_due_date(date(2026, 3, 31), oslo_today(late))
    follow_ups.check_due_date(date(2026, 4, 1), oslo_today(late))
    winter = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)  # 00:30 on the 16th in Oslo
    assert oslo_today(winter) == date(2026, 1, 16)


# ------------------------------------------------------------------------------ outcomes


@pytest.mark.parametrize(("outcome", "days_late", "state"), [
    ("done", 0, "on_time"),
    ("done", 3, "late"),
    ("declined", 0, "on_time"),
    ("declined", 2, "late"),
    ("not_reached", 0, "late"),
])
def test_each_outcome_is_stored_shown_and_counted(world: World, outcome: str, days_late: int,
                                                  state: str) -> None:
    patient = world.patient("Utfall Utfallsen")
    assessment = world.audit(patient, LEVEL_2)
    uuid = task(world, assessment, due=local_today() - timedelta(days=days_late))
    assert world.fact_state(assessment) == "pending"
    before = len(world.log_of(patient))
    client, response = close(world, uuid, outcome=outcome, note="Ringte kl. 10.")
    # the page read for the form, then the change
    assert [r.action for r in world.log_of(patient)[before:]] == [
        "patient_view", "follow_up_update"]
    assert response.status_code == 303 and response.headers["Location"].endswith(uuid)
    row = world.one(FollowUp, uuid=uuid)
    assert (row.status, row.outcome, row.done_by) == ("closed", outcome,
                                                      world.people["nurse"].id)
    assert b"Ringte" not in row.note_sealed
    assert world.fact_state(assessment) == state
    page = client.get(f"/follow-ups/{uuid}").get_data(as_text=True)
    names = {"done": "Utført", "declined": "Pasienten takket nei",
             "not_reached": "Fikk ikke tak i pasienten"}
    assert names[outcome] in page and "Ringte kl. 10." in page
    assert names[outcome] in client.get("/worklist").get_data(as_text=True)
    assert names[outcome] in client.get(f"/patients/{patient}").get_data(as_text=True)


def test_rescheduled_makes_a_new_task_and_stays_pending(world: World) -> None:
    patient = world.patient("Flytte Flyttesen")
    assessment = world.audit(patient, LEVEL_2)
    first_due = local_today() - timedelta(days=2)
    uuid = task(world, assessment, due=first_due, responsible="nurse")
    # a past new date is refused, nothing changed
    _client, refused = close(world, uuid, outcome="rescheduled",
                             new_date=(local_today() - timedelta(days=1)).isoformat())
    assert refused.status_code == 422
    assert "Datoen kan ikke være tilbake i tid." in refused.get_data(as_text=True)
    assert world.one(FollowUp, uuid=uuid).status == "open"
    _client, missing = close(world, uuid, outcome="rescheduled")
    assert missing.status_code == 422 and "Velg den nye datoen." in missing.get_data(as_text=True)
    new_date = local_today() + timedelta(days=10)
    client, moved = close(world, uuid, outcome="rescheduled", new_date=new_date.isoformat())
    assert moved.status_code == 303
    old = world.one(FollowUp, uuid=uuid)
    new = world.one(FollowUp, rescheduled_from_id=old.id)
    assert (old.status, old.outcome) == ("closed", "rescheduled")
    assert (new.status, new.due_date, new.responsible_id) == (
        "open", new_date, world.people["nurse"].id)
    assert world.fact_state(assessment) == "pending"
    shown = client.get(f"/follow-ups/{uuid}").get_data(as_text=True)
    assert f"Flyttet til {new_date:%d.%m.%Y}" in shown
    # done by the new date, but after the date first planned: late
    close(world, new.uuid, outcome="done")
    assert world.fact_state(assessment) == "late"


def test_a_task_done_on_time_after_a_reschedule_within_the_first_date(world: World) -> None:
    patient = world.patient("Tidlig Tidligsen")
    assessment = world.audit(patient, LEVEL_2)
    uuid = task(world, assessment, due=local_today() + timedelta(days=5))
    close(world, uuid, outcome="rescheduled", new_date=local_today().isoformat())
    new = world.one(FollowUp, rescheduled_from_id=world.one(FollowUp, uuid=uuid).id)
    close(world, new.uuid, outcome="done")
    assert world.fact_state(assessment) == "on_time"


def test_pending_while_another_task_of_the_fact_is_open(world: World) -> None:
    patient = world.patient("To Oppgavesen")
    assessment = world.audit(patient, LEVEL_3)
    first = task(world, assessment, due=local_today())
    task(world, assessment, due=local_today(), pathway="gp", unit="gp-a", mode="consultation")
    close(world, first, outcome="done")
    assert world.fact_state(assessment) == "pending"


def test_closing_asks_and_never_jumps_into_a_new_form(world: World) -> None:
    patient = world.patient("Gjenta Auditsen")
    assessment = world.audit(patient, LEVEL_2)
    uuid = task(world, assessment, due=local_today(), repeat=True)
    client = world.client("nurse")
    page = client.get(f"/follow-ups/{uuid}").get_data(as_text=True)
    for label in ("Utført", "Fikk ikke tak i pasienten", "Pasienten takket nei",
                  "Flyttet til ny dato"):
        assert label in page
    empty = post_to(client, f"/follow-ups/{uuid}", f"/follow-ups/{uuid}/close", {})
    assert empty.status_code == 422 and "Velg utfallet." in empty.get_data(as_text=True)
    done = post_to(client, f"/follow-ups/{uuid}", f"/follow-ups/{uuid}/close",
                   {"outcome": "done"})
    assert done.status_code == 303 and "/screen/" not in done.headers["Location"]
    shown = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Utfallet er lagret." in shown
    assert f'href="/patients/{patient}/screen/audit">Start ny AUDIT nå' in shown
    # a resend changes nothing
    again = post_to(client, f"/follow-ups/{uuid}", f"/follow-ups/{uuid}/close",
                    {"outcome": "not_reached"})
    assert again.status_code == 303
    assert world.one(FollowUp, uuid=uuid).outcome == "done"


def test_another_unit_cannot_open_or_close_a_task(world: World) -> None:
    patient = world.patient("Fremmed Oppgavesen")
    assessment = world.audit(patient, LEVEL_2)
    uuid = task(world, assessment, due=local_today())
    other = world.client("nurse_b")
    assert other.get(f"/follow-ups/{uuid}").status_code == 403
    _client, response = close(world, uuid, who="nurse", outcome="done")
    assert response.status_code == 303
    refused = post_to(other, "/worklist", f"/follow-ups/{uuid}/take", {})
    assert refused.status_code == 403
    assert world.log_of(patient)[-1].action == "access_denied"


# ------------------------------------------------------------------------------ worklist


def rows_of(html: str, section: str) -> list[str]:
    found = re.search(rf'<section class="card worklist-{section}">(.*?)</section>', html, re.S)
    assert found, section
    return re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S)[1:]  # without the header


def test_worklist_filters(world: World) -> None:
    names = ["Anne Forfaltsen", "Berit Idagsen", "Cato Senere", "Dag Kollegasen"]
    today = local_today()
    dues = [today - timedelta(days=3), today, today + timedelta(days=20), today]
    owners = ["nurse", "nurse", "nurse", None]
    for name, due, owner in zip(names, dues, owners, strict=True):
        patient = world.patient(name)
        task(world, world.audit(patient, LEVEL_2), due=due, responsible=owner)
    client = world.client("nurse")

    def shown(query: str) -> set[str]:
        html = client.get(f"/worklist{query}").get_data(as_text=True)
        return {name for name in names if name in html}

    assert shown("") == set(names)
    assert shown("?when=overdue") == {"Anne Forfaltsen"}
    assert shown("?when=today") == {"Berit Idagsen", "Dag Kollegasen"}
    assert shown("?who=mine") == {"Anne Forfaltsen", "Berit Idagsen", "Cato Senere"}
    assert shown("?who=mine&when=today") == {"Berit Idagsen"}
    assert shown("?who=nobody&when=%3Cscript%3E") == set(names)  # unknown: the defaults
    html = client.get("/worklist?who=mine").get_data(as_text=True)
    assert "«Mine» er oppfølgingene du er ansvarlig for" in html
    assert re.search(r'aria-current="true">Mine<', html)
    # a colleague takes a task over: it is hers now
    dag = world.one(FollowUp, responsible_id=None)
    taken = post_to(client, f"/follow-ups/{dag.uuid}", f"/follow-ups/{dag.uuid}/take", {})
    assert taken.status_code == 303
    assert "Dag Kollegasen" in client.get("/worklist?who=mine").get_data(as_text=True)
    # the nurse of the other unit sees none of them
    other = world.client("nurse_b").get("/worklist").get_data(as_text=True)
    assert not any(name in other for name in names)


def test_the_worklist_logs_one_row_per_patient_shown(world: World) -> None:
    patient = world.patient("Mange Oppgavesen")
    assessment = world.audit(patient, LEVEL_3)
    for days in (0, 1, 2):
        task(world, assessment, due=local_today() + timedelta(days=days))
    before = len(world.log_of(patient))
    html = world.client("nurse").get("/worklist").get_data(as_text=True)
    assert html.count("Mange Oppgavesen") >= 3
    rows = world.log_of(patient)[before:]
    assert [(r.action, r.purpose) for r in rows] == [("patient_view", "care")]


# ------------------------------------------------------------------------------ home page


def test_the_home_page_shows_todays_follow_ups_and_visits(world: World) -> None:
    today = local_today()
    visit = world.patient("Hanna Hjemmebesøk")
    call = world.patient("Per Telefonsen")
    late = world.patient("Olga Forsinket")
    later = world.patient("Sigurd Nesteuke")
    task(world, world.audit(visit, LEVEL_2), due=today, mode="home_visit")
    task(world, world.audit(call, LEVEL_2), due=today, mode="phone")
    task(world, world.audit(late, LEVEL_2), due=today - timedelta(days=4), mode="phone")
    task(world, world.audit(later, LEVEL_2), due=today + timedelta(days=7))
    before = {p: len(world.log_of(p)) for p in (visit, call, late, later)}
    html = world.client("nurse").get("/").get_data(as_text=True)
    today_list = re.search(r'id="day-today">(.*?)</ul>', html, re.S).group(1)
    overdue = re.search(r'id="day-overdue">(.*?)</ul>', html, re.S).group(1)
    assert "Hanna Hjemmebesøk" in today_list and "Per Telefonsen" in today_list
    assert "Olga Forsinket" in overdue and "Olga Forsinket" not in today_list
    assert "Sigurd Nesteuke" not in html
    items = today_list.split("<li>")
    hanna = next(item for item in items if "Hanna Hjemmebesøk" in item)
    per = next(item for item in items if "Per Telefonsen" in item)
    assert "Besøk" in hanna and "Besøk" not in per  # home visits marked as visits
    assert f"/patients/{visit}" in hanna
    assert f"I dag, {today:%d.%m.%Y} (2)" in html
    # each name shown is an access, logged like the worklist's
    for patient in (visit, call, late):
        assert [(r.action, r.purpose) for r in world.log_of(patient)[before[patient]:]] == [
            ("patient_view", "care")]
    assert world.log_of(later)[before[later]:] == []
    # another unit's nurse: nothing of them
    other = world.client("nurse_b").get("/").get_data(as_text=True)
    assert "Hanna" not in other and "Ingen oppfølginger eller besøk i dag." in other


def test_the_home_page_counts_the_inbox(world: World) -> None:
    from screening.services import referrals

    patient = world.patient("Innboks Telling")
    assessment = world.audit(patient, LEVEL_3)
    referrals.send(world.db, world.keyring, world.users["nurse"], assessment,
                   "substance_use_consultant", unit_id=world.units["sub"],
                   reason="Ønsker kontakt.", consent=True)
    before = len(world.log_of(patient))
    html = world.client("consultant").get("/").get_data(as_text=True)
    assert "Henvisninger som venter på svar fra enheten din: 1" in html
    assert "Innboks" not in html  # a count, no name
    assert len(world.log_of(patient)) == before
    assert "venter på svar" not in world.client("consultant_b").get("/").get_data(as_text=True)


def test_closing_dates_are_oslo_dates(world: World) -> None:
    """Closed at 22:30 UTC on the due date, which is 00:30 the next day in Oslo (summer
    time): late; closed at 21:30 UTC (23:30 in Oslo): on time. The fact's state reads the
    Oslo date of the closing time, not the UTC one."""
    patient = world.patient("Midnatt Lukkesen")
    assessment = world.audit(patient, LEVEL_2)
    uuid = task(world, assessment, due=date(2026, 6, 10))
    with world.db.write() as session:
        session.execute(update(FollowUp).where(FollowUp.uuid == uuid).values(
            status="closed", outcome="done", done_at=datetime(2026, 6, 10, 22, 30, tzinfo=UTC)))
        fact_id = session.scalar(select(FollowUp.fact_id).where(FollowUp.uuid == uuid))
        follow_ups.update_fact(session, fact_id)
    assert world.fact_state(assessment) == "late"
    with world.db.write() as session:
        session.execute(update(FollowUp).where(FollowUp.uuid == uuid).values(
            done_at=datetime(2026, 6, 10, 21, 30, tzinfo=UTC)))  # 23:30 in Oslo
        follow_ups.update_fact(session, fact_id)
    assert world.fact_state(assessment) == "on_time"
