"""The clinician's round in Chromium, as a home-care nurse and as a GP: log in with TOTP,
register a patient, fill AUDIT including a skip, see the result and its pathways, record the
conversation, find the follow-up in the worklist, open the print view -- and once the same
round with JavaScript disabled, where every item is shown and the server enforces the skip
rules.

Patients are synthetic (``tests/app/fnr.py``); everything runs against the live server on
127.0.0.1 and no request may leave it.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta

from playwright.sync_api import Page, expect

from tests.browser.clinician import (
    answer,
    answer_all,
    answer_medication,
    checked_items,
    item,
    log_in,
    older_fnr,
    option,
    register_patient,
    younger_fnr,
)

RNG = random.Random(66)
WORKLIST_GROUPS = {"overdue": "Forfalt", "this_week": "Forfaller denne uken", "later": "Senere"}


def figures(page: Page) -> dict[str, str]:
    """The result's figures: {"Sum": "7", "AUDIT-C": "4", "Sone": "I", "Tiltaksnivå": "2"}."""
    out = {}
    for pair in page.locator("dl.figures > div").all():
        out[pair.locator("dt").inner_text().strip()] = pair.locator("dd").inner_text().strip()
    return out


def group_of(due: date, today: date) -> str:
    week_end = today + timedelta(days=6 - today.weekday())
    return "overdue" if due < today else "this_week" if due <= week_end else "later"


def start_audit(page: Page, older: bool) -> None:
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^AUDIT"))
    # the alkoholenhet examples beside items 2 and 3
    for number in (2, 3):
        expect(item(page, number)).to_contain_text("1 alkoholenhet er omtrent 12 g alkohol")
    checklist = page.locator("details.checklist")
    if older:  # offered by itself from 65: open, its items visible
        expect(checklist).to_have_attribute("open", "")
        expect(item(page, "M1")).to_be_visible()
    else:
        expect(checklist).not_to_have_attribute("open", "")
        expect(checklist.locator("summary")).to_contain_text("valgfritt under 65 år")


def submit_and_check_result(page: Page, expected: dict[str, str], pathway: str, rule: str) -> str:
    page.get_by_role("button", name="Vis resultat").click()
    page.wait_for_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Resultat: AUDIT"))
    assert figures(page) == expected
    # each pathway and each step of the level with its reason
    follow_up = page.locator("section", has=page.get_by_role("heading", name="Anbefalt oppfølging"))
    expect(follow_up.get_by_role("listitem").filter(has_text=pathway)).to_have_text(
        re.compile(rf"^{re.escape(pathway)}: \S")
    )
    steps = page.locator(
        "section", has=page.get_by_role("heading", name="Slik ble tiltaksnivået bestemt")
    )
    # each step a plain sentence, its rule code only as small print after it
    step = steps.get_by_role("listitem").filter(
        has=page.locator(".rule-code", has_text=re.compile(rf"^regel {rule}$")))
    expect(step).to_have_count(1)
    expect(step).to_have_text(re.compile(rf"^[A-ZÆØÅ][^.]*\S.*regel {rule}$"))
    # the feedback picture: the score on the zone scale
    expect(page.locator(".result-summary figure svg")).to_be_visible()
    return page.url.rsplit("/", 1)[1]


def record_conversation(page: Page, mode: str, due: date | None, by: str) -> date:
    """Feedback, goal (reduce to 7 units a week), follow-up date/by/mode; returns the due
    date as saved (the proposed one when ``due`` is None)."""
    page.get_by_role("link", name="Registrer samtalen").click()
    expect(page.get_by_role("heading", name="Kort samtaleintervensjon")).to_be_visible()
    feedback = page.get_by_role("group", name=re.compile(r"^2\. Tilbakemelding"))
    feedback.get_by_role("checkbox", name=re.compile("^Tilbakemelding gitt")).check()
    goal = page.get_by_role("group", name=re.compile(r"^8\. Avtalt mål"))
    goal.get_by_role("radio", name="redusere", exact=True).check()
    goal.get_by_label("Mål: enheter per uke").fill("7")
    plan = page.get_by_role("group", name=re.compile(r"^10\. Oppfølging"))
    date_field = plan.get_by_label("Dato", exact=True)
    proposed = date_field.input_value()
    assert proposed, "the follow-up date is proposed from the rule set"
    if due is not None:
        date_field.fill(due.isoformat())
    expect(plan.get_by_label("Hvem følger opp")).to_have_value(re.compile(".+"))
    plan.get_by_label("Hvem følger opp").select_option(label=by)
    plan.get_by_role("radio", name=mode, exact=True).check()
    expect(plan.get_by_role("checkbox", name="Ny AUDIT ved oppfølging")).to_be_checked()
    page.get_by_role("button", name="Lagre samtalen").click()
    expect(page.get_by_role("status").filter(has_text="Samtalen er lagret.")).to_be_visible()
    expect(page.get_by_role("link", name="Endre samtalen")).to_be_visible()
    return due or date.fromisoformat(proposed)


