"""The clinician's day in Chromium (issue 16, points 1, 2, 7, 8 and 9): back-then-send-again
asks before a second assessment; a session that expires mid-form loses nothing; from 65 the
medication-and-falls checklist is answered or marked as not gone through; the result shows
every answer and the sheet speaks of the action level. Screenshots under screenshots/daily-*.
"""

from __future__ import annotations

import random
import re
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import func, select, update

from screening.models import Assessment, StaffSession
from screening.models.base import utcnow
from tests.browser.clinician import (
    answer,
    answer_all,
    answer_medication,
    checked_items,
    item,
    log_in,
    older_fnr,
    register_patient,
)

RNG = random.Random(1603)
SCREENSHOTS = Path(__file__).parent / "screenshots"
W7_WOMAN = [2, 1, 1, 1, 0, 0, 1, 1, 0, 0]  # a woman of 65+: 7 points, zone I, level 2 (W7)


def count_assessments(app) -> int:  # type: ignore[no-untyped-def]
    session = app.extensions["screening.db"].read_session()
    try:
        return int(session.scalar(select(func.count()).select_from(Assessment)) or 0)
    finally:
        session.close()


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"daily-{name}.png", full_page=True)


def show_result(page: Page) -> None:
    page.get_by_role("button", name="Vis resultat").click()
    expect(page).to_have_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))


def test_back_then_send_again_asks_first(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, app, clinic) -> None:
    page.goto(live_server + "/")
    log_in(page, clinic["nurse"])
    register_patient(page, "Tilbake Igjensen", older_fnr(RNG, "female"))
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    answer_all(page, W7_WOMAN)
    answer_medication(page)
    show_result(page)
    first = page.url
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^AUDIT"))
    answer_all(page, W7_WOMAN)  # as the browser put them back
    answer_medication(page)
    page.get_by_role("button", name="Vis resultat").click()
    expect(page.get_by_role("heading", name="Du lagret denne screeningen for kort tid siden")
           ).to_be_visible()
    expect(page.get_by_text(re.compile(r"i dag kl\. \d\d:\d\d, med sum 7"))).to_be_visible()
    expect(page.get_by_text("Svarene er de samme som da.")).to_be_visible()
    shoot(page, "repeat-question")
    assert count_assessments(app) == 1
    page.get_by_role("link", name=re.compile(r"^Åpne resultatet fra kl\. \d\d:\d\d$")).click()
    expect(page).to_have_url(first)
    assert count_assessments(app) == 1
    # a real second screening is one click more, and says so
    page.get_by_role("link", name="Tilbake til pasienten").click()
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    answer_all(page, [1, 0, 0, None, None, None, None, None, 0, 0])
    answer_medication(page)
    page.get_by_role("button", name="Vis resultat").click()
    expect(page.get_by_text("Svarene er de samme som da.")).to_have_count(0)
    page.get_by_role("button", name="Lagre som ny screening").click()
    expect(page).to_have_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))
    assert page.url != first and count_assessments(app) == 2
    assert page.request_log.foreign() == []


def test_an_expired_session_mid_form_loses_nothing(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, app, clinic) -> None:
    page.goto(live_server + "/")
    log_in(page, clinic["nurse"])
    register_patient(page, "Utløpt Midtveisen", older_fnr(RNG, "female"))
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    answer(page, {1: 2, 2: 1, 3: 1})
    expect(page.get_by_role("status").filter(has_text="Utkast lagret")).to_be_visible()
    # the nurse talks with the patient for an hour: the session ends meanwhile
    with app.extensions["screening.db"].write() as session:
        session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(hours=1)))
    answer(page, {4: 1, 5: 0, 6: 0, 7: 1, 8: 1, 9: 0, 10: 0})  # not saved any more
    answer_medication(page, yes={4})
    expect(page.get_by_role("status").filter(has_text="Ikke lagret")).to_be_visible()
    page.get_by_role("button", name="Vis resultat").click()
    # not a 400: the login page, which says the answers are kept
    expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    expect(page.get_by_text("Svarene dine er tatt vare på")).to_be_visible()
    shoot(page, "expired-login")
    assert count_assessments(app) == 0
    log_in(page, clinic["nurse"], step=1)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^AUDIT"))
    expect(page.get_by_text("ingenting er lagret ennå")).to_be_visible()
    assert checked_items(page) == {n + 1: v for n, v in enumerate(W7_WOMAN)}
    expect(item(page, "M4").get_by_role("radio", name="Ja")).to_be_checked()
    shoot(page, "expired-restored")
    show_result(page)
    assert count_assessments(app) == 1
    # no answer in any address the browser asked for
    assert not [u for u in page.request_log.urls if re.search(r"[?&](q\d+|med_)", u)]
    assert page.request_log.foreign() == []


