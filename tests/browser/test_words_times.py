"""Oslo time and Norwegian words in Chromium (issue 16, points 4 and 12): a nurse opens a
patient's access log, filters it from 29.03.2026 to 25.10.2026 and reads the entries at the
two clock changes as Oslo times, every field in words; an analyst opens the report for the
first quarter of 2026 and reads "1. kvartal 2026" and when it was made. Both pages at the
tablet and the 390 px phone size: no sideways scrolling, touch targets of 44 px, bokmål
only. Screenshots under tests/browser/screenshots/."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page, expect

from screening.web import reports as report_views
from tests.app import words
from tests.app.seeded import Seeded, seed
from tests.app.staffing import PASSWORD, Person, next_code
from tests.browser.conftest import PHONE, TABLET
from tests.browser.test_layout import SCREENSHOTS, overflow, small_targets

MADE_AT = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 summer time


@pytest.fixture
def world(app) -> Seeded:  # type: ignore[no-untyped-def]
    world = seed(app)
    for instant in ("2026-03-29T00:30:00", "2026-03-29T01:30:00",   # 01:30 CET, 03:30 CEST
                    "2026-10-25T00:30:00", "2026-10-25T01:30:00"):  # 02:30 CEST, 02:30 CET
        world.log("lege", "patient_view", "p1",
                  at=datetime.fromisoformat(instant).replace(tzinfo=UTC))
    return world


def log_in(page: Page, person: Person) -> None:
    expect(page.get_by_role("heading", name="Logg inn")).to_be_visible()
    page.get_by_label("Brukernavn").fill(person.username)
    page.get_by_label("Passord").fill(PASSWORD)
    page.get_by_label("Kode fra autentiseringsappen").fill(next_code(person.secret))
    page.get_by_role("button", name="Logg inn").click()
    expect(page.get_by_role("button", name="Logg ut")).to_be_visible()


def check_page(page: Page, name: str) -> None:
    """Bokmål only, nothing wider than the screen, large enough targets; screenshot."""
    assert words.page_problems(page.content()) == []
    assert overflow(page) == 0, f"{name}: {overflow(page)} px wider than the screen"
    assert small_targets(page) == [], name
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)


def test_access_log_in_oslo_time_at_tablet_and_phone_size(live_server: str, open_page,
                                                          world: Seeded) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    tablet = open_page(viewport=TABLET)
    tablet.goto(f"{live_server}/patients/{world.patients['p1']}")
    log_in(tablet, world.people["sykepleier"])
    tablet.get_by_role("link", name="Hvem har sett journalen").click()
    expect(tablet.get_by_role("heading", name="Hvem har sett journalen", level=1)).to_be_visible()
    tablet.get_by_label("Fra dato").fill("29.03.2026")
    tablet.get_by_label("Til dato").fill("25.10.2026")
    tablet.get_by_label("Hva som ble gjort").select_option(label="åpnet journalen")
    tablet.get_by_role("button", name="Vis", exact=True).click()
    expect(tablet.get_by_role("status")).to_have_text("Viser 1–4 av 4 oppføringer.")
    table = tablet.get_by_role("table", name="Hvem har sett journalen")
    times = [" ".join(t.split()) for t in
             table.get_by_role("row").all_inner_texts()[1:]]
    assert [t.split("\t")[0] if "\t" in t else t[:16] for t in times] == [
        "25.10.2026 02:30", "25.10.2026 02:30", "29.03.2026 03:30", "29.03.2026 01:30"]
    stamps = tablet.locator("table time").evaluate_all("els => els.map(e => e.dateTime)")
    assert stamps == ["2026-10-25T02:30:00+01:00", "2026-10-25T02:30:00+02:00",
                      "2026-03-29T03:30:00+02:00", "2026-03-29T01:30:00+01:00"]
    first = table.get_by_role("row").nth(1)
    for cell in ("åpnet journalen", "helsehjelp", "utført", "fastlege",
                 "Legekontoret i sentrum"):
        expect(first).to_contain_text(cell)
    assert "start=29.03.2026" in tablet.url and world.names["p1"] not in tablet.url
    check_page(tablet, "access-log-dst-tablet")

    phone = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.context.add_cookies(tablet.context.cookies())
    phone.goto(tablet.url)
    expect(phone.get_by_role("status")).to_have_text("Viser 1–4 av 4 oppføringer.")
    # on the phone each entry is a small card: a label before each field, one column
    cell = phone.locator("table.access-entries td").first
    assert phone.evaluate("e => getComputedStyle(e, '::before').content",
                          cell.element_handle()) == '"Tid"'
    assert phone.evaluate("e => getComputedStyle(e).display",
                          phone.locator("table.access-entries tr").nth(1).element_handle()
                          ) == "block"
    check_page(phone, "access-log-dst-phone")

    phone.get_by_label("Fra dato").fill("26.10.2026")
    phone.get_by_label("Til dato").fill("25.10.2026")
    phone.get_by_role("button", name="Vis", exact=True).click()
    expect(phone.get_by_role("alert")).to_have_text("Fra-datoen kommer etter til-datoen.")
    check_page(phone, "access-log-bad-filter-phone")


def test_report_quarter_and_made_at_at_tablet_and_phone_size(
        live_server: str, open_page, world: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    monkeypatch.setattr(report_views, "now_utc", lambda: MADE_AT)
    tablet = open_page(viewport=TABLET)
    tablet.goto(f"{live_server}/reports")
    log_in(tablet, world.people["analytiker"])
    tablet.get_by_role("radio", name="Kvartal").check()
    tablet.get_by_role("combobox", name="Kvartal").select_option(label="1. kvartal")
    tablet.get_by_role("combobox", name="År").select_option("2026")
    tablet.get_by_role("button", name="Vis rapport").click()
    expect(tablet.get_by_role("heading", name="Rapport for 1. kvartal 2026")).to_be_visible()
    expect(tablet.locator(".report-head time")).to_have_text("29.03.2026 03:30")
    trend = tablet.locator("#table-trend").locator("xpath=ancestor::section[1]")
    rows = trend.locator("tbody th").all_inner_texts()
    assert rows[-2:] == ["1. kvartal 2026", "Sum"] and not any("Q" in r for r in rows)
    labels = tablet.locator("svg.report-columns text").all_text_contents()
    assert "1. kvartal2026" in labels and not any("-Q" in t for t in labels)
    check_page(tablet, "report-quarter-tablet")
    tablet.locator("figure", has=tablet.locator("svg.report-columns")).first.screenshot(
        path=SCREENSHOTS / "report-quarter-chart-tablet.png")

    phone = open_page(viewport=PHONE, is_mobile=True, has_touch=True)
    phone.context.add_cookies(tablet.context.cookies())
    phone.goto(tablet.url)
    expect(phone.get_by_role("heading", name="Rapport for 1. kvartal 2026")).to_be_visible()
    check_page(phone, "report-quarter-phone")
    phone.get_by_role("link", name="Utskriftsvennlig sammendrag").click()
    expect(phone.get_by_text(re.compile(r"Laget 29\.03\.2026 03:30"))).to_be_visible()
    check_page(phone, "report-summary-phone")
