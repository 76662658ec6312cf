"""Clinical safety in Chromium (issue 17, points 1-3): a safety finding needs a route and
suicidality an urgent one, shown at the top of the result with its time; the result warns of
withdrawal risk before any advice to stop; a goal to reduce needs its target.
Screenshots under screenshots/safety-*."""

from __future__ import annotations

import random
import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.clinician import answer_all, log_in, register_patient, younger_fnr

RNG = random.Random(1717)
SCREENSHOTS = Path(__file__).parent / "screenshots"
LEVEL_1 = [1, 0, 0, None, None, None, None, None, 0, 0]
DEPENDENCE = [3, 2, 2, 2, 1, 1, 1, 0, 0, 0]  # items 4-6 give 4 points: possible dependence


def shoot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"safety-{name}.png", full_page=True)


def screen(page: Page, name: str, answers) -> None:  # type: ignore[no-untyped-def]
    register_patient(page, name, younger_fnr(RNG, "male"))
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    answer_all(page, answers)
    page.get_by_role("button", name="Vis resultat").click()
    expect(page).to_have_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))


def test_suicidality_is_routed_the_same_day_and_shown_first(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, clinic) -> None:
    page.goto(live_server + "/")
    log_in(page, clinic["gp"])
    screen(page, "Trygve Tryggsen", LEVEL_1)
    page.get_by_role("link", name="Registrer samtalen").click()
    safety = page.get_by_role("group", name=re.compile(r"^12\. Sikkerhet"))
    safety.get_by_role("checkbox", name="nedstemthet eller selvmordstanker").check()
    goal = page.get_by_role("group", name=re.compile(r"^8\. Avtalt mål"))
    goal.get_by_role("radio", name="redusere", exact=True).check()
    page.get_by_role("button", name="Lagre samtalen").click()
    # nowhere to go, and a goal to reduce without its target: both named by their labels
    expect(safety.get_by_role("alert")).to_contain_text("«Sendt videre til»")
    expect(goal.get_by_role("alert")).to_contain_text("«Mål: enheter per uke»")
    shoot(page, "no-route")
    goal.get_by_label("Mål: enheter per uke").fill("10")
    safety.get_by_role("radio", name="fastlegen, ved neste time").check()
    page.get_by_role("button", name="Lagre samtalen").click()
    expect(safety.get_by_role("alert")).to_contain_text("trenger hjelp samme dag")
    safety.get_by_role("radio", name="fastlegen, samme dag").check()
    page.get_by_role("button", name="Lagre samtalen").click()
    expect(page.get_by_role("status").filter(has_text="Samtalen er lagret.")).to_be_visible()
    banner = page.locator(".urgent-banner")
    expect(banner).to_contain_text("Akutt: nedstemthet eller selvmordstanker.")
    expect(banner).to_contain_text("116 117")
    expect(banner).to_contain_text(re.compile(
        r"Sendt videre til: fastlegen, samme dag, registrert \d\d\.\d\d\.\d{4} \d\d:\d\d"))
    # at the top: above the figures
    assert banner.bounding_box()["y"] < page.locator(".result-summary").bounding_box()["y"]
    shoot(page, "urgent-result")
    assert page.request_log.foreign() == []


def test_possible_dependence_warns_before_advice(  # type: ignore[no-untyped-def]
        live_server: str, page: Page, clinic) -> None:
    page.goto(live_server + "/")
    log_in(page, clinic["gp"])
    screen(page, "Abstinens Varslesen", DEPENDENCE)
    warning = page.locator(".withdrawal-warning")
    expect(warning).to_contain_text("Mulig avhengighet: fare for abstinens.")
    expect(warning).to_contain_text("Ikke råd pasienten til å slutte brått")
    advice = page.get_by_role("heading", name="Anbefalt oppfølging")
    assert warning.bounding_box()["y"] < advice.bounding_box()["y"]
    shoot(page, "withdrawal-warning")