def test_from_65_the_checklist_first_and_the_result_lists_yes(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, clinic) -> None:
    page.goto(live_server + "/")
    log_in(page, clinic["nurse"])
    register_patient(page, "Sjekk Listesen", older_fnr(RNG, "male"))
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    answer_all(page, W7_WOMAN)
    page.get_by_role("button", name="Vis resultat").click()
    expect(page.get_by_role("alert").filter(
        has_text="sjekklisten om legemidler og fall en del av AUDIT")).to_be_visible()
    expect(item(page, "M1")).to_contain_text("Velg ja eller nei.")
    shoot(page, "checklist-required")
    page.get_by_label("Ikke gått gjennom? Oppgi hvorfor").select_option(
        label="pasienten ville ikke svare")
    show_result(page)
    checklist = page.locator("section", has=page.get_by_role("heading", name="Legemidler og fall"))
    expect(checklist).to_contain_text("Ikke gått gjennom: pasienten ville ikke svare.")
    # the next time she answers it, with two yes
    page.get_by_role("link", name="Tilbake til pasienten").click()
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    answer_all(page, [1, 0, 0, None, None, None, None, None, 0, 0])
    answer_medication(page, yes={1, 4})
    page.get_by_role("button", name="Vis resultat").click()
    page.get_by_role("button", name="Lagre som ny screening").click()
    checklist = page.locator("section", has=page.get_by_role("heading", name="Legemidler og fall"))
    yes = checklist.locator("ul.checklist-yes li")
    expect(yes).to_have_count(2)
    expect(yes.nth(0)).to_contain_text("sovemedisin")
    expect(yes.nth(1)).to_contain_text("falt")
    shoot(page, "checklist-yes")


def test_the_result_shows_every_answer_and_the_sheet_the_level(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, clinic) -> None:
    page.goto(live_server + "/")
    log_in(page, clinic["nurse"])
    register_patient(page, "Ark Kvinnesen", older_fnr(RNG, "female"))
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    answer_all(page, W7_WOMAN)
    answer_medication(page)
    show_result(page)
    answers = page.get_by_role("region", name="Svarene")
    rows = answers.locator("tbody tr")
    expect(rows).to_have_count(10)
    expect(rows.nth(0)).to_contain_text("To til fire ganger i måneden")
    expect(rows.nth(1)).to_contain_text("3–4")
    expect(page.get_by_text("Tiltaksnivå 2 av 4: Enkle råd")).to_be_visible()
    steps = page.locator("section", has=page.get_by_role(
        "heading", name="Slik ble tiltaksnivået bestemt"))
    expect(steps.locator(".rule-code").filter(has_text="regel W7")).to_have_count(1)
    shoot(page, "result")
    page.get_by_role("link", name="Registrer samtalen").click()
    page.get_by_role("group", name=re.compile(r"^2\. Tilbakemelding")).get_by_role(
        "checkbox", name=re.compile("^Tilbakemelding gitt")).check()
    goal = page.get_by_role("group", name=re.compile(r"^8\. Avtalt mål"))
    goal.get_by_role("radio", name="redusere", exact=True).check()
    goal.get_by_label("Mål: enheter per uke").fill("7")
    plan = page.get_by_role("group", name=re.compile(r"^10\. Oppfølging"))
    due = plan.get_by_label("Dato", exact=True).input_value()
    plan.get_by_role("radio", name="hjemmebesøk", exact=True).check()
    page.get_by_role("button", name="Lagre samtalen").click()
    page.get_by_role("link", name="Pasientark (utskrift)").click()
    sheet = page.locator("article.sheet")
    expect(sheet).to_contain_text("Tiltaksnivå 2 av 4: Enkle råd.")
    expect(sheet).not_to_contain_text("lav risiko")
    expect(sheet).to_contain_text("lavere grense")
    expect(sheet).to_contain_text("høyst 7 enheter i uken")
    day, month, year = due[8:10], due[5:7], due[0:4]
    expect(sheet).to_contain_text(f"{day}.{month}.{year}: hjemmebesøk")
    expect(sheet.get_by_role("button", name="Skriv ut")).to_be_visible()
    shoot(page, "sheet")
    page.emulate_media(media="print")
    try:
        expect(sheet.get_by_role("button", name="Skriv ut")).to_be_hidden()
        pdf = page.pdf(prefer_css_page_size=True)
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1, "the sheet is one page"
    finally:
        page.emulate_media(media="screen")
    assert page.request_log.foreign() == []
