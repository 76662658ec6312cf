"""One submission stores one assessment: the same filled-in form posted 10 times at once
through the live server, and a double click on "Vis resultat" without JavaScript."""

from __future__ import annotations

import http.client
import random
import re
import threading
import time
from urllib.parse import urlencode, urlsplit

from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from screening.models import Assessment
from tests.app.staffing import CHECKLIST_NO
from tests.browser.clinician import (
    answer_all,
    answer_medication,
    log_in,
    older_fnr,
    register_patient,
)

RNG = random.Random(88)
ANSWERS = [1, 0, 0, None, None, None, None, None, 0, 0]  # items 2 and 3 zero: 4-8 skipped


def count_assessments(app) -> int:  # type: ignore[no-untyped-def]
    with app.extensions["screening.db"].write() as session:
        return int(session.scalar(select(func.count()).select_from(Assessment)) or 0)


def test_ten_concurrent_posts_store_one(live_server: str, page: Page, app, clinic) -> None:  # type: ignore[no-untyped-def]
    """The browser logs in and opens the form; its session cookie, CSRF token and the form's
    submission token are then posted by 10 threads released together."""
    page.goto(live_server + "/")
    log_in(page, clinic["nurse"])
    register_patient(page, "Dobbelt Klikkesen", older_fnr(RNG, "female"))
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    form = page.locator("#screen-form")
    fields = {
        "csrf_token": form.locator('input[name="csrf_token"]').input_value(),
        "submission_token": form.locator('input[name="submission_token"]').input_value(),
        "setting": "home_care",
        "action": "submit",
        **CHECKLIST_NO,
        **{f"q{n + 1}": str(v) for n, v in enumerate(ANSWERS) if v is not None},
    }
    body = urlencode(fields)
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    path = urlsplit(page.url).path
    port = urlsplit(live_server).port
    start = threading.Barrier(10)
    outcomes: list[tuple[int, str]] = []
    lock = threading.Lock()

    def post() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        start.wait()
        connection.request(
            "POST",
            path,
            body=body,
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        response.read()
        with lock:
            outcomes.append((response.status, response.getheader("Location") or ""))
        connection.close()

    threads = [threading.Thread(target=post) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == 10
    assert {status for status, _ in outcomes} == {303}, outcomes
    locations = {location for _, location in outcomes}
    assert len(locations) == 1 and re.search(r"/assessments/[0-9a-f-]{36}$", locations.pop())
    assert count_assessments(app) == 1

    page.goto(live_server + urlsplit(outcomes[0][1]).path)
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Resultat: AUDIT"))


def test_double_click_without_javascript_stores_one(  # type: ignore[no-untyped-def]
    live_server: str,
    open_page,
    app,
    clinic,
) -> None:
    """Without the script nothing stops a second click while the first is still on its way
    (a slow connection: the server here takes half a second per submission); the server's
    submission token does."""
    posts: list[str] = []
    inner = app.wsgi_app

    def slow(environ, start_response):  # type: ignore[no-untyped-def]
        if environ["REQUEST_METHOD"] == "POST" and environ["PATH_INFO"].endswith("/screen/audit"):
            posts.append(environ["PATH_INFO"])
            time.sleep(0.5)
        return inner(environ, start_response)

    app.wsgi_app = slow
    page = open_page(java_script_enabled=False)
    page.goto(live_server + "/")
    log_in(page, clinic["nurse"])
    register_patient(page, "Klikk Toganger", older_fnr(RNG, "male"))
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    answer_all(page, ANSWERS)
    answer_medication(page)
    button = page.get_by_role("button", name="Vis resultat")
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    # raw mouse clicks: a locator click would wait for the first navigation to finish
    with page.expect_request(lambda r: r.method == "POST"):
        page.mouse.click(x, y)
    with page.expect_request(lambda r: r.method == "POST"):
        page.mouse.click(x, y)  # the browser drops the first navigation and sends again
    expect(page).to_have_url(re.compile(r"/assessments/[0-9a-f-]{36}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("^Resultat: AUDIT"))
    assert len(posts) == 2, "both clicks reached the server"
    assert count_assessments(app) == 1
