"""The worklist and the home page in Chromium at tablet size, in bokmål (issue 16, points 5
and 11): the filters (mine / my units, all / due today / overdue), closing a follow-up with
each outcome (a reschedule to a past date refused with a message), no jump into a new AUDIT
when a repeat AUDIT was planned (it is offered), and the home page's follow-ups and visits
of the day. Also a conversation's follow-up date in the past is refused.

Before this there were no filters, "Merk som utført" closed a task with no outcome and
opened a new AUDIT form at once, and the home page showed only tiles: every step here
failed."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from screening.localtime import local_today
from tests.app.care_world import LEVEL_2, World, build, task
from tests.browser.clinician import log_in
from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import AXE, serious_violations
from tests.browser.test_layout import overflow, small_targets

SCREENSHOTS = Path(__file__).parent / "screenshots"


@pytest.fixture
def world(app) -> World:  # type: ignore[no-untyped-def]
    return build(app)


def shoot(page: Page, name: str) -> None:
    """A full-page screenshot, after axe-core found no serious or critical violation on the
    page and the page proved to fit the tablet (nothing wider than the screen, controls of
    at least 44 × 44)."""
    page.wait_for_load_state()
    assert serious_violations(page, AXE.read_text(encoding="utf-8")) == [], name
    assert overflow(page) == 0 and small_targets(page) == [], name
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def seed(world: World) -> dict[str, str]:
    """Five patients of home care A with a follow-up each: name -> follow-up uuid."""
    today = local_today()
    plans = {
        "Astrid Forfalt": dict(due=today - timedelta(days=3), mode="phone",
                               responsible="nurse"),
        "Bjørn Besøkidag": dict(due=today, mode="home_visit", responsible="nurse",
                                repeat=True),
        "Cecilie Ringidag": dict(due=today, mode="phone", responsible=None),
        "Didrik Senere": dict(due=today + timedelta(days=21), mode="home_visit",
                              responsible="nurse"),
        "Eline Flyttes": dict(due=today + timedelta(days=1), mode="phone", responsible="nurse"),
    }
    out = {}
    for name, plan in plans.items():
        patient = world.patient(name)
        out[name] = task(world, world.audit(patient, LEVEL_2), **plan)  # type: ignore[arg-type]
    return out


def outcome_link(page: Page, name: str):  # type: ignore[no-untyped-def]
    """The "Registrer utfall" link in the worklist row of the patient."""
    return page.get_by_role("row").filter(
        has=page.get_by_role("link", name=name, exact=True)).get_by_role(
        "link", name="Registrer utfall")


def names_shown(page: Page, names: list[str]) -> set[str]:
    return {name for name in names
            if page.locator("section.worklist-overdue, section.worklist-this_week, "
                            "section.worklist-later, section.worklist-today")
            .get_by_role("link", name=name, exact=True).count()}


def test_home_page_shows_todays_follow_ups_and_visits(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, world: World) -> None:
    seed(world)
    page.goto(live_server + "/")
    log_in(page, world.people["nurse"])
    today = page.locator("section.day")
    expect(today.get_by_role("heading", level=2)).to_have_text(
        f"I dag, {local_today():%d.%m.%Y} (2)")
    visit = today.get_by_role("listitem").filter(has_text="Bjørn Besøkidag")
    expect(visit.locator(".badge")).to_have_text("Besøk")
    expect(visit).to_contain_text("hjemmebesøk")
    call = today.get_by_role("listitem").filter(has_text="Cecilie Ringidag")
    expect(call.locator(".badge")).to_have_count(0)
    overdue = page.locator("section.day-overdue")
    expect(overdue).to_contain_text("Astrid Forfalt")
    expect(overdue).to_contain_text(
        f"frist {local_today() - timedelta(days=3):%d.%m.%Y}")
    expect(page.get_by_text("Didrik Senere")).to_have_count(0)
    shoot(page, "home-day-nurse-tablet")
    visit.get_by_role("link", name="Bjørn Besøkidag", exact=True).click()
    expect(page.get_by_role("heading", name="Bjørn Besøkidag", level=1)).to_be_visible()
    assert page.request_log.foreign() == []


def test_filters_and_closing_with_each_outcome(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, world: World) -> None:
    tasks = seed(world)
    names = list(tasks)
    page.goto(live_server + "/")
    log_in(page, world.people["nurse"])
    page.get_by_role("navigation", name="Hovedmeny").get_by_role(
        "link", name="Arbeidsliste").click()
    expect(page.get_by_role("heading", name="Arbeidsliste", level=1)).to_be_visible()
    assert names_shown(page, names) == set(names)
    expect(page.get_by_text("«Mine» er oppfølgingene du er ansvarlig for")).to_be_visible()
    whose = page.get_by_role("group", name="Hvem sine oppfølginger")
    when = page.get_by_role("group", name="Når den forfaller")
    when.get_by_role("link", name="Forfalt").click()
    assert names_shown(page, names) == {"Astrid Forfalt"}
    when.get_by_role("link", name="Forfaller i dag").click()
    assert names_shown(page, names) == {"Bjørn Besøkidag", "Cecilie Ringidag"}
    whose.get_by_role("link", name="Mine", exact=True).click()
    expect(whose.get_by_role("link", name="Mine", exact=True)).to_have_attribute(
        "aria-current", "true")
    assert names_shown(page, names) == {"Bjørn Besøkidag"}  # Cecilie's has no one yet
    shoot(page, "worklist-mine-today-tablet")
    when.get_by_role("link", name="Alle åpne").click()
    assert names_shown(page, names) == {"Astrid Forfalt", "Bjørn Besøkidag", "Didrik Senere",
                                        "Eline Flyttes"}
    whose.get_by_role("link", name="Mine enheter").click()

    # done, with a repeat AUDIT planned: the outcome shown, the new AUDIT offered, not opened
    outcome_link(page, "Bjørn Besøkidag").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Oppfølging: Hjemmetjenesten / eldreomsorgen")
    outcome = page.get_by_role("group", name="Utfall")
    for label in ("Utført", "Fikk ikke tak i pasienten", "Pasienten takket nei",
                  "Flyttet til ny dato"):
        expect(outcome.get_by_role("radio", name=label)).to_be_visible()
    shoot(page, "follow-up-close-form-tablet")
    outcome.get_by_role("radio", name="Utført").check()
    page.get_by_role("button", name="Lagre utfallet").click()
    expect(page.get_by_role("status").filter(has_text="Utfallet er lagret.")).to_be_visible()
    assert re.search(rf"/follow-ups/{tasks['Bjørn Besøkidag']}$", page.url)
    expect(page.locator("dd.outcome")).to_have_text("Utført")
    expect(page.get_by_role("link", name="Start ny AUDIT nå")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("^AUDIT"))).to_have_count(0)
    shoot(page, "follow-up-done-offers-audit-tablet")

    def close(name: str, label: str, note: str = "") -> None:
        page.get_by_role("link", name="Tilbake til arbeidslisten").click()
        outcome_link(page, name).click()
        page.get_by_role("group", name="Utfall").get_by_role("radio", name=label).check()
        if note:
            page.get_by_label("Merknad (valgfritt)").fill(note)
        page.get_by_role("button", name="Lagre utfallet").click()
        expect(page.get_by_role("status").filter(has_text="Utfallet er lagret.")).to_be_visible()
        expect(page.locator("dd.outcome")).to_have_text(label)
        expect(page.get_by_role("link", name="Start ny AUDIT nå")).to_have_count(0)

    close("Astrid Forfalt", "Fikk ikke tak i pasienten", "Ringte to ganger, ikke svar.")
    expect(page.locator("dd.note")).to_have_text("Ringte to ganger, ikke svar.")
    close("Cecilie Ringidag", "Pasienten takket nei")

    # rescheduled: a past date is refused with the reason, then a later one is taken
    page.get_by_role("link", name="Tilbake til arbeidslisten").click()
    outcome_link(page, "Eline Flyttes").click()
    page.get_by_role("group", name="Utfall").get_by_role(
        "radio", name="Flyttet til ny dato").check()
    page.get_by_label("Ny dato", exact=True).fill((local_today() - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Lagre utfallet").click()
    expect(page.get_by_text("Datoen kan ikke være tilbake i tid.")).to_be_visible()
    expect(page.get_by_role("group", name="Utfall").get_by_role(
        "radio", name="Flyttet til ny dato")).to_be_checked()
    shoot(page, "follow-up-reschedule-past-refused-tablet")
    new_date = local_today() + timedelta(days=14)
    page.get_by_label("Ny dato", exact=True).fill(new_date.isoformat())
    page.get_by_role("button", name="Lagre utfallet").click()
    expect(page.get_by_role("status").filter(
        has_text=f"Oppfølgingen er flyttet til {new_date:%d.%m.%Y}.")).to_be_visible()
    expect(page.locator("dd.outcome")).to_have_text(f"Flyttet til {new_date:%d.%m.%Y}")

    page.get_by_role("link", name="Tilbake til arbeidslisten").click()
    closed = page.locator("section.worklist-closed")
    for name, text in (("Bjørn Besøkidag", "Utført"), ("Astrid Forfalt", "Fikk ikke tak i"),
                       ("Cecilie Ringidag", "Pasienten takket nei"),
                       ("Eline Flyttes", f"Flyttet til {new_date:%d.%m.%Y}")):
        expect(closed.get_by_role("row").filter(has_text=name)).to_contain_text(text)
    # the rescheduled follow-up is open again with its new date
    later = page.locator("section.worklist-later").get_by_role("row").filter(
        has_text="Eline Flyttes")
    expect(later).to_contain_text(f"{new_date:%d.%m.%Y}")
    shoot(page, "worklist-after-outcomes-tablet")
    assert page.request_log.foreign() == []


def test_a_past_follow_up_date_is_refused_in_the_conversation(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, world: World) -> None:
    patient = world.patient("Fredrik Fortid")
    assessment = world.audit(patient, LEVEL_2)
    page.goto(live_server + "/")
    log_in(page, world.people["nurse"])
    page.goto(f"{live_server}/assessments/{assessment}/conversation")
    page.get_by_role("checkbox", name=re.compile("^Tilbakemelding gitt")).check()
    page.get_by_role("radio", name="redusere", exact=True).check()
    page.get_by_label("Mål: enheter per uke").fill("7")  # a goal to reduce has its target
    plan = page.get_by_role("group", name=re.compile(r"^10\. Oppfølging"))
    yesterday = local_today() - timedelta(days=1)
    plan.get_by_label("Dato", exact=True).fill(yesterday.isoformat())
    plan.get_by_role("radio", name="hjemmebesøk", exact=True).check()
    page.get_by_role("button", name="Lagre samtalen").click()
    expect(plan.get_by_role("alert")).to_have_text(
        "Datoen for oppfølging kan ikke være tilbake i tid. Velg i dag eller en senere dato.")
    expect(plan.get_by_label("Dato", exact=True)).to_have_value(yesterday.isoformat())
    shoot(page, "conversation-past-date-refused-tablet")
    plan.get_by_label("Dato", exact=True).fill(local_today().isoformat())
    page.get_by_role("button", name="Lagre samtalen").click()
    expect(page.get_by_role("status").filter(has_text="Samtalen er lagret.")).to_be_visible()


def test_the_new_pages_fit_a_phone(  # type: ignore[no-untyped-def]
        live_server: str, open_page, world: World) -> None:
    """Home page, worklist with its inbox, a follow-up, a referral and its form at 390 px:
    nothing wider than the screen, every control at least 44 × 44, no serious axe finding."""
    from screening.services import referrals

    tasks = seed(world)
    patient = world.patient("Gudrun Telefonhenvist")
    assessment = world.audit(patient, [3, 2, 2, 2, 1, 1, 1, 1, 0, 0])
    sent = referrals.send(world.db, world.keyring, world.users["nurse"], assessment,
                          "substance_use_consultant", unit_id=world.units["sub"],
                          reason="Ønsker oppfølging; samtykker.", consent=True)
    phone = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(live_server + "/")
    log_in(phone, world.people["nurse"])
    expect(phone.locator("section.day")).to_contain_text("Bjørn Besøkidag")
    shoot(phone, "home-day-nurse-phone")
    phone.goto(f"{live_server}/worklist")
    shoot(phone, "worklist-nurse-phone")
    phone.goto(f"{live_server}/follow-ups/{tasks['Eline Flyttes']}")
    shoot(phone, "follow-up-close-form-phone")
    phone.goto(f"{live_server}/assessments/{assessment}/referrals/gp")
    shoot(phone, "referral-form-phone")

    consultant = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    consultant.goto(live_server + "/")
    log_in(consultant, world.people["consultant"])
    consultant.goto(f"{live_server}/worklist")
    expect(consultant.locator("section#inbox")).to_contain_text("Gudrun Telefonhenvist")
    shoot(consultant, "referral-inbox-consultant-phone")
    consultant.goto(f"{live_server}/referrals/{sent.uuid}")
    shoot(consultant, "referral-view-consultant-phone")
