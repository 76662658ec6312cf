"""Times and dates in reports, files and administration pages (issue 16, point 4): Oslo time
on pages (dd.mm.åååå HH:MM) across both clock changes of 2026; ISO 8601 with the offset in
CSV and XLSX; quarters as "1. kvartal 2026" and months as "februar 2026" on pages, ISO
months (YYYY-MM) in the files; an assessment stored at 23:30 UTC on 31 January belongs to
1 February and to the report for February."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from screening.models import Staff, StaffSession
from screening.services import care
from screening.web import reports as report_views
from tests.app import words
from tests.app.seeded import AUDIT_SEVEN, Seeded, seed
from tests.app.staffing import sign_in

SPRING = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, just after the change
AUTUMN = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the second 02:30
QUARTER = {"kind": "quarter", "quarter": "1", "year": "2026"}


@pytest.fixture
def world(app) -> Seeded:  # type: ignore[no-untyped-def]
    return seed(app)


def client_for(world: Seeded, who: str):  # type: ignore[no-untyped-def]
    client = world.app.test_client()
    sign_in(world.app, client, world.people[who])
    return client


def csv_rows(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def xlsx_rows(data: bytes) -> list[list[object]]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
    return [[v for v in row if v is not None] for row in sheet.iter_rows(values_only=True)]


# ------------------------------------------------------------------------- reports


@pytest.mark.parametrize("now, shown, iso", [
    (SPRING, "29.03.2026 03:30", "2026-03-29T03:30:00+02:00"),
    (AUTUMN, "25.10.2026 02:30", "2026-10-25T02:30:00+01:00"),
    (datetime(2026, 1, 31, 23, 30, tzinfo=UTC), "01.02.2026 00:30",
     "2026-02-01T00:30:00+01:00"),
])
def test_made_at_in_oslo_on_the_pages_and_iso_with_offset_in_the_files(
        world: Seeded, monkeypatch: pytest.MonkeyPatch, now: datetime, shown: str,
        iso: str) -> None:
    monkeypatch.setattr(report_views, "now_utc", lambda: now)
    analyst = client_for(world, "analytiker")
    for url in ("/reports", "/reports/summary"):
        html = analyst.get(url, query_string=QUARTER).get_data(as_text=True)
        assert f'<time datetime="{iso}">{shown}</time>' in html, url
    made = dict((row[0], row[1]) for row in csv_rows(
        analyst.get("/reports/report.csv", query_string=QUARTER).get_data()) if len(row) > 1)
    assert made["Laget"] == iso
    sheet = {row[0]: row[1] for row in xlsx_rows(
        analyst.get("/reports/report.xlsx", query_string=QUARTER).get_data()) if len(row) > 1}
    assert sheet["Laget"] == iso


def test_quarters_and_months_in_words_on_pages_iso_months_in_files(world: Seeded) -> None:
    analyst = client_for(world, "analytiker")
    page = analyst.get("/reports", query_string=QUARTER).get_data(as_text=True)
    assert "Rapport for 1. kvartal 2026" in page
    trend = [words.visible(f"<html lang='nb'>{th}</html>") for th in
             re.findall(r'<th scope="row">(.*?)</th>', page.split('id="table-trend"')[1])]
    assert trend[:8] == ["2. kvartal 2024", "3. kvartal 2024", "4. kvartal 2024",
                         "1. kvartal 2025", "2. kvartal 2025", "3. kvartal 2025",
                         "4. kvartal 2025", "1. kvartal 2026"]
    assert '<tspan x="' in page and ">1. kvartal</tspan>" in page and ">2026</tspan>" in page
    assert re.search(r'<option (selected )?value="1"( selected)?>1. kvartal</option>', page)
    assert 'placeholder="ÅÅÅÅ-MM"' in page
    assert "-Q" not in words.visible(page) and words.page_problems(page) == []
    rows = csv_rows(analyst.get("/reports/report.csv", query_string=QUARTER).get_data())
    head = {row[0]: row[1] for row in rows if len(row) > 1}
    assert (head["Periode"], head["Fra måned"], head["Til måned"]) == (
        "1. kvartal 2026", "2026-01", "2026-03")
    assert ["1. kvartal 2026"] == [row[0] for row in rows if row and row[0] == "1. kvartal 2026"]
    month = analyst.get("/reports", query_string={"kind": "month", "month": "2026-02"})
    assert "Rapport for februar 2026" in month.get_data(as_text=True)
    custom = analyst.get("/reports", query_string={"kind": "custom", "start": "2025-11",
                                                    "end": "2026-02"})
    assert "Rapport for november 2025 – februar 2026" in custom.get_data(as_text=True)
    book = xlsx_rows(analyst.get("/reports/report.xlsx", query_string={
        "kind": "month", "month": "2026-02"}).get_data())
    sheet = {row[0]: row[1] for row in book if len(row) > 1}
    assert (sheet["Periode"], sheet["Fra måned"], sheet["Til måned"]) == (
        "februar 2026", "2026-02", "2026-02")


def test_english_quarters_and_months(world: Seeded) -> None:
    analyst = client_for(world, "analytiker")
    from tests.conftest import csrf_from

    token = csrf_from(analyst.get("/reports").get_data(as_text=True))
    analyst.post("/lang", data={"lang": "en", "csrf_token": token})
    page = analyst.get("/reports", query_string=QUARTER).get_data(as_text=True)
    assert "Report for Q1 2026" in page and ">Q1</tspan>" in page
    month = analyst.get("/reports", query_string={"kind": "month", "month": "2026-03"})
    assert "Report for March 2026" in month.get_data(as_text=True)


def test_an_assessment_at_2330_utc_on_31_january_belongs_to_february(world: Seeded) -> None:
    """Five of them (fewer would be hidden in the report): on 01.02.2026 in the history and
    on the result page, counted in February and not in January."""
    late = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    made = [world.screen("sykepleier", "p1", answers=AUDIT_SEVEN, now=late.replace(minute=m))
            for m in range(30, 35)]
    nurse = client_for(world, "sykepleier")
    history = nurse.get(f"/patients/{world.patients['p1']}").get_data(as_text=True)
    assert history.count(">01.02.2026</a>") == 5 and "31.01.2026" not in history
    result = nurse.get(f"/assessments/{made[0]}").get_data(as_text=True)
    assert "01.02.2026" in result
    leader = client_for(world, "leder")

    def assessments_in(month: str) -> str:
        html = leader.get("/reports", query_string={"kind": "month", "month": month})
        figures = re.search(r"<dt>Screeninger</dt><dd class=\"big\">([^<]*)</dd>",
                            html.get_data(as_text=True))
        assert figures is not None
        return figures.group(1)

    assert assessments_in("2026-02") == "5"
    assert assessments_in("2026-01") == "0"


# ------------------------------------------------------------------------- administration


def test_break_glass_review_shows_oslo_times(world: Seeded) -> None:
    care.break_glass(world.db, world.keyring, world.users["lege"], world.patients["p1"],
                     "Legevakt om natten, trenger medisinlisten", now=SPRING.replace(hour=0))
    html = client_for(world, "admin").get("/admin/break-glass").get_data(as_text=True)
    assert ('<time datetime="2026-03-29T01:30:00+01:00">29.03.2026 01:30</time>' in html)
    assert ('<time datetime="2026-03-30T02:30:00+02:00">30.03.2026 02:30</time>' in html)
    assert "UTC" not in html and ">Gitt<" in html and ">Utløper<" in html
    assert words.page_problems(html) == []


def test_staff_list_and_detail_show_created_and_last_active_in_oslo(world: Seeded) -> None:
    with world.db.write() as session:
        session.execute(update(Staff).where(Staff.username == "lege")
                        .values(created_at=SPRING))
    admin = client_for(world, "admin")
    staff_list = admin.get("/admin/").get_data(as_text=True)
    assert '<time datetime="2026-03-29T03:30:00+02:00">29.03.2026 03:30</time>' in staff_list
    detail_url = f"/admin/staff/{world.staff_uuid('lege')}"
    assert "aldri logget inn" in admin.get(detail_url).get_data(as_text=True)
    sign_in(world.app, world.app.test_client(), world.people["lege"])
    with world.db.write() as session:
        session.execute(update(StaffSession).where(StaffSession.staff_id
                                                   == world.people["lege"].id)
                        .values(last_seen_at=AUTUMN))
    detail = admin.get(detail_url).get_data(as_text=True)
    assert '<time datetime="2026-10-25T02:30:00+01:00">25.10.2026 02:30</time>' in detail
    assert words.page_problems(detail) == []
