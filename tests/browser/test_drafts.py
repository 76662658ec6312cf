"""Answers in progress survive an expired session: the form's script saves a sealed draft on
every change, and after a new login the same patient's form comes back with the answers."""

from __future__ import annotations

import random
import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import update

from screening.models import StaffSession
from screening.services import accounts
from tests.browser.clinician import (
    answer_all,
    checked_items,
    log_in,
    older_fnr,
    option,
    register_patient,
)

RNG = random.Random(77)
SEVEN = [2, 1, 1, 1, 0, 0, 1]  # items 1-7; item 1 is not "Aldri", so nothing is skipped


def session_token(app, page: Page) -> str:  # type: ignore[no-untyped-def]
    """The login session's token, read from the browser's signed session cookie."""
    name = app.config["SESSION_COOKIE_NAME"]
    value = next(c["value"] for c in page.context.cookies() if c["name"] == name)
    data = app.session_interface.get_signing_serializer(app).loads(value)
    return str(data["sid"])


def let_session_expire(app, token: str) -> None:  # type: ignore[no-untyped-def]
    """Make the session idle for longer than ``session_idle_minutes``, as if the nurse had
    left the tablet lying on the table: its row's last activity (and its start, so that the
    two stay in order) are moved back past the idle limit in the database. The server then
    finds it expired on the next request through its ordinary check (``accounts.resume``),
    ends it and asks for a new login -- the same path a real idle timeout takes. Waiting out
    even a one-minute limit would make the test slow; clearing cookies or ending the session
    directly would skip the expiry check that this test is about."""
    back = timedelta(minutes=app.extensions["screening.settings"].session_idle_minutes + 5)
    with app.extensions["screening.db"].write() as session:
        row = session.get(StaffSession, accounts._session_id(token))
        assert row is not None and row.ended_at is None
        session.execute(
            update(StaffSession)
            .where(StaffSession.id == row.id)
            .values(created_at=row.created_at - back, last_seen_at=row.last_seen_at - back)
        )


def test_seven_answers_survive_an_expired_session(  # type: ignore[no-untyped-def]
    live_server: str,
    page: Page,
    app,
    clinic,
) -> None:
    nurse = clinic["nurse"]
    page.goto(live_server + "/")
    log_in(page, nurse)
    register_patient(page, "Utkast Lagresen", older_fnr(RNG, "male"))
    page.get_by_role("link", name="Ny AUDIT", exact=True).click()
    audit_url = page.url

    # 7 of 10 answered; wait for the autosave that carries the 7th answer
    answer_all(page, SEVEN[:6])
    with page.expect_response(
        lambda r: (
            r.url.endswith("/screen/audit/draft") and 'name="q7"' in (r.request.post_data or "")
        )
    ) as saved:
        option(page, 7, SEVEN[6]).check()
    assert saved.value.status == 204
    expect(page.get_by_role("status").filter(has_text="Utkast lagret")).to_be_visible()

    token = session_token(app, page)
    let_session_expire(app, token)

    # an 8th answer cannot be saved any more: the page says so and keeps it on the screen
    with page.expect_response(lambda r: r.url.endswith("/screen/audit/draft")):
        option(page, 8, 0).check()
    expect(page.get_by_role("status").filter(has_text="Ikke lagret")).to_be_visible()
    assert checked_items(page)[8] == 0

    # the session is over: the form leads to the login page, and back after it
    page.reload()
    assert re.search(r"/login\?next=", page.url), page.url
    expect(page.get_by_role("status").filter(has_text="Økten din er avsluttet.")).to_be_visible()
    with app.extensions["screening.db"].write() as session:
        assert session.get(StaffSession, accounts._session_id(token)).ended_at is not None
    log_in(page, nurse, step=1)  # the code of the next 30-second step: each code works once
    assert page.url == audit_url
    expect(
        page.get_by_role("status").filter(
            has_text="Svarene du ikke hadde sendt, er hentet fram igjen."
        )
    ).to_be_visible()
    assert checked_items(page) == {n + 1: index for n, index in enumerate(SEVEN)}
    for number, index in enumerate(SEVEN, start=1):
        expect(option(page, number, index)).to_be_checked()
