"""The patient's access-log page (the right of access): times in Oslo across both clock
changes and around midnight, filters by Oslo date and by action, paging, every field in
words, bad filters answered with a message (422) and never a 500; and the command that
lists the same entries."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from screening.models import AccessLogEntry
from screening.services import access_log
from tests.app import words
from tests.app.seeded import Seeded, seed
from tests.app.staffing import sign_in


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def world(app) -> Seeded:  # type: ignore[no-untyped-def]
    return seed(app)


@pytest.fixture
def nurse(world: Seeded):  # type: ignore[no-untyped-def]
    client = world.app.test_client()
    sign_in(world.app, client, world.people["sykepleier"])
    return client


def page(client, world: Seeded, **query: str):  # type: ignore[no-untyped-def]
    return client.get(f"/patients/{world.patients['p1']}/access-log", query_string=query)


def rows(html: str) -> list[str]:
    """The entries' rows, as their visible text."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in html else ""
    return [" · ".join(words.visible(f"<html lang='nb'>{cell}</html>")
                       for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S))
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)]


def times(html: str) -> list[tuple[str, str]]:
    """(datetime attribute, shown text) of every time on the page."""
    return re.findall(r'<time datetime="([^"]+)">([^<]+)</time>', html)


# ------------------------------------------------------------------------- Oslo time


@pytest.mark.parametrize("instants, shown", [
    # spring: 02:00 CET becomes 03:00 CEST on 29 March 2026
    (("2026-03-29T00:30:00", "2026-03-29T01:30:00"),
     [("2026-03-29T01:30:00+01:00", "29.03.2026 01:30"),
      ("2026-03-29T03:30:00+02:00", "29.03.2026 03:30")]),
    # autumn: 03:00 CEST becomes 02:00 CET on 25 October 2026; 02:30 comes twice
    (("2026-10-25T00:30:00", "2026-10-25T01:30:00"),
     [("2026-10-25T02:30:00+02:00", "25.10.2026 02:30"),
      ("2026-10-25T02:30:00+01:00", "25.10.2026 02:30")]),
    # midnight: 23:30 UTC on 31 January is half past midnight on 1 February in Oslo
    (("2026-01-31T23:30:00",), [("2026-02-01T00:30:00+01:00", "01.02.2026 00:30")]),
])
def test_times_are_oslo_times_across_clock_changes(world: Seeded, nurse, instants,
                                                   shown) -> None:
    for instant in instants:
        world.log("lege", "patient_view", "p1", at=at(instant))
    day = shown[0][0][:10]
    response = page(nurse, world, start=day, end=day)
    assert response.status_code == 200
    assert sorted(times(response.get_data(as_text=True))) == sorted(shown)


def test_a_day_filter_covers_the_oslo_day_of_23_and_25_hours(world: Seeded, nurse) -> None:
    inside = ("2026-03-28T23:00:00", "2026-03-29T21:59:00",  # 00:00 CET .. 23:59 CEST
              "2026-10-24T22:00:00", "2026-10-25T22:59:00")  # 00:00 CEST .. 23:59 CET
    outside = ("2026-03-28T22:59:00", "2026-03-29T22:00:00",
               "2026-10-24T21:59:00", "2026-10-25T23:00:00")
    for instant in inside + outside:
        world.log("lege", "patient_view", "p1", at=at(instant))
    spring = times(page(nurse, world, start="2026-03-29", end="2026-03-29").get_data(True))
    assert [shown for _iso, shown in spring] == ["29.03.2026 23:59", "29.03.2026 00:00"]
    autumn = times(page(nurse, world, start="25.10.2026", end="25.10.2026").get_data(True))
    assert [shown for _iso, shown in autumn] == ["25.10.2026 23:59", "25.10.2026 00:00"]
    both = times(page(nurse, world, start="2026-03-29", end="2026-10-25").get_data(True))
    assert len(both) == 4 + 2  # and the two outside between the days


def test_midnight_entry_belongs_to_the_oslo_day(world: Seeded, nurse) -> None:
    world.log("lege", "assessment_view", "p1", at=at("2026-01-31T23:30:00"))
    feb = page(nurse, world, start="2026-02-01", end="2026-02-01").get_data(as_text=True)
    assert [shown for _iso, shown in times(feb)] == ["01.02.2026 00:30"]
    jan = page(nurse, world, start="2026-01-31", end="2026-01-31").get_data(as_text=True)
    assert times(jan) == [] and "Ingen oppføringer passer med utvalget." in jan


# ------------------------------------------------------------------------- words, filters


def test_every_field_in_words_newest_first(world: Seeded, nurse) -> None:
    html = page(nurse, world).get_data(as_text=True)
    lines = rows(html)
    # the newest entry is this very listing, by the nurse of the patient's unit
    newest = lines[0].split(" · ")
    assert newest[1:] == [
        _display(world, "sykepleier"), "sykepleier", "Hjemmetjenesten Nordbygda",
        "listet hvem som har sett journalen", "helsehjelp", "utført"]
    texts = " | ".join(lines)
    for expected in ("ble nektet tilgang · helsehjelp · avvist",
                     "et felt kunne ikke åpnes · helsehjelp · mislyktes",
                     "systemet · system · – · listet hvem som har sett journalen · pasientens "
                     "krav om innsyn · utført",
                     "ruskonsulent · – · nødtilgang · nødtilgang · utført"):
        assert expected in texts, expected
    assert words.page_problems(html) == []
    for raw in ("denied", "patient_request", "break_glass", "access_report"):
        assert raw not in words.visible(html)


