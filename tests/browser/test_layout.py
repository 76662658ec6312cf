"""The AUDIT and result pages at tablet size (1024×768) and phone size (390×844): touch
targets of at least 44 × 44 CSS pixels, nothing wider than the screen, and screenshots under
tests/browser/screenshots/ (ignored by git) for a person to look at. Also the weight of the
AUDIT page: under 60 KB with everything it loads, all of it from 127.0.0.1."""

from __future__ import annotations

import random
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.clinician import (
    answer_all,
    answer_medication,
    log_in,
    older_fnr,
    register_patient,
)
from tests.browser.conftest import PHONE, TABLET

SCREENSHOTS = Path(__file__).parent / "screenshots"
RNG = random.Random(55)
MIN_TARGET = 44
MAX_AUDIT_PAGE_BYTES = 60 * 1024


def small_targets(page: Page) -> list[str]:
    """Visible controls smaller than 44 × 44: answer options, buttons, button-like links,
    the checklist's summary."""
    out = []
    controls = page.locator("label.option, button, a.button, details > summary")
    for index in range(controls.count()):
        control = controls.nth(index)
        if not control.is_visible():
            continue
        box = control.bounding_box()
        assert box is not None
        if box["width"] < MIN_TARGET - 0.5 or box["height"] < MIN_TARGET - 0.5:
            text = " ".join(control.inner_text().split())[:40]
            out.append(f"{text!r}: {box['width']:.0f}×{box['height']:.0f}")
    return out


def overflow(page: Page) -> int:
    """How many CSS pixels the page is wider than the screen (0 when it fits)."""
    return int(
        page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    )


def shoot(page: Page, name: str) -> None:
    """``name-screen.png``: what the screen shows first (the sticky action bar at its
    bottom); ``name.png``: the whole page, the action bar put back in the flow for the
    picture only (a full-page capture would paint it over the middle of the form)."""
    page.screenshot(path=SCREENSHOTS / f"{name}-screen.png")
    page.evaluate(
        "document.querySelectorAll('.sticky-actions').forEach(e => e.style.position = 'static')"
    )
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    page.evaluate(
        "document.querySelectorAll('.sticky-actions').forEach(e => e.style.position = '')"
    )


def option_labels(page: Page) -> int:
    return page.locator("label.option").count()


def test_screens_at_tablet_and_phone_size(live_server: str, open_page, clinic) -> None:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(exist_ok=True)
    tablet = open_page(viewport=TABLET)
    tablet.goto(live_server + "/")
    log_in(tablet, clinic["nurse"])
    register_patient(tablet, "Skjerm Størrelsesen", older_fnr(RNG, "female"))
    tablet.get_by_role("link", name="Ny AUDIT", exact=True).click()
    audit_url = tablet.url
    phone = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.context.add_cookies(tablet.context.cookies())

    for size, page in (("tablet", tablet), ("phone", phone)):
        page.goto(audit_url)
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^AUDIT"))
        assert option_labels(page) >= 46  # 10 items, the checklist and the setting
        assert small_targets(page) == [], size
        assert overflow(page) == 0, size
        shoot(page, f"audit-{size}")

    answer_all(phone, [2, 1, 1, 1, 0, 0, 1, 1, 0, 0])
    answer_medication(phone, yes={1})
    phone.get_by_role("button", name="Vis resultat").click()
    phone.wait_for_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))
    result_url = phone.url
    for size, page in (("phone", phone), ("tablet", tablet)):
        page.goto(result_url)
        expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Resultat"))
        assert small_targets(page) == [], size
        assert overflow(page) == 0, size
        shoot(page, f"result-{size}")


def test_audit_page_weight_and_origin(live_server: str, open_page, clinic) -> None:  # type: ignore[no-untyped-def]
    """Measured in a fresh browser context (empty cache) that carries only the session
    cookie: the sum of the response bodies of the page load -- document, stylesheet,
    script -- uncompressed (the server sends no compression; bodies are decoded anyway)."""
    setup = open_page()
    setup.goto(live_server + "/")
    log_in(setup, clinic["nurse"])
    register_patient(setup, "Vekt Måleren", older_fnr(RNG, "male"))
    setup.get_by_role("link", name="Ny AUDIT", exact=True).click()
    audit_url = setup.url

    page = open_page()
    page.context.add_cookies(setup.context.cookies())
    responses = []
    page.on("response", lambda response: responses.append(response))
    page.goto(audit_url, wait_until="networkidle")
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^AUDIT"))

    sizes = {}
    for response in responses:
        if response.url.startswith("data:"):
            continue
        assert response.status == 200, (response.url, response.status)
        sizes[response.url.replace(live_server, "")] = len(response.body())
    kinds = {re.sub(r"\?.*$", "", url).rsplit(".", 1)[-1] for url in sizes}
    assert {"css", "js"} <= kinds, sizes  # the stylesheet and the script were counted
    total = sum(sizes.values())
    assert total < MAX_AUDIT_PAGE_BYTES, sizes
    assert page.request_log.urls and page.request_log.foreign() == []
    print(f"\nAUDIT page: {total} bytes in {len(sizes)} responses: {sizes}")


def test_rest_of_the_round_fits_a_phone(live_server: str, open_page, clinic) -> None:  # type: ignore[no-untyped-def]
    """Conversation, patient sheet, worklist and patient page at phone size: the page is
    never wider than the screen (long tables scroll inside their own region) and every
    control is at least 44 × 44."""
    phone = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.goto(live_server + "/")
    log_in(phone, clinic["nurse"])
    name = "Telefon Smalskjerm"
    register_patient(phone, name, older_fnr(RNG, "male"))
    phone.get_by_role("link", name="Ny AUDIT", exact=True).click()
    answer_all(phone, [2, 1, 1, 1, 0, 0, 1, 1, 0, 0])
    answer_medication(phone)
    phone.get_by_role("button", name="Vis resultat").click()
    phone.get_by_role("link", name="Registrer samtalen").click()
    checked = {}

    def check(page_name: str, heading: str) -> None:
        expect(phone.get_by_role("heading", level=1)).to_have_text(heading)
        phone.wait_for_load_state()
        checked[page_name] = (overflow(phone), small_targets(phone))

    check("conversation", "Kort samtaleintervensjon")
    phone.get_by_role("checkbox", name=re.compile("^Tilbakemelding gitt")).check()
    phone.get_by_role("radio", name="redusere", exact=True).check()
    phone.get_by_label("Mål: enheter per uke").fill("7")  # a goal to reduce has its target
    phone.get_by_role("radio", name="hjemmebesøk", exact=True).check()
    phone.get_by_role("button", name="Lagre samtalen").click()
    phone.get_by_role("link", name="Pasientark (utskrift)").click()
    check("patient sheet", "Samtale om alkohol")
    phone.get_by_role("link", name="Alkoholscreening").click()
    phone.get_by_role("navigation", name="Hovedmeny").get_by_role(
        "link", name="Arbeidsliste").click()
    check("worklist", "Arbeidsliste")
    expect(phone.get_by_role("link", name=name)).to_be_visible()
    phone.get_by_role("link", name=name).click()
    check("patient", name)
    phone.screenshot(path=SCREENSHOTS / "patient-phone.png", full_page=True)
    assert checked == {page_name: (0, []) for page_name in checked}
    assert len(checked) == 4