def find_in_worklist(page: Page, name: str, due: date, pathway: str, mode: str) -> None:
    page.get_by_role("link", name="Alkoholscreening").click()
    page.get_by_role("navigation", name="Hovedmeny").get_by_role(
        "link", name="Arbeidsliste").click()
    expect(page.get_by_role("heading", name="Arbeidsliste", level=1)).to_be_visible()
    title = WORKLIST_GROUPS[group_of(due, date.today())]
    section = page.locator(
        "section", has=page.get_by_role("heading", name=re.compile(f"^{title} "))
    )
    row = section.get_by_role("row").filter(has=page.get_by_role("link", name=name))
    expect(row).to_have_count(1)
    expect(row).to_contain_text(due.strftime("%d.%m.%Y"))
    expect(row).to_contain_text(pathway)
    expect(row).to_contain_text(mode)
    expect(row).to_contain_text("ny AUDIT")
    expect(row.get_by_role("link", name="Registrer utfall")).to_be_visible()


def open_print_view(page: Page, name: str) -> None:
    """From the worklist to the patient, the screening, and its patient sheet; the sheet
    under print media: no site header, footer or buttons, the agreed goal in plain words."""
    page.get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    page.get_by_role("row").nth(1).get_by_role("link").first.click()
    page.get_by_role("link", name="Pasientark (utskrift)").click()
    expect(page.get_by_role("heading", name="Samtale om alkohol")).to_be_visible()
    header = page.locator("header.site-header")
    expect(header).to_be_visible()
    page.emulate_media(media="print")
    try:
        expect(header).to_be_hidden()
        expect(page.locator("footer.site-footer")).to_be_hidden()
        expect(page.get_by_role("link", name="Tilbake", exact=True)).to_be_hidden()
        sheet = page.locator("article.sheet")
        expect(sheet.get_by_role("heading", name="Målet vi ble enige om")).to_be_visible()
        expect(sheet).to_contain_text("høyst 7 enheter")
        expect(sheet).to_contain_text("Legevakt: 116 117")
        pdf = page.pdf(prefer_css_page_size=True)
        assert len(re.findall(rb"/Type\s*/Page\b", pdf)) == 1, "the patient sheet is one page"
    finally:
        page.emulate_media(media="screen")


def test_nurse_round(live_server: str, page: Page, clinic) -> None:  # type: ignore[no-untyped-def]
    """Home care, a woman over 65: the checklist opens by itself; item 1 "Aldri" hides and
    clears items 2-8 live, and changing it back shows them again, empty."""
    name = "Synnøve Testdatter"
    page.goto(live_server + "/")
    log_in(page, clinic["nurse"])
    register_patient(page, name, older_fnr(RNG, "female"))
    expect(page.get_by_text("65 år eller eldre")).to_be_visible()
    start_audit(page, older=True)
    expect(page.get_by_role("radio", name="Hjemmetjenesten (hjemmebesøk)")).to_be_checked()

    answer(page, {2: 1, 3: 1, 4: 2})
    option(page, 1, 0).check()  # "Aldri"
    for number in range(2, 9):
        expect(item(page, number, include_hidden=True)).to_be_hidden()
    for number in (1, 9, 10):
        expect(item(page, number)).to_be_visible()
    assert checked_items(page) == {1: 0}, "the answers to items 2-8 were cleared"
    expect(page.get_by_role("status").filter(has_text="Utkast lagret")).to_be_visible()
    option(page, 1, 2).check()
    for number in range(2, 9):
        expect(item(page, number)).to_be_visible()
    assert checked_items(page) == {1: 2}

    # clinical-rules §6 example 3: a woman of 65+ in home care with 7 points -> level 2 (W7)
    answer_all(page, [2, 1, 1, 1, 0, 0, 1, 1, 0, 0])
    answer_medication(page)
    submit_and_check_result(
        page,
        {"Sum": "7", "AUDIT-C": "4", "Sone": "I", "Tiltaksnivå": "2"},
        pathway="Hjemmetjenesten / eldreomsorgen",
        rule="W7",
    )
    expect(page.get_by_text("Foreslått oppfølging om 8 uker.")).to_be_visible()

    today = date.today()
    due = record_conversation(
        page,
        "hjemmebesøk",
        today + timedelta(days=6 - today.weekday()),
        by="Hjemmetjenesten / eldreomsorgen",
    )
    find_in_worklist(page, name, due, "Hjemmetjenesten / eldreomsorgen", "hjemmebesøk")
    open_print_view(page, name)
    assert page.request_log.foreign() == []