def _display(world: Seeded, username: str) -> str:
    from screening.models import Staff

    session = world.db.read_session()
    try:
        return str(session.scalar(select(Staff.display_name)
                                  .where(Staff.username == username)))
    finally:
        session.close()


def test_filter_by_action(world: Seeded, nurse) -> None:
    html = page(nurse, world, action="access_denied").get_data(as_text=True)
    lines = rows(html)
    assert len(lines) == 1 and "ble nektet tilgang" in lines[0]
    assert 'selected value="access_denied"' in html or 'value="access_denied" selected' in html


def test_paging_fifty_a_page_links_carry_no_identifier(world: Seeded, nurse) -> None:
    start = at("2026-05-04T08:00:00")
    with world.db.write() as session:
        user = world.users["lege"]
        for n in range(120):
            access_log.record(session, world.keyring, access_log.Actor(user.id, "gp"),
                              "patient_view", world.patients["p1"],
                              at=start + timedelta(minutes=n))
    first = page(nurse, world, start="2026-05-04", end="2026-05-04").get_data(as_text=True)
    assert len(rows(first)) == 50 and "Viser 1–50 av 120 oppføringer." in first
    assert "Side 1 av 3" in first and times(first)[0][1] == "04.05.2026 11:59"
    older = re.search(r'href="([^"]+)" rel="next"', first)
    assert older is not None
    link = older.group(1).replace("&amp;", "&")
    assert re.fullmatch(rf"/patients/{world.patients['p1']}/access-log\?"
                        r"start=04.05.2026&end=04.05.2026&page=2", link)
    # the dates are shown as the interface writes them, whichever way they were typed
    assert 'value="04.05.2026"' in first
    last = nurse.get(link.replace("page=2", "page=3")).get_data(as_text=True)
    assert len(rows(last)) == 20 and "Viser 101–120 av 120 oppføringer." in last
    assert times(last)[-1][1] == "04.05.2026 10:00" and 'rel="next"' not in last
    beyond = nurse.get(link.replace("page=2", "page=40"))
    assert beyond.status_code == 200 and "Side 3 av 3" in beyond.get_data(as_text=True)


@pytest.mark.parametrize("query, message", [
    ({"start": "31.02.2026"}, "Skriv datoen som dd.mm.åååå, for eksempel 29.03.2026."),
    ({"end": "2026-1-5"}, "Skriv datoen som dd.mm.åååå, for eksempel 29.03.2026."),
    ({"start": "１２３４-05-06"}, "Skriv datoen som dd.mm.åååå, for eksempel 29.03.2026."),
    ({"start": "1850-01-01"}, "Skriv datoen som dd.mm.åååå, for eksempel 29.03.2026."),
    ({"start": "2026-05-02", "end": "2026-05-01"}, "Fra-datoen kommer etter til-datoen."),
    ({"action": "patient_peek"}, "Velg hva som ble gjort, fra listen."),
    ({"page": "0"}, "Den siden finnes ikke. Begynn på nytt fra første side."),
    ({"page": "²"}, "Den siden finnes ikke. Begynn på nytt fra første side."),
    ({"page": "9" * 40}, "Den siden finnes ikke. Begynn på nytt fra første side."),
])
def test_bad_filters_get_a_message_and_422(world: Seeded, nurse, query, message) -> None:
    response = page(nurse, world, **query)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and rows(html) == []
    assert words.page_problems(html) == []


def test_the_listing_is_logged_and_another_unit_is_refused(world: Seeded, nurse) -> None:
    def count() -> int:
        session = world.db.read_session()
        try:
            return int(session.scalar(select(func.count()).select_from(AccessLogEntry)) or 0)
        finally:
            session.close()

    before = count()
    assert page(nurse, world).status_code == 200
    assert count() == before + 1
    other = world.app.test_client()
    sign_in(world.app, other, world.people["sykepleier-b"])
    refused = page(other, world)
    assert refused.status_code == 403 and world.names["p1"] not in refused.get_data(True)


def test_the_command_lists_the_same_entries_with_the_same_filters(world: Seeded) -> None:
    world.log("lege", "patient_view", "p1", at=at("2026-10-25T00:30:00"))
    world.log("lege", "assessment_view", "p1", at=at("2026-10-25T01:30:00"))
    world.log("lege", "patient_view", "p1", at=at("2026-10-25T23:30:00"))  # 26.10. in Oslo
    runner = world.app.test_cli_runner()
    result = runner.invoke(args=["access-log", "patient", world.patients["p1"],
                                 "--from", "25.10.2026", "--to", "2026-10-25"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0].split()[:2] == ["time", "(Oslo)"] and lines[-1] == "2 entries"
    assert lines[1].startswith("2026-10-25T02:30:00+02:00") and "patient_view" in lines[1]
    assert lines[2].startswith("2026-10-25T02:30:00+01:00") and "assessment_view" in lines[2]
    only = runner.invoke(args=["access-log", "patient", world.patients["p1"],
                               "--action", "assessment_view", "--from", "2026-10-25"])
    assert only.output.strip().endswith("1 entries")
    bad = runner.invoke(args=["access-log", "patient", world.patients["p1"], "--from", "x"])
    assert bad.exit_code != 0 and "--from" in bad.output and "Traceback" not in bad.output
