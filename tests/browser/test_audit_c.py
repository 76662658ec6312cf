"""AUDIT-C first, then the full AUDIT, in Chromium at the tablet size and in bokmål (issue 17,
point 5): a GP screens with AUDIT-C (positive), extends it to the full AUDIT without being
asked items 1-3 again, and sees one AUDIT result; a negative AUDIT-C offers no extension.
Screenshots under screenshots/audit-c-*."""

from __future__ import annotations

import random
import re
from pathlib import Path

from playwright.sync_api import Page, expect
from sqlalchemy import select

from screening.models import Assessment
from tests.browser.clinician import (
    answer,
    answer_medication,
    item,
    log_in,
    older_fnr,
    register_patient,
    younger_fnr,
)
from tests.browser.conftest import PHONE
from tests.browser.test_accessibility import AXE, serious_violations
from tests.browser.test_layout import overflow, small_targets

RNG = random.Random(1705)
SCREENSHOTS = Path(__file__).parent / "screenshots"


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"audit-c-{name}.png", full_page=True)


def stored(app) -> list[tuple[str, int, int | None]]:  # type: ignore[no-untyped-def]
    session = app.extensions["screening.db"].read_session()
    try:
        return [(a.instrument, a.total, a.extends_id) for a in
                session.scalars(select(Assessment).order_by(Assessment.id))]
    finally:
        session.close()


def test_gp_screens_with_audit_c_and_extends_to_the_full_audit(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, open_page, app, clinic) -> None:
    page.goto(live_server + "/")
    log_in(page, clinic["gp"])
    register_patient(page, "Ingrid Totrinnsen", older_fnr(RNG, "female"))
    page.get_by_role("link", name="Ny AUDIT-C").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^AUDIT-C"))
    expect(item(page, 4)).to_have_count(0)  # three questions only
    answer(page, {1: 1, 2: 1, 3: 1})  # 3 points: positive for a woman
    answer_medication(page)
    page.get_by_role("button", name="Vis resultat").click()
    expect(page).to_have_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))
    source_url = page.url
    expect(page.get_by_role("heading", name=re.compile("^Resultat: AUDIT-C"))).to_be_visible()
    expect(page.locator("dd.big").filter(has_text="positiv")).to_be_visible()
    offer = page.get_by_role("region", name="Neste trinn: full AUDIT")
    expect(offer).to_be_visible()
    shoot(page, "result-positive")

    offer.get_by_role("link", name="Utvid til full AUDIT").click()
    expect(page.get_by_role("heading", name="Utvid til full AUDIT", level=1)).to_be_visible()
    carried = page.get_by_role("region", name=re.compile("^Svar fra AUDIT-C"))
    expect(carried.get_by_text("Hvor ofte drikker du alkohol?")).to_be_visible()
    expect(carried.get_by_text("Månedlig eller sjeldnere")).to_be_visible()
    for number in (1, 2, 3):  # shown, not asked again
        expect(item(page, number)).to_have_count(0)
    for number in range(4, 11):
        expect(item(page, number)).to_be_visible()
    assert small_targets(page) == [] and overflow(page) == 0
    assert serious_violations(page, AXE.read_text(encoding="utf-8")) == []
    shoot(page, "extend-form")
    answer(page, {4: 0, 5: 1, 6: 0, 7: 1, 8: 0, 9: 0, 10: 0})
    page.get_by_role("button", name="Vis resultat").click()
    expect(page).to_have_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", name=re.compile("^Resultat: AUDIT –"))).to_be_visible()
    expect(page.get_by_text(re.compile("^Denne AUDIT utvider AUDIT-C fra"))).to_be_visible()
    expect(page.locator("dl.figures dd.big").first).to_have_text("5")
    # every answer in the table, items 1-3 as the AUDIT-C had them
    answers = page.get_by_role("region", name="Svarene")
    first_row = re.compile("Hvor ofte drikker du alkohol\\? Månedlig eller sjeldnere 1")
    expect(answers.get_by_role("row", name=first_row)).to_be_visible()
    shoot(page, "extended-audit-result")
    audit_url = page.url
    assert [(i, t) for i, t, _ in stored(app)] == [("audit_c", 3), ("audit", 5)]
    assert stored(app)[1][2] is not None

    # the AUDIT-C now points to its AUDIT, and offers no second one
    page.goto(source_url)
    offer = page.get_by_role("region", name="Neste trinn: full AUDIT")
    expect(offer.get_by_role("link", name="Utvid til full AUDIT")).to_have_count(0)
    offer.get_by_role("link", name="Åpne AUDIT-resultatet").click()
    expect(page).to_have_url(audit_url)

    # the extension form fits the phone too
    phone = open_page(viewport=PHONE)
    phone.goto(live_server + "/")
    log_in(phone, clinic["gp"], step=1)
    register_patient(phone, "Marit Mobilsen", younger_fnr(RNG, "female"))
    phone.get_by_role("link", name="Ny AUDIT-C").click()
    answer(phone, {1: 2, 2: 1, 3: 0})
    phone.get_by_role("button", name="Vis resultat").click()
    phone.get_by_role("link", name="Utvid til full AUDIT").click()
    expect(phone.get_by_role("heading", name="Utvid til full AUDIT", level=1)).to_be_visible()
    assert small_targets(phone) == [] and overflow(phone) == 0
    phone.screenshot(path=SCREENSHOTS / "audit-c-extend-form-phone.png", full_page=True)


def test_a_negative_audit_c_offers_no_extension(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, app, clinic) -> None:
    page.goto(live_server + "/")
    log_in(page, clinic["gp"])
    register_patient(page, "Knut Negativsen", younger_fnr(RNG, "male"))
    page.get_by_role("link", name="Ny AUDIT-C").click()
    answer(page, {1: 1, 2: 1, 3: 1})  # 3 points: negative for a man (4 or more)
    page.get_by_role("button", name="Vis resultat").click()
    expect(page).to_have_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))
    expect(page.locator("dd.big").filter(has_text="negativ")).to_be_visible()
    expect(page.get_by_role("link", name="Utvid til full AUDIT")).to_have_count(0)
    expect(page.get_by_role("region", name="Neste trinn: full AUDIT")).to_have_count(0)
    shoot(page, "result-negative")
    assert [i for i, _t, _e in stored(app)] == ["audit_c"]
