"""Report pages, downloads and filters through the Flask client (CSRF on): figures, hidden
marks ("<5" for a count below 5, "x" for one hidden to protect it) and their legend in
bokmål and English, bad input, and the SQL a report issues. Runs on SQLite and on
PostgreSQL."""

from __future__ import annotations

import csv
import io
import random
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from flask_babel import force_locale
from markupsafe import escape
from openpyxl import load_workbook
from sqlalchemy import event, insert, select

from screening.models import ReportFact, Unit
from tests.app.staffing import make_staff, make_units, sign_in

THIS_YEAR = date.today().year
MONTH = f"{THIS_YEAR}-03"


def unit_ids(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    session = app.extensions["screening.db"].read_session()
    try:
        return {code: uid for code, uid in session.execute(select(Unit.code, Unit.id))}
    finally:
        session.close()


def fact(unit_id: int, month: str = MONTH, **values: object) -> dict[str, object]:
    row: dict[str, object] = {
        "month": month, "age_band": "75_84", "sex": "female", "unit_id": unit_id,
        "setting": "home_care", "instrument": "audit", "zone": "I", "level": 1,
        "positive": None, "pw_elder_care": False, "pw_gp": False,
        "pw_substance_use_consultant": False, "pw_specialist_referral": False,
        "conversation_delivered": False, "follow_up": "none"}
    row.update(values)
    return row


def insert_facts(app, rows: list[dict[str, object]]) -> None:  # type: ignore[no-untyped-def]
    with app.extensions["screening.db"].write() as session:
        session.execute(insert(ReportFact), rows)


@pytest.fixture
def analyst_client(app):  # type: ignore[no-untyped-def]
    make_units(app)
    person = make_staff(app, "analytiker", "analyst")
    client = app.test_client()
    sign_in(app, client, person)
    return client


class Tables(HTMLParser):
    """The report tables of a page: table id -> rows of cell texts (header cell first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._in_body = False
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "section" and (values.get("aria-labelledby") or "").startswith("table-"):
            self._table = (values["aria-labelledby"] or "")[len("table-"):]
            self.tables[self._table] = []
        elif tag == "tbody" and self._table:
            self._in_body = True
        elif tag == "tr" and self._in_body:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "span" and "visually-hidden" in (values.get("class") or ""):
            self._skip += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._skip:
            self._skip -= 1
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "section":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None and not self._skip:
            self._cell.append(data)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def plain(text: str) -> str:
    """A figure as text without thousands separators."""
    return re.sub(r"[\s\u00a0\u202f]", "", text)


def test_report_page_shows_counts_and_hides_small_ones(app, analyst_client) -> None:
    units = unit_ids(app)
    rows = [fact(units["home-a"]) for _ in range(40)]  # zone I, women 75-84: 40
    rows += [fact(units["home-a"], zone="II", level=2, sex="male") for _ in range(3)]
    rows += [fact(units["home-b"], zone="II", level=2, sex="male", age_band="65_74")
             for _ in range(9)]
    insert_facts(app, rows)
    response = analyst_client.get(f"/reports?kind=month&month={MONTH}&instrument=audit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    results = {row[0]: row[1:] for row in page_tables(html)["results"]}
    zone_one = results["Sone I: lav risiko"]  # the AUDIT file's zone name, as on the result
    assert "40" in zone_one  # women 75-84 in zone I
    zone_two = next(v for k, v in results.items() if "II" in k and "III" not in k)
    assert zone_two[5:7] == ["x", "<5"]  # the 3 men 75-84 ("<5"), hidden by the 9 men 65-74
    assert "3" not in [plain(c) for c in zone_two] and "9" not in [plain(c) for c in zone_two]
    assert not [c for row in results.values() for c in row if plain(c) in {"1", "2", "3", "4"}]


def test_csv_and_xlsx_hold_exactly_what_the_page_shows(app, analyst_client) -> None:
    units = unit_ids(app)
    rng = random.Random(7)
    rows = []
    for _ in range(300):
        level = rng.choice([1, 1, 1, 2, 2, 3, 4])
        month = f"{THIS_YEAR}-0{rng.randint(1, 6)}"
        rows.append(fact(rng.choice(list(units.values())), month=month,
                         zone=["I", "II", "III", "IV"][level - 1], level=level,
                         sex=rng.choice(["male", "female"]),
                         age_band=rng.choice(["under_65", "65_74", "75_84", "85_plus"]),
                         conversation_delivered=level > 1 and rng.random() < .7,
                         follow_up=rng.choice(["none", "pending", "on_time", "late"]),
                         pw_gp=rng.random() < .3, pw_elder_care=rng.random() < .4))
    insert_facts(app, rows)
    query = f"kind=custom&start={THIS_YEAR}-01&end={THIS_YEAR}-06&instrument=audit"
    html = analyst_client.get(f"/reports?{query}").get_data(as_text=True)
    shown = page_tables(html)
    assert set(shown) == {"results", "levels", "origin", "pathways", "follow_ups", "trend"}

    response = analyst_client.get(f"/reports/report.csv?{query}")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    text = response.get_data().decode("utf-8-sig")
    csv_rows = [r for r in csv.reader(io.StringIO(text), delimiter=";")]
    csv_lines = {tuple(plain(c) for c in r) for r in csv_rows}
    for table in shown.values():
        for row in table:
            assert tuple(plain(c) for c in row) in csv_lines, row

    book = load_workbook(io.BytesIO(analyst_client.get(f"/reports/report.xlsx?{query}").data))
    sheet = book.active
    xlsx_lines = set()
    for line in sheet.iter_rows():
        cells = []
        for item in line:
            value = item.value
            if item.number_format == "0.0%":  # a share, shown on the page as "12,3 %"
                cells.append(f"{value * 100:.1f}%".replace(".", ","))
            else:
                cells.append(plain("" if value is None else str(value)))
        while cells and cells[-1] == "":
            cells.pop()
        xlsx_lines.add(tuple(cells))
    for table in shown.values():
        for row in table:
            wanted = tuple(plain(c) for c in row)
            while wanted and wanted[-1] == "":
                wanted = wanted[:-1]
            assert wanted in xlsx_lines, row


def legend_in(app, lang: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """The legend of the marks (k = 5) as the catalogue of ``lang`` gives it."""
    from screening.web.report_view import legend

    with app.test_request_context(), force_locale(lang):
        return legend(5)


ENGLISH_LEGEND = [
    ("<5", "fewer than 5: a count from 1 to 4"),
    ("x", "hidden: a count of 5 or more, or a share"),
]


def xlsx_rows(data: bytes) -> list[list[object]]:
    """The sheet's rows of values, without the empty cells at their ends."""
    rows = []
    for line in load_workbook(io.BytesIO(data)).active.iter_rows():
        values = [item.value for item in line]
        while values and values[-1] is None:
            values.pop()
        rows.append(values)
    return rows


def test_marks_below_k_and_x_on_the_page_charts_and_downloads(app, analyst_client) -> None:
    """Zone IV: 2 women 85+ (primary, "<5"); zone II: 3 men 75-84 ("<5") and 9 men 65-74,
    so the zone II total 12 is hidden as well ("x"), in the table, the zone chart, the CSV
    and the XLSX - never a value - with the legend of both marks in bokmål and English."""
    units = unit_ids(app)
    insert_facts(app, [fact(units["home-a"]) for _ in range(40)]
                 + [fact(units["home-a"], zone="II", level=2, sex="male") for _ in range(3)]
                 + [fact(units["home-b"], zone="II", level=2, sex="male", age_band="65_74")
                    for _ in range(9)]
                 + [fact(units["home-b"], zone="IV", level=4, age_band="85_plus")
                    for _ in range(2)])
    query = f"kind=month&month={MONTH}&instrument=audit"
    from tests.conftest import csrf_from

    for lang in ("nb", "en"):
        html = analyst_client.get(f"/reports?{query}").get_data(as_text=True)
        results = page_tables(html)["results"]  # zones I to IV, then the totals
        zone_two, zone_four = results[1], results[3]
        assert zone_two[7] == "<5" and zone_two[9] == "x"  # 3 men 75-84; the total 12
        assert zone_four[4] == "<5" and zone_four[9] == "<5"  # 2 women 85+; the total 2
        assert not [c for row in results for c in row[1:] if plain(c) in {"1", "2", "3", "4",
                                                                        "12"}]
        chart = re.search(r'<svg[^>]*aria-labelledby="chart-results-title".*?</svg>', html,
                          re.S)
        assert chart is not None
        texts = re.findall(r">([^<>]*)</text>", chart.group(0))
        assert texts[1::2] == ["40", "x", "0", "&lt;5"]  # zones I to IV
        legend = legend_in(app, lang)
        assert [mark for mark, _meaning in legend] == ["<5", "x", ":", "–"]
        for mark, meaning in legend:
            assert f"<strong>{escape(mark)}</strong> = {escape(meaning)}" in html
        notes = {"en": [["<5", "Hidden: Fewer than 5 assessments."],
                        ["x", "Hidden: 5 or more, hidden so that a number below 5 cannot be "
                              "worked out from the other figures, from other tables or from "
                              "the reports for other periods."]],
                 "nb": [["<5", "Skjult: Færre enn 5 screeninger."]]}[lang]
        if lang == "en":
            assert legend[:2] == ENGLISH_LEGEND
        else:
            assert legend[3] == ("–", "ingen screeninger å regne ut en andel fra")
        for mark, note in notes:
            assert f"<strong>{escape(mark)}</strong> {escape(note.split(': ', 1)[1])}" in html

        text = analyst_client.get(f"/reports/report.csv?{query}").get_data().decode("utf-8-sig")
        csv_rows = list(csv.reader(io.StringIO(text), delimiter=";"))
        book = xlsx_rows(analyst_client.get(f"/reports/report.xlsx?{query}").data)
        for rows in (csv_rows, book):
            for mark, meaning in legend:
                assert [mark, meaning] in rows
            for line in notes:
                assert line in rows
        assert zone_two in csv_rows and zone_four in csv_rows
        assert [r for r in book if r[:1] == [zone_two[0]]] == [
            [zone_two[0], 0, 0, 0, 0, 0, 9, "<5", 0, "x"]]
        assert [r for r in book if r[:1] == [zone_four[0]]] == [
            [zone_four[0], 0, 0, 0, "<5", 0, 0, 0, 0, "<5"]]
        numbers = [v for row in book for v in row if isinstance(v, int)]
        assert not [v for v in numbers if 0 < v < 5 or v == 12]

        token = csrf_from(html)
        analyst_client.post("/lang", data={"csrf_token": token, "lang": "en",
                                           "next": "/reports"})


def test_printable_summary_and_dudit(app, analyst_client) -> None:
    units = unit_ids(app)
    insert_facts(app, [fact(units["home-a"], instrument="dudit", zone=None, level=None,
                            positive=i % 3 == 0) for i in range(30)])
    response = analyst_client.get(f"/reports/summary?kind=year&year={THIS_YEAR}&instrument=dudit")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "reports.css" in html and "DUDIT" in html
    page = analyst_client.get(f"/reports?kind=year&year={THIS_YEAR}&instrument=dudit")
    assert page.status_code == 200
    assert "levels" not in page_tables(page.get_data(as_text=True))


def test_filters_by_unit_and_setting(app, analyst_client) -> None:
    units = unit_ids(app)
    insert_facts(app, [fact(units["home-a"]) for _ in range(20)]
                 + [fact(units["home-b"]) for _ in range(30)]
                 + [fact(units["home-b"], setting="gp_practice") for _ in range(50)])

    def total(query: str) -> str:
        html = analyst_client.get(f"/reports?kind=month&month={MONTH}&{query}")
        assert html.status_code == 200
        rows = page_tables(html.get_data(as_text=True))["results"]
        return plain(rows[-1][-1])

    assert total("") == "100"
    assert total(f"units={units['home-a']}") == "20"
    assert total(f"units={units['home-a']}&units={units['home-b']}&setting=home_care") == "50"
    assert total("setting=gp_practice") == "50"


@pytest.mark.parametrize("query", [
    "kind=month&month=2024-13", "kind=month&month=24-01", "kind=month&month=",
    "kind=quarter&year=1800&quarter=1", "kind=quarter&year=2024&quarter=7",
    "kind=year&year=abc", "kind=custom&start=2024-06&end=2024-01",
    "kind=custom&start=2000-01&end=2024-01", "kind=weekly", "instrument=foo",
    "setting=hospital", "units=999999", "units=abc", "units=-1",
])
def test_bad_filters_get_a_message_and_422(app, analyst_client, query: str) -> None:
    for path in ("/reports", "/reports/report.csv", "/reports/report.xlsx", "/reports/summary"):
        response = analyst_client.get(f"{path}?{query}")
        assert response.status_code == 422, (path, query)
        assert 'role="alert"' in response.get_data(as_text=True)


def test_messages_in_the_users_language(app, analyst_client) -> None:
    from tests.conftest import csrf_from

    token = csrf_from(analyst_client.get("/reports").get_data(as_text=True))
    analyst_client.post("/lang", data={"csrf_token": token, "lang": "en", "next": "/reports"})
    html = analyst_client.get("/reports?kind=month&month=2024-13").get_data(as_text=True)
    assert "Write the month as YYYY-MM" in html


def test_a_report_reads_only_the_report_counts_and_unit_names(app, analyst_client) -> None:
    units = unit_ids(app)
    insert_facts(app, [fact(units["home-a"]) for _ in range(12)])
    statements: list[str] = []
    engine = app.extensions["screening.db"].engine

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.lower())

    event.listen(engine, "before_cursor_execute", record)
    try:
        for path in ("/reports", "/reports/report.csv", "/reports/report.xlsx",
                     "/reports/summary"):
            assert analyst_client.get(f"{path}?kind=year&year={THIS_YEAR}&units="
                                      f"{units['home-a']}").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
    report_queries = [s for s in statements if "report_month_counts" in s]
    assert report_queries and all("group by" in s for s in report_queries)
    # Every request loads the signed-in user (staff, their session and units); apart from
    # that, a report reads the monthly report counts and unit names only (not even the
    # report facts they are counted from).
    login = [s for s in statements if re.search(r"\b(staff|staff_sessions|memberships)\b", s)]
    for statement in set(statements) - set(login):
        tables = set(re.findall(r"\b(?:from|join)\s+(\w+)", statement))
        assert tables <= {"report_month_counts", "units"}, statement
        assert "_sealed" not in statement and "fnr" not in statement, statement
    for statement in statements:
        for table in ("patients", "assessments", "drafts", "conversations", "follow_ups",
                      "access_log", "break_glass"):
            assert not re.search(rf"\b{table}\b", statement), statement
