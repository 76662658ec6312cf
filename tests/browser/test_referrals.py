"""Referrals in Chromium at tablet size, in bokmål (issue 16, point 10): a nurse screens a
patient at level 3 and sends a referral to the substance-use service with the patient's
consent; the consultant finds it on her home page and in her worklist's inbox, opens it
(the full record is refused until she accepts), accepts it and opens the patient. A referral
returned with a note is seen by the nurse on the patient page and her worklist.

Before this, a pathway to another unit reached no one unless a box deep in the conversation
was ticked, and then the other unit got the record silently: there was no "Send henvisning"
on the result and no inbox, so every step here failed."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.app.care_world import World, build
from tests.browser.clinician import answer_all, answer_medication, log_in, older_fnr
from tests.browser.test_accessibility import AXE, serious_violations
from tests.browser.test_layout import overflow, small_targets

SCREENSHOTS = Path(__file__).parent / "screenshots"
RNG = random.Random(1016)
LEVEL_3 = [3, 2, 2, 2, 1, 1, 1, 1, 0, 0]  # 13 points, lifted to level 3 (E1)
SUC = "Ruskonsulent / psykisk helse- og rustjenesten"


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


def screen_at_level_3(page: Page, live_server: str, world: World, name: str) -> str:
    """Log in as the nurse, register the patient, answer AUDIT; returns the result's URL."""
    page.goto(live_server + "/")
    log_in(page, world.people["nurse"])
    page.get_by_role("link", name="Finn eller registrer pasient").click()
    page.get_by_role("link", name="Registrer ny pasient").click()
    page.get_by_label("Fødselsnummer").fill(older_fnr(RNG, "female"))
    page.get_by_label("Fullt navn").fill(name)
    page.get_by_role("button", name="Registrer", exact=True).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    answer_all(page, LEVEL_3)
    answer_medication(page)
    page.get_by_role("button", name="Vis resultat").click()
    page.wait_for_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))
    expect(page.locator("dl.figures")).to_contain_text("3")
    return page.url


def send_referral(page: Page, pathway: str, unit: str) -> None:
    page.get_by_role("link", name=f"Send henvisning: {pathway}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Send henvisning: {pathway}")
    expect(page.get_by_label("Mottakende enhet")).to_have_value(re.compile(r"\d+"))
    assert page.get_by_label("Mottakende enhet").locator("option:checked").inner_text() == unit
    expect(page.get_by_label("Begrunnelse for henvisningen")).not_to_have_value("")
    consent = page.get_by_role("group", name="Pasientens samtykke")
    consent.get_by_role("radio", name="Pasienten samtykker", exact=True).check()
    shoot(page, f"referral-form-{pathway.split()[0].lower()}-tablet")
    page.get_by_role("button", name="Send henvisningen").click()
    expect(page.get_by_role("status").filter(has_text="Henvisningen er sendt til")).to_be_visible()
    sent = page.get_by_role("link", name=re.compile(r"\(sendt, venter på svar\)$"))
    expect(sent).to_have_text(f"Send henvisning: {pathway} (sendt, venter på svar)")


