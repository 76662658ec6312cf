"""Clinical safety of the conversation (issue 17, points 1-3): every safety finding has a
route and suicidality and withdrawal risk an urgent one, recorded with its time and shown at
the top of the result; the result warns of withdrawal risk; an override upwards brings the
higher level's steps; a goal to reduce needs its target and "other" its description."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from screening.models import Conversation
from tests.app.fnr import random_fnr
from tests.app.staffing import login, make_staff, make_units
from tests.app.test_screening_flow import audit_form, post_audit, register
from tests.conftest import csrf_from

RNG = random.Random(1701)
LEVEL_1 = [1, 0, 0, None, None, None, None, None, 0, 0]  # 1 point: zone I, level 1
DEPENDENCE = [3, 2, 2, 2, 1, 1, 1, 0, 0, 0]  # p4 + p5 + p6 = 4: possible dependence


@pytest.fixture
def nurse(app, client):  # type: ignore[no-untyped-def]
    make_units(app)
    person = make_staff(app, "nurse.a", "nurse", ("home-a",))
    login(client, person)
    return person


def screened(client, answers) -> str:  # type: ignore[no-untyped-def]
    fnr = random_fnr(RNG, sex="male", born_from=date(1966, 1, 1), born_to=date(1975, 1, 1))
    patient = register(client, fnr, "Trygg Samtalesen")
    html, token = audit_form(client, patient)
    done = post_audit(client, patient, html, token, answers, setting="gp_practice")
    assert done.status_code == 303
    return done.headers["Location"].rsplit("/", 1)[1]


def save(client, assessment: str, **fields: str):  # type: ignore[no-untyped-def]
    page = client.get(f"/assessments/{assessment}/conversation").get_data(as_text=True)
    data = {"csrf_token": csrf_from(page), "version": re.search(
        r'name="version" type="hidden" value="([^"]*)"', page).group(1)}
    for name, value in fields.items():
        data[name.replace("__", ".")] = value
    return client.post(f"/assessments/{assessment}/conversation", data=data)


def test_suicidality_needs_a_route_the_same_day_shown_on_top_of_the_result(
        app, client, nurse) -> None:
    assessment = screened(client, LEVEL_1)
    no_route = save(client, assessment, safety__flags="low_mood_or_suicidality")
    assert no_route.status_code == 422
    assert "«Sendt videre til»: det trengs når «Sikkerhetsfunn» er fylt ut" in \
        no_route.get_data(as_text=True)
    later = save(client, assessment, safety__flags="low_mood_or_suicidality",
                 safety__routed_to="gp")
    assert later.status_code == 422
    assert "trenger hjelp samme dag" in later.get_data(as_text=True)
    assert app.extensions["screening.db"].read_session().scalar(select(Conversation)) is None
    done = save(client, assessment, safety__flags="low_mood_or_suicidality",
                safety__routed_to="gp_same_day")
    assert done.status_code == 303
    result = client.get(f"/assessments/{assessment}").get_data(as_text=True)
    banner = re.search(r'<div class="message message-error urgent-banner" role="alert">(.*?)</div>',
                       result, re.S).group(1)
    assert "Akutt: nedstemthet eller selvmordstanker." in banner
    assert "116 117" in banner and "113" in banner
    assert "Sendt videre til: fastlegen, samme dag, registrert " in banner
    assert re.search(r"registrert \d\d\.\d\d\.\d{4} \d\d:\d\d", banner)
    assert result.index("urgent-banner") < result.index("result-summary")


def test_a_falls_finding_needs_a_route_too(app, client, nurse) -> None:
    assessment = screened(client, LEVEL_1)
    assert save(client, assessment, safety__flags="falls").status_code == 422
    assert save(client, assessment, safety__flags="falls",
                safety__routed_to="gp").status_code == 303
    assert "urgent-banner" not in client.get(f"/assessments/{assessment}").get_data(
        as_text=True)


def test_the_result_warns_of_withdrawal_before_advice_to_stop(app, client, nurse) -> None:
    assessment = screened(client, DEPENDENCE)
    result = client.get(f"/assessments/{assessment}").get_data(as_text=True)
    assert "Mulig avhengighet: fare for abstinens." in result
    assert result.index("withdrawal-warning") < result.index("Anbefalt oppfølging")
    plain = screened(client, LEVEL_1)
    assert "withdrawal-warning" not in client.get(f"/assessments/{plain}").get_data(
        as_text=True)


def test_an_override_upwards_brings_the_higher_levels_steps(app, client, nurse) -> None:
    assessment = screened(client, LEVEL_1)  # suggested level 1: nothing required
    page = client.get(f"/assessments/{assessment}/conversation").get_data(as_text=True)
    assert "(påkrevd)" not in page
    bare = save(client, assessment, override__chosen_level="3",
                override__reason="Nylig fall og forvirring")
    assert bare.status_code == 422
    body = bare.get_data(as_text=True)
    for label in ("Tilbakemelding gitt", "«Mål»", "«Dato»"):
        assert label in body, label
    due = (date.today() + timedelta(days=14)).isoformat()
    complete = save(client, assessment, override__chosen_level="3",
                    override__reason="Nylig fall og forvirring", feedback__given="on",
                    goal__type="abstain", follow_up__date=due, follow_up__by="gp",
                    follow_up__mode="consultation")
    assert complete.status_code == 303
    page = client.get(f"/assessments/{assessment}/conversation").get_data(as_text=True)
    assert page.count("(påkrevd)") == 3


def test_a_goal_to_reduce_needs_its_target_and_other_its_text(app, client, nurse) -> None:
    assessment = screened(client, LEVEL_1)
    reduce = save(client, assessment, goal__type="reduce")
    assert reduce.status_code == 422
    assert "«Mål: enheter per uke»: det trengs når «Mål» er «redusere»" in \
        reduce.get_data(as_text=True)
    other = save(client, assessment, menu__options="other")
    assert other.status_code == 422
    assert "«Annet, beskriv»: det trengs når «Valgte muligheter» er «annet»" in \
        other.get_data(as_text=True)
    assert save(client, assessment, goal__type="reduce", goal__units_per_week="10",
                menu__options="other", menu__other="Bytte til alkoholfritt øl").status_code == 303
