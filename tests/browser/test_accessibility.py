"""axe-core, injected by the test, finds no serious or critical violation on the pages of the
round: login, patient, AUDIT (empty and with errors), result, conversation (empty and with
errors), worklist -- and the pages between them.

axe-core comes from the npm registry into tests/browser/.axe (ignored by git):

    npm install --no-save --prefix tests/browser/.axe axe-core@4

It is evaluated in the page through Playwright (the DevTools protocol), which the page's
Content-Security-Policy does not govern, so the policy stays as it is served.
"""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.clinician import answer_all, answer_medication, log_in, older_fnr

AXE = Path(__file__).parent / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
INSTALL = "npm install --no-save --prefix tests/browser/.axe axe-core@4"
RNG = random.Random(99)


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"axe-core is missing: {INSTALL}")
    return AXE.read_text(encoding="utf-8")


def serious_violations(page: Page, source: str) -> list[str]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(source)
    results = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} -- "
        + "; ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:5])
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_pages_of_the_round_have_no_serious_violation(  # type: ignore[no-untyped-def]
    live_server: str,
    page: Page,
    clinic,
    axe_source: str,
) -> None:
    found: dict[str, list[str]] = {}

    def check(name: str) -> None:
        page.wait_for_load_state()
        found[name] = serious_violations(page, axe_source)

    page.goto(live_server + "/login")
    check("login")
    # the checker is live: a form field without a label is reported as critical
    page.evaluate("document.querySelector('form').append(document.createElement('input'))")
    assert [v for v in serious_violations(page, axe_source) if v.startswith("label ")]
    page.reload()
    log_in(page, clinic["nurse"])
    check("home")
    name = "Aksel Tilgjengelig"
    page.get_by_role("link", name="Finn eller registrer pasient").click()
    check("find patient")
    page.get_by_role("link", name="Registrer ny pasient").click()
    check("register patient")
    register_patient_from_form(page, name)
    check("patient (new)")

    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    check("AUDIT")
    page.get_by_role("button", name="Vis resultat").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    check("AUDIT with errors")
    answer_all(page, [2, 1, 1, 1, 0, 0, 1, 1, 0, 0])
    answer_medication(page, yes={4})
    page.get_by_role("button", name="Vis resultat").click()
    page.wait_for_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))
    check("result")

    page.get_by_role("link", name="Registrer samtalen").click()
    check("conversation")
    page.get_by_role("button", name="Lagre samtalen").click()
    expect(page.get_by_role("alert").first).to_be_visible()
    check("conversation with errors")
    page.get_by_role("checkbox", name=re.compile("^Tilbakemelding gitt")).check()
    page.get_by_role("radio", name="redusere", exact=True).check()
    page.get_by_label("Mål: enheter per uke").fill("7")  # a goal to reduce has its target
    page.get_by_label("Dato", exact=True).fill((date.today() + timedelta(days=1)).isoformat())
    page.get_by_role("radio", name="hjemmebesøk", exact=True).check()
    page.get_by_role("button", name="Lagre samtalen").click()
    expect(page.get_by_role("link", name="Endre samtalen")).to_be_visible()
    page.get_by_role("link", name="Pasientark (utskrift)").click()
    check("patient sheet")

    page.get_by_role("link", name="Alkoholscreening").click()
    page.get_by_role("navigation", name="Hovedmeny").get_by_role(
        "link", name="Arbeidsliste").click()
    check("worklist")
    page.get_by_role("link", name=name).click()
    # the trend chart: one point (in its zone's colour) with its total above it
    chart = page.locator("figure.chart-figure svg.trend")
    expect(chart).to_be_visible()
    expect(chart.locator("circle")).to_have_count(1)
    expect(chart.locator("text").filter(has_text=re.compile("^7$"))).to_have_count(1)
    check("patient (with a screening and a follow-up)")

    assert {page_name: v for page_name, v in found.items() if v} == {}
    assert len(found) == 13


def register_patient_from_form(page: Page, name: str) -> None:
    page.get_by_label("Fødselsnummer").fill(older_fnr(RNG, "male"))
    page.get_by_label("Fullt navn").fill(name)
    page.get_by_role("button", name="Registrer", exact=True).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