def test_referral_sent_accepted_and_the_record_opens(  # type: ignore[no-untyped-def]
        live_server: str, open_page, world: World) -> None:
    name = "Ragna Henvisningsdatter"
    nurse = open_page()
    result_url = screen_at_level_3(nurse, live_server, world, name)
    patient_url = nurse.locator("a", has_text="Tilbake til pasienten").get_attribute("href")
    # elder care is the nurse's own unit's: no referral to send for it
    expect(nurse.get_by_role("link", name=re.compile("^Send henvisning: Hjemmetjenesten"))) \
        .to_have_count(0)
    send_referral(nurse, SUC, "Substance-use service")
    shoot(nurse, "referral-result-sent-tablet")

    consultant = open_page()
    consultant.goto(live_server + "/")
    log_in(consultant, world.people["consultant"])
    waiting = consultant.get_by_role("link", name=re.compile(
        "^Henvisninger som venter på svar fra enheten din: 1"))
    expect(waiting).to_be_visible()
    shoot(consultant, "referral-home-consultant-tablet")
    waiting.click()
    inbox = consultant.locator("section#inbox")
    expect(inbox.get_by_role("heading", name="Henvisninger til enheten din (1)")).to_be_visible()
    row = inbox.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text(re.compile(r"\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}"))  # Oslo time
    expect(row).to_contain_text(re.compile(rf"{name}, \d+ år"))
    expect(row).to_contain_text("Ruskonsulent")
    expect(row).to_contain_text("Nivå 3–4: ruskonsulenten")
    expect(row).to_contain_text("Nurse (Home care A)")
    shoot(consultant, "referral-inbox-consultant-tablet")

    # the full record is refused before acceptance
    consultant.goto(live_server + patient_url)
    expect(consultant.get_by_role("heading", name="Ingen tilgang")).to_be_visible()
    expect(consultant.get_by_text(name)).to_have_count(0)
    consultant.goto(live_server + "/worklist")
    consultant.get_by_role("row").filter(has_text=name).get_by_role(
        "link", name="Åpne henvisningen").click()
    expect(consultant.get_by_role("heading", level=1)).to_have_text(f"Henvisning: {SUC}")
    expect(consultant.get_by_role("link", name="Åpne pasienten")).to_have_count(0)
    accept = consultant.locator("section#accept")
    expect(accept.get_by_label("Dato for oppfølging")).not_to_have_value("")
    expect(accept.get_by_role("radio", name="telefon")).to_be_checked()
    shoot(consultant, "referral-view-consultant-tablet")
    accept.get_by_role("button", name="Ta imot").click()
    expect(consultant.get_by_role("status").filter(
        has_text="Henvisningen er tatt imot.")).to_be_visible()
    expect(consultant.locator("dd.referral-status")).to_have_text("tatt imot")
    consultant.get_by_role("link", name="Åpne pasienten").click()
    expect(consultant.get_by_role("heading", name=name, level=1)).to_be_visible()
    shoot(consultant, "referral-patient-opened-consultant-tablet")
    # her worklist has the follow-up now, the inbox is empty
    consultant.get_by_role("navigation", name="Hovedmeny").get_by_role(
        "link", name="Arbeidsliste").click()
    expect(consultant.locator("section#inbox")).to_have_count(0)
    expect(consultant.get_by_role("row").filter(has_text=name)).to_contain_text("Ruskonsulent")

    # the nurse sees the answer
    nurse.goto(result_url)
    expect(nurse.get_by_role("link", name=re.compile(r"\(tatt imot\)$"))).to_have_text(
        f"Send henvisning: {SUC} (tatt imot)")
    assert nurse.request_log.foreign() == [] and consultant.request_log.foreign() == []


def test_a_returned_referral_and_its_note_reach_the_nurse(  # type: ignore[no-untyped-def]
        live_server: str, open_page, world: World) -> None:
    name = "Torleif Tilbakesendt"
    nurse = open_page()
    screen_at_level_3(nurse, live_server, world, name)
    send_referral(nurse, "Fastlege", "GP office A")

    gp = open_page()
    gp.goto(live_server + "/worklist")
    log_in(gp, world.people["gp"])
    gp.goto(live_server + "/worklist")
    gp.get_by_role("row").filter(has_text=name).get_by_role(
        "link", name="Åpne henvisningen").click()
    back = gp.locator("section#return")
    back.get_by_role("button", name="Send tilbake til avsenderen").click()
    expect(back.get_by_text("Skriv en merknad til avsenderen.")).to_be_visible()
    note = "Pasienten har time hos meg neste uke allerede; ingen henvisning nødvendig."
    gp.locator("section#return").get_by_label("Hvorfor henvisningen sendes tilbake").fill(note)
    gp.locator("section#return").get_by_role("button", name="Send tilbake til avsenderen").click()
    expect(gp.get_by_role("status").filter(has_text="sendt tilbake til avsenderen")).to_be_visible()

    nurse.get_by_role("navigation", name="Hovedmeny").get_by_role(
        "link", name="Arbeidsliste").click()
    sent = nurse.locator("section.worklist-sent")
    row = sent.get_by_role("row").filter(has_text=name)
    expect(row).to_contain_text("sendt tilbake")
    expect(row).to_contain_text(note)
    shoot(nurse, "referral-returned-worklist-nurse-tablet")
    row.get_by_role("link", name=name).click()
    referrals = nurse.locator("section#referrals")
    expect(referrals).to_contain_text("Fastlege")
    expect(referrals).to_contain_text("sendt tilbake")
    expect(referrals).to_contain_text(note)
    shoot(nurse, "referral-returned-patient-nurse-tablet")
    assert nurse.request_log.foreign() == [] and gp.request_log.foreign() == []
