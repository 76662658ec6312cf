"""A nurse finds her patient in Chromium, at the tablet size and in bokmål: by part of the
surname, by birth date, from "Mine i dag", from "Nylig åpnet" and from an unfinished
screening listed with the patient's name; and a fødselsnummer registered in another unit
gets exactly the page a number nobody has gets. Screenshots in tests/browser/screenshots/."""

from __future__ import annotations

import random
import re
import secrets
from datetime import date

from playwright.sync_api import Page, expect
from sqlalchemy import select

from screening.localtime import local_today
from screening.models import Assessment, FollowUp, Patient, ReportFact, Unit
from screening.models.base import new_uuid
from screening.services import access_log, patients
from tests.app.fnr import make_fnr, random_fnr
from tests.browser.clinician import log_in, option
from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import AXE, serious_violations
from tests.browser.test_layout import SCREENSHOTS, overflow, small_targets

RNG = random.Random(616)
SEARCH_LABEL = "Navn, fødselsdato eller fødselsnummer"


def register(app, name: str, unit: str, fnr: str) -> str:  # type: ignore[no-untyped-def]
    db, keyring = app.extensions["screening.db"], app.extensions["screening.keys"]
    session = db.read_session()
    try:
        unit_id = session.scalar(select(Unit.id).where(Unit.code == unit))
    finally:
        session.close()
    assert unit_id is not None
    return patients.register(db, keyring, access_log.Actor(None, "system", unit_id), fnr=fnr,
                             name=name, unit_id=unit_id)


def due_today(app, patient_uuid: str) -> None:  # type: ignore[no-untyped-def]
    """A screening of the patient and a home visit due today for the patient's unit."""
    with app.extensions["screening.db"].write() as session:
        row = session.scalar(select(Patient).where(Patient.uuid == patient_uuid))
        assert row is not None
        key = patients.data_key(app.extensions["screening.keys"], row)
        fact = ReportFact(month=local_today().strftime("%Y-%m"), age_band="75_84", sex="female",
                          unit_id=row.unit_id, setting="home_care", instrument="audit",
                          zone="II", level=2, pw_elder_care=True, follow_up="pending")
        session.add(fact)
        session.flush()
        assessment = Assessment(
            uuid=new_uuid(), patient_id=row.id, fact_id=fact.id,
            submission_token=secrets.token_hex(16), instrument="audit", instrument_version="1",
            item_text_version="t1", rule_set="test", rule_set_version="1", total=9, zone="II",
            level=2, flags="[]", pathways='["elder_care"]', setting="home_care",
            unit_id=row.unit_id)
        patients.unlock(assessment, key)
        assessment.answers = {"q1": 2}
        assessment.context = {"age": 80}
        session.add(assessment)
        session.flush()
        session.add(FollowUp(uuid=new_uuid(), patient_id=row.id, assessment_id=assessment.id,
                             fact_id=fact.id, pathway="elder_care", unit_id=row.unit_id,
                             due_date=local_today(), mode="home_visit"))


def number_born(day: date, start: int) -> str:
    return next(n for i in range(start, start + 100) if (n := make_fnr(day, i)))


def find_page(page: Page) -> None:
    menu = page.get_by_role("navigation", name="Hovedmeny")
    menu.get_by_role("link", name="Finn pasient").click()
    expect(page.get_by_role("heading", name="Finn pasient", level=1)).to_be_visible()


def search(page: Page, text: str) -> None:
    page.get_by_label(SEARCH_LABEL, exact=True).fill(text)
    page.get_by_role("button", name="Søk", exact=True).click()


def main_text(page: Page) -> str:
    return " ".join(page.get_by_role("main").inner_text().split())


