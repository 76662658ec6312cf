"""No English and no internal names in the bokmål interface (issue 16, point 12): every role
(nurse, unit leader, GP, substance-use consultant, analyst, administrator, and no one) walks
every page of the URL map it can GET, with the uuids of seeded patients, screenings and
follow-ups, plus the pages a form shows with its errors, the error pages, and the report
files; ``tests/app/words.py`` says what must not be there. And the conversation checklist's
messages name the field's label, not its id."""

from __future__ import annotations

from itertools import product
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.app import words
from tests.app.seeded import Seeded, seed
from tests.app.staffing import sign_in
from tests.conftest import csrf_from

SUBJECTS = ("sykepleier", "leder", "lege", "ruskonsulent", "analytiker", "admin", None)
PATIENT_OF = {"lege": "p2"}
ASSESSMENTS_OF = {"lege": ("gp_audit",)}


@pytest.fixture
def world(app) -> Seeded:  # type: ignore[no-untyped-def]
    return seed(app)


def client_for(world: Seeded, who: str | None) -> Any:
    client = world.app.test_client()
    if who is not None:
        sign_in(world.app, client, world.people[who])
    return client


def parameter_values(world: Seeded, who: str | None) -> dict[str, list[str]]:
    patient = PATIENT_OF.get(who or "", "p1")
    return {
        "patient_uuid": [world.patients[patient]],
        "assessment_uuid": [world.assessments[a] for a in ASSESSMENTS_OF.get(
            who or "", ("audit", "dudit", "audit_high", "dudit_positive"))],
        "follow_up_uuid": [world.follow_ups["open"]],
        "instrument_id": ["audit", "dudit"],
        "staff_uuid": [world.staff_uuid("sykepleier")],
        "unit_id": [str(world.units["home-b"])],
        "grant_uuid": [world.grant_uuid],
        "referral_uuid": [world.referral_uuid],
        "pathway": ["elder_care", "gp", "substance_use_consultant", "specialist_referral"],
    }


