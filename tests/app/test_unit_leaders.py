"""Unit leaders see the anonymised reports of the units they lead, and only those; other
clinicians see none. Leadership is set by an administrator (page) or the staff command."""

from __future__ import annotations

import re

from screening.services import accounts
from tests.app.staffing import PASSWORD, make_staff, make_units, sign_in
from tests.app.test_reports import MONTH, fact, insert_facts, page_tables, plain, unit_ids
from tests.conftest import csrf_from


def leader(app, username: str = "leder", unit: str = "home-a"):  # type: ignore[no-untyped-def]
    staff_id = accounts.create_staff(
        app.extensions["screening.db"], app.extensions["screening.keys"],
        app.extensions["screening.hasher"], username=username, display_name="Leder",
        role="nurse", password=PASSWORD, unit_codes=(unit,), leader_of=(unit,),
        totp_secret_value="JBSWY3DPEHPK3PXP")
    from tests.app.staffing import Person

    return Person(username, "nurse", "JBSWY3DPEHPK3PXP", staff_id)


def test_a_leader_sees_only_the_units_led(app) -> None:
    make_units(app)
    units = unit_ids(app)
    insert_facts(app, [fact(units["home-a"]) for _ in range(20)]
                 + [fact(units["home-b"]) for _ in range(30)])
    client = app.test_client()
    sign_in(app, client, leader(app))
    home = client.get("/").get_data(as_text=True)
    assert 'href="/reports"' in home
    page = client.get(f"/reports?kind=month&month={MONTH}")
    assert page.status_code == 200
    rows = page_tables(page.get_data(as_text=True))["results"]
    assert plain(rows[-1][-1]) == "20"  # home-a only, never the whole municipality
    html = page.get_data(as_text=True)
    choices = re.search(r'class="unit-choices".*?</ul>', html, re.S).group(0)
    assert re.findall(r'name="units"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="units"',
                      choices)
    offered = {a or b for a, b in re.findall(
        r'name="units"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="units"', choices)}
    assert offered == {str(units["home-a"])}
    other = client.get(f"/reports?kind=month&month={MONTH}&units={units['home-b']}")
    assert other.status_code == 422
    assert client.get(f"/reports/report.csv?kind=month&month={MONTH}").status_code == 200


def test_a_clinician_who_leads_nothing_sees_no_report(app) -> None:
    make_units(app)
    client = app.test_client()
    sign_in(app, client, make_staff(app, "vanlig", "nurse", ("home-a",)))
    assert client.get(f"/reports?kind=month&month={MONTH}").status_code == 403
    assert 'href="/reports"' not in client.get("/").get_data(as_text=True)


def test_an_administrator_makes_a_member_leader(app) -> None:
    make_units(app)
    units = unit_ids(app)
    nurse = make_staff(app, "blir.leder", "nurse", ())
    admin = make_staff(app, "sjef", "admin")
    client = app.test_client()
    sign_in(app, client, admin)
    from screening.services import administration

    person = next(p for p in administration.list_staff(app.extensions["screening.db"])
                  if p.username == "blir.leder")
    page = client.get(f"/admin/staff/{person.uuid}").get_data(as_text=True)
    response = client.post(f"/admin/staff/{person.uuid}/units", data={
        "csrf_token": csrf_from(page), "unit": str(units["home-b"]), "leader": "y"})
    assert response.status_code in (302, 303)
    person = next(p for p in administration.list_staff(app.extensions["screening.db"])
                  if p.username == "blir.leder")
    assert person.led_unit_ids == frozenset({units["home-b"]})
    nurse_client = app.test_client()
    sign_in(app, nurse_client, nurse)
    assert nurse_client.get(f"/reports?kind=month&month={MONTH}").status_code == 200


def test_leader_of_must_be_a_unit_of_the_account(app) -> None:
    import pytest

    make_units(app)
    with pytest.raises(accounts.AccountError):
        accounts.create_staff(
            app.extensions["screening.db"], app.extensions["screening.keys"],
            app.extensions["screening.hasher"], username="feil", display_name="Feil",
            role="nurse", password=PASSWORD, unit_codes=("home-a",), leader_of=("home-b",))