def test_a_nurse_finds_her_patients(live_server: str, open_page, app, clinic) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(exist_ok=True)
    target_birth = date(1938, 11, 23)
    register(app, "Ingebjørg Kvernhusvik", "home-a", number_born(target_birth, 100))
    register(app, "Ingrid Kvernmo", "home-a", number_born(date(1944, 2, 3), 100))
    register(app, "Halvdan Bråthen", "home-a", number_born(target_birth, 200))
    visit = register(app, "Åsmund Tjernli", "home-a", random_fnr(RNG))
    due_today(app, visit)
    drafted = register(app, "Borghild Sæterdal", "home-a", random_fnr(RNG))
    elsewhere_fnr = random_fnr(RNG)
    register(app, "Annen Enhetsdatter", "home-b", elsewhere_fnr)
    register(app, "Kvern Annensted", "home-b", random_fnr(RNG))
    nobody_fnr = random_fnr(RNG)

    page = open_page()
    page.goto(live_server + "/")
    log_in(page, clinic["nurse"])
    page.get_by_role("link", name="Finn eller registrer pasient").click()
    expect(page.get_by_role("heading", name="Finn pasient", level=1)).to_be_visible()

    # "Mine i dag": the home visit due today, with the patient's name
    mine = page.get_by_role("region", name="Mine i dag")
    expect(mine.get_by_role("link", name=re.compile("^Åsmund Tjernli"))).to_be_visible()
    expect(mine).to_contain_text("i dag")
    assert small_targets(page) == [] and overflow(page) == 0
    page.screenshot(path=SCREENSHOTS / "find-lists-tablet.png", full_page=True)
    mine.get_by_role("link", name=re.compile("^Åsmund Tjernli")).click()
    expect(page.get_by_role("heading", name="Åsmund Tjernli", level=1)).to_be_visible()

    # "Nylig åpnet": the patient just opened
    find_page(page)
    recent = page.get_by_role("region", name="Nylig åpnet")
    recent.get_by_role("link", name=re.compile("^Åsmund Tjernli")).click()
    expect(page.get_by_role("heading", name="Åsmund Tjernli", level=1)).to_be_visible()

    # part of the surname, in lower case: only her unit's patients, sorted by surname
    find_page(page)
    search(page, "kvern")
    results = page.get_by_role("region", name="Søkeresultat")
    expect(results.get_by_role("link")).to_have_count(2)
    expect(results.get_by_role("link").nth(0)).to_contain_text("Ingebjørg Kvernhusvik")
    expect(results.get_by_role("link").nth(1)).to_contain_text("Ingrid Kvernmo")
    expect(results).to_contain_text("født 23.11.1938")
    expect(results).not_to_contain_text("Annensted")
    assert serious_violations(page, AXE.read_text(encoding="utf-8")) == []
    assert small_targets(page) == [] and overflow(page) == 0
    page.screenshot(path=SCREENSHOTS / "find-by-surname-tablet.png", full_page=True)
    assert "kvern" not in page.url.lower()  # the search was posted, not put in the URL
    results.get_by_role("link", name=re.compile("^Ingebjørg Kvernhusvik")).click()
    expect(page.get_by_role("heading", name="Ingebjørg Kvernhusvik", level=1)).to_be_visible()

    # by birth date, as dd.mm.åååå and as ddmmåå
    find_page(page)
    search(page, "23.11.1938")
    results = page.get_by_role("region", name="Søkeresultat")
    expect(results.get_by_role("link")).to_have_count(2)
    expect(results).to_contain_text("Halvdan Bråthen")
    page.screenshot(path=SCREENSHOTS / "find-by-birth-date-tablet.png", full_page=True)
    search(page, "231138")
    expect(page.get_by_role("region", name="Søkeresultat").get_by_role("link")).to_have_count(2)
    search(page, "ingeb 231138")
    results = page.get_by_role("region", name="Søkeresultat")
    expect(results.get_by_role("link")).to_have_count(1)
    results.get_by_role("link", name=re.compile("^Ingebjørg Kvernhusvik")).click()
    expect(page.get_by_role("heading", name="Ingebjørg Kvernhusvik", level=1)).to_be_visible()

    # her name is corrected from the patient page, and found by the new name
    page.get_by_role("link", name="Endre pasientopplysninger").click()
    expect(page.get_by_role("heading", name="Endre pasientopplysninger")).to_be_visible()
    assert small_targets(page) == [] and overflow(page) == 0
    page.screenshot(path=SCREENSHOTS / "patient-details-tablet.png", full_page=True)
    page.get_by_label("Fullt navn").fill("Ingebjørg Kvernhusvik Ørneset")
    page.get_by_role("button", name="Lagre endringene").click()
    expect(page.get_by_role("heading", name="Ingebjørg Kvernhusvik Ørneset", level=1)
           ).to_be_visible()
    expect(page.get_by_text("Pasientopplysningene er rettet.")).to_be_visible()
    find_page(page)
    search(page, "ørne")
    expect(page.get_by_role("region", name="Søkeresultat").get_by_role("link")).to_have_count(1)

    # an unfinished screening is listed with the patient's name, and continues where it was
    page.goto(f"{live_server}/patients/{drafted}")
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    with page.expect_response(lambda r: r.url.endswith("/screen/audit/draft")) as saved:
        option(page, 1, 2).check()
    assert saved.value.status == 204
    find_page(page)
    drafts = page.get_by_role("region", name="Uferdige screeninger")
    link = drafts.get_by_role("link", name=re.compile("^Borghild Sæterdal"))
    expect(link).to_contain_text("AUDIT")
    page.screenshot(path=SCREENSHOTS / "find-drafts-tablet.png", full_page=True)
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^AUDIT"))
    expect(option(page, 1, 2)).to_be_checked()

    # another unit's fødselsnummer: the very page a number nobody has gets
    find_page(page)
    search(page, elsewhere_fnr)
    expect(page.get_by_role("status").filter(
        has_text="Ingen pasient med dette fødselsnummeret er registrert i enhetene dine.")
    ).to_be_visible()
    expect(page.get_by_role("heading", name="Nødtilgang")).to_be_visible()
    elsewhere_text = main_text(page).replace(elsewhere_fnr, "NUMMER")
    assert "Enhetsdatter" not in elsewhere_text and "annen enhet." not in elsewhere_text
    page.screenshot(path=SCREENSHOTS / "find-other-units-number-tablet.png", full_page=True)
    search(page, nobody_fnr)
    expect(page.get_by_role("heading", name="Nødtilgang")).to_be_visible()
    assert main_text(page).replace(nobody_fnr, "NUMMER") == elsewhere_text

    # only with emergency access and a reason is the record found
    page.get_by_label("Hvorfor trenger du tilgang nå?").fill("Akutt tilsyn på kveldsvakt")
    page.get_by_role("button", name="Åpne med nødtilgang").click()
    expect(page.get_by_text("Ingen pasient med dette fødselsnummeret er registrert.",
                            exact=True)).to_be_visible()
    search(page, elsewhere_fnr)
    page.get_by_label("Hvorfor trenger du tilgang nå?").fill("Akutt tilsyn på kveldsvakt")
    page.get_by_role("button", name="Åpne med nødtilgang").click()
    expect(page.get_by_role("heading", name="Annen Enhetsdatter", level=1)).to_be_visible()
    expect(page.get_by_text("Nødtilgang gitt i 24 timer")).to_be_visible()

    assert page.request_log.foreign() == []

    # the find page with its lists on a phone
    phone = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(live_server + "/patients")
    expect(phone.get_by_role("region", name="Nylig åpnet")).to_be_visible()
    assert small_targets(phone) == [] and overflow(phone) == 0
    phone.screenshot(path=SCREENSHOTS / "find-lists-phone.png", full_page=True)