def get_urls(world: Seeded, who: str | None) -> list[str]:
    """Every GET rule of the URL map, once per combination of the subject's values."""
    adapter = world.app.url_map.bind("localhost")
    values = parameter_values(world, who)
    urls = []
    for rule in sorted(world.app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or rule.endpoint == "static":
            continue
        names = sorted(rule.arguments)
        missing = [n for n in names if n not in values]
        assert not missing, f"{rule.rule}: no seeded value for {missing}"
        for combination in product(*(values[n] for n in names)):
            urls.append(adapter.build(rule.endpoint, dict(zip(names, combination, strict=True)),
                                      append_unknown=False))
    return urls


def extra_urls(world: Seeded, who: str | None) -> list[str]:
    """Pages with a query: report periods of every kind (and a bad one), the access log
    filtered (and badly), a page that does not exist."""
    year = __import__("screening.localtime", fromlist=["local_today"]).local_today().year
    patient = world.patients[PATIENT_OF.get(who or "", "p1")]
    reports = [{"kind": "quarter", "quarter": "1", "year": str(year)},
               {"kind": "month", "month": f"{year}-03"},
               {"kind": "custom", "start": f"{year - 1}-11", "end": f"{year}-02"},
               {"kind": "year", "year": str(year), "instrument": "dudit"},
               {"kind": "month", "month": "mars"}]
    urls = [f"/reports?{urlencode(q)}" for q in reports]
    urls += [f"/reports/report.csv?{urlencode(reports[0])}",
             f"/reports/summary?{urlencode(reports[0])}"]
    access = f"/patients/{patient}/access-log"
    urls += [f"{access}?{urlencode(q)}" for q in (
        {"start": "2020-01-01", "end": "2100-12-31", "action": "patient_view"},
        {"start": "31.02.2026"}, {"start": "2026-05-01", "end": "2026-04-01"},
        {"action": "peek"}, {"page": "x"}, {"page": "99"})]
    return urls + ["/no/such/page"]


def check(url: str, response: Any, found: dict[str, list[str]]) -> None:
    kind = response.mimetype
    if kind == "text/html":
        problems = words.page_problems(response.get_data(as_text=True))
    elif kind == "text/csv":
        problems = words.csv_problems(response.get_data())
    elif kind.endswith("spreadsheetml.sheet"):
        problems = words.xlsx_problems(response.get_data())
    else:
        return
    if problems:
        found[f"{url} ({response.status_code})"] = sorted(set(problems))


def walk(world: Seeded, who: str | None, found: dict[str, list[str]]) -> int:
    client = client_for(world, who)
    pages = 0
    for url in get_urls(world, who) + extra_urls(world, who):
        response = client.get(url, follow_redirects=True)  # a browser never shows a 3xx
        assert response.status_code < 500, (who, url, response.status_code)
        check(f"{who}: GET {url}", response, found)
        pages += 1
    return pages


def post(client: Any, url: str, data: dict[str, str], csrf: bool = True) -> Any:
    if csrf:
        data = {"csrf_token": csrf_from(client.get("/no/such/page").get_data(as_text=True)),
                **data}
    return client.post(url, data=data, follow_redirects=True)


def forms_with_errors(world: Seeded, found: dict[str, list[str]]) -> int:
    """Forms sent wrong (and a few sent right, for their messages), as the users who may."""
    p1, p2 = world.patients["p1"], world.patients["p2"]
    audit = world.assessments["audit"]
    nurse, admin = client_for(world, "sykepleier"), client_for(world, "admin")
    sent = [
        (nurse, f"/assessments/{audit}/conversation", {"follow_up.date": "2026-13-40",
                                                       "readiness.importance": "11",
                                                       "override.chosen_level": "4"}),
        (nurse, f"/patients/{p1}/screen/audit", {"setting": "home_care", "q1": "1"}),
        (nurse, f"/patients/{p1}/screen/audit", {"q1": "9"}),
        (nurse, "/patients", {"fnr": "123"}),
        (nurse, "/patients/new", {"fnr": "", "name": ""}),
        (nurse, f"/patients/{p2}/break-glass", {"reason": "kort"}),
        (nurse, f"/follow-ups/{world.follow_ups['open']}/done", {}),
        (admin, "/admin/staff/new", {"username": "Ø Ø", "password": "kort"}),
        (admin, "/admin/units", {"code": "X", "name": "", "kind": "moon"}),
    ]
    for client, url, data in sent:
        response = post(client, url, data)
        assert response.status_code < 500, (url, response.status_code)
        check(f"POST {url}", response, found)
    missing_token = post(nurse, f"/patients/{p1}/screen/audit", {}, csrf=False)
    assert missing_token.status_code == 400
    check("POST without CSRF token", missing_token, found)
    return len(sent) + 1


def test_no_english_and_no_internal_names_on_any_page_or_file(world: Seeded) -> None:
    found: dict[str, list[str]] = {}
    pages = sum(walk(world, who, found) for who in SUBJECTS)
    pages += forms_with_errors(world, found)
    assert pages > 150
    assert not found, "\n".join(f"{where}:\n    " + "\n    ".join(problems)
                                for where, problems in found.items())


def test_the_word_lists_catch_what_they_should() -> None:
    """The checks themselves: each kind of problem is found, and bokmål passes."""
    assert "Who has seen the record" in words.english_phrases()
    assert {"Z", "W7", "E1", "O65"} <= set(words.rule_codes())
    html = ('<html lang="nb"><body><p>Utfall: ok</p><td>W7</td>'
            '<li><strong>W7</strong>: Kvinne med totalskår 7.</li>'
            '<p>feedback.given: må fylles ut</p><p>substance_use_consultant</p>'
            '<p>Screen med AUDIT</p><span title="Who has seen the record">x</span>'
            '<button lang="en">English</button><td>2026-Q1</td></body></html>')
    problems = " ".join(words.page_problems(html))
    for expected in ("'ok'", "rule code alone in <td>: 'W7'", "field id 'feedback.given'",
                     "'substance_use_consultant'", "'Screen'", "'Who has seen the record'",
                     "'Q1'"):
        assert expected in problems, expected
    assert "English'" not in problems and "Kvinne" not in problems
    clean = ('<html lang="nb"><body><h1>Hvem har sett journalen</h1><p>Laget 29.03.2026 '
             '03:30 · 1. kvartal 2026 · Hjemmetjenesten Nordbygda (home-a), gp-a</p>'
             '<li><strong>O65</strong>: 65 år eller eldre.</li></body></html>')
    assert words.page_problems(clean) == []


def test_conversation_messages_name_the_field_by_its_label(world: Seeded) -> None:
    """Level 2 with nothing ticked: the required steps are named by their labels in the
    instrument file (bokmål, and English on request), never as feedback.given."""
    client = client_for(world, "sykepleier")
    url = f"/assessments/{world.assessments['audit']}/conversation"
    response = post(client, url, {"readiness.importance": "11", "override.chosen_level": "3"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert ("Kryss av for «Tilbakemelding gitt om resultatet (skår og sone, med nøytrale "
            "ord)»: dette trinnet er en del av samtalen fra tiltaksnivå 2.") in html
    assert "Velg «Mål»: det trengs fra tiltaksnivå 2." in html
    assert "Fyll inn «Dato»: det trengs fra tiltaksnivå 2." in html
    assert "Velg «Hvem følger opp»: det trengs fra tiltaksnivå 2." in html
    assert "«Hvor viktig er endring for deg (0–10)?»: skriv et helt tall fra 0 til 10." in html
    assert ("Fyll inn «Begrunnelse for annet nivå»: du har valgt et annet tiltaksnivå enn det "
            "foreslåtte (2).") in html
    for internal in ("feedback.given", "goal.type", "follow_up.date", "må fylles ut når"):
        assert internal not in words.visible(html)
    token = csrf_from(html)
    client.post("/lang", data={"lang": "en", "csrf_token": token})
    english = post(client, url, {}).get_data(as_text=True)
    assert ("Tick “Feedback given on the result (score and zone, in neutral words)”: this "
            "step is part of the conversation from action level 2.") in english
    assert "feedback.given" not in words.visible(english)