def test_gp_round(live_server: str, page: Page, clinic) -> None:  # type: ignore[no-untyped-def]
    """GP office, a man under 65: the checklist is optional (closed); items 2 and 3 both
    zero hide items 4-8, and a non-zero item 2 brings them back."""
    name = "Gunnar Prøvesen"
    page.goto(live_server + "/")
    log_in(page, clinic["gp"])
    register_patient(page, name, younger_fnr(RNG, "male"))
    start_audit(page, older=False)
    expect(page.get_by_role("radio", name="Legekontor")).to_be_checked()

    answer(page, {1: 3, 2: 0, 3: 0})
    for number in range(4, 9):
        expect(item(page, number, include_hidden=True)).to_be_hidden()
    for number in (1, 2, 3, 9, 10):
        expect(item(page, number)).to_be_visible()
    option(page, 2, 1).check()
    for number in range(4, 9):
        expect(item(page, number)).to_be_visible()

    answer_all(page, [3, 1, 1, 1, 0, 3, 1, 0, 0, 0])
    submit_and_check_result(
        page,
        {"Sum": "10", "AUDIT-C": "5", "Sone": "II", "Tiltaksnivå": "3"},
        pathway="Fastlege",
        rule="E1",
    )
    # clinical-rules §6 example 4: the GP and the substance-use consultant
    expect(page.get_by_role("listitem").filter(has_text=re.compile("^Ruskonsulent"))).to_have_count(
        1
    )
    due = record_conversation(page, "konsultasjon", None, by="Fastlege")
    find_in_worklist(page, name, due, "Fastlege", "konsultasjon")
    open_print_view(page, name)
    assert page.request_log.foreign() == []


def test_round_without_javascript(live_server: str, open_page, clinic) -> None:  # type: ignore[no-untyped-def]
    """No script at all: every item stays shown after item 1 "Aldri", an answer to a skipped
    item is refused by the server with the reason beside the item, and the corrected form
    (items 2-8 left empty) is scored; the rest of the round works the same."""
    page = open_page(java_script_enabled=False)
    name = "Bjarne Hoppover"
    page.goto(live_server + "/")
    log_in(page, clinic["nurse"])
    register_patient(page, name, older_fnr(RNG, "male"))
    start_audit(page, older=True)
    answer_all(page, [0, None, None, 1, None, None, None, None, 2, 1])
    answer_medication(page, yes={1})
    for number in range(1, 11):
        expect(item(page, number)).to_be_visible()

    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        page.get_by_role("button", name="Vis resultat").click()
    assert refused.value.status == 422
    expect(page.get_by_role("alert").first).to_be_visible()
    assert re.search(r"/screen/audit$", page.url), "refused: still on the form"
    expect(item(page, 4).get_by_role("alert")).to_contain_text("«Aldri»")
    for number in range(1, 11):
        expect(item(page, number)).to_be_visible()
    # the refused answer is not put back (a radio cannot be cleared without a script);
    # the others are kept
    assert checked_items(page) == {1: 0, 9: 2, 10: 1}
    expect(item(page, "M1").get_by_role("radio", name="Ja")).to_be_checked()

    # item 9 at 4 points lifts the level (E1); a yes on the checklist at 65+ adds the GP
    submit_and_check_result(
        page,
        {"Sum": "6", "AUDIT-C": "0", "Sone": "I", "Tiltaksnivå": "2"},
        pathway="Hjemmetjenesten / eldreomsorgen",
        rule="E1",
    )
    expect(page.get_by_role("listitem").filter(has_text=re.compile("^Fastlege: "))).to_contain_text(
        "legemiddel- og fallgjennomgang"
    )
    due = record_conversation(
        page, "telefon", date.today() + timedelta(days=1), by="Hjemmetjenesten / eldreomsorgen"
    )
    find_in_worklist(page, name, due, "Hjemmetjenesten / eldreomsorgen", "telefon")
    open_print_view(page, name)
    assert page.request_log.foreign() == []
