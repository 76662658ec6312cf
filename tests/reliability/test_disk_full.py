"""A full disk while a nurse sends an AUDIT: she gets a 503 page with her answers still in
the form (and the same submission token, so sending again stores it once); nothing partial
is stored; when space is back the next submission succeeds without a restart.

Two ways to fill the disk, both switched on and off on the running app's engine:

* SQLite ``PRAGMA max_page_count`` clamped to the database's current size on every
  connection: a write that needs a new page fails with "database or disk is full", one that
  fits in the pages there are still succeeds (as on a real disk with some room left in the
  file). The nurse keeps submitting until one is refused.
* every INSERT, UPDATE and DELETE fails with the driver's disk-full error (a file system with
  no byte left, where even the write-ahead log cannot grow; SQLite and PostgreSQL). Then
  even the read of the patient cannot be logged, so the form comes back without the
  patient's name, but with the answers.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import event, func, select, text

from screening.models import Assessment, Patient
from screening.services import access_log, patients
from tests.app.staffing import make_patient, make_staff, make_units, sign_in
from tests.conftest import ON_POSTGRES, csrf_from
from tests.reliability.common import (
    AUDIT_ANSWERS,
    LOG_TABLES,
    READ_ACTIONS,
    new_log_actions,
    table_counts,
)

UNSAVED = re.compile(r"could not be saved just now|kunne ikke lagres akkurat nå")
UNLIMITED = 1_073_741_823
PATIENT_NAME = "Synt FullDisk"


class Checked(HTMLParser):
    """name -> value of every checked input, and the hidden fields."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.checked: dict[str, str] = {}
        self.hidden: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        name, value = found.get("name"), found.get("value") or ""
        if tag != "input" or not name:
            return
        if "checked" in found:
            self.checked[name] = value
        if found.get("type") == "hidden":
            self.hidden[name] = value


CONFIRM_REPEAT = re.compile(r'name="confirm_repeat" value="([0-9a-f-]{36})"')


class Nurse:
    def __init__(self, app: Any) -> None:
        make_units(app)
        self.app = app
        self.patient = make_patient(app, name=PATIENT_NAME)
        self.client = app.test_client()
        sign_in(app, self.client, make_staff(app, "nurse.full", "nurse", ("home-a",)))
        page = self.client.get(f"/patients/{self.patient}/screen/audit")
        assert page.status_code == 200
        self.csrf = csrf_from(page.get_data(as_text=True))
        checklist = app.extensions["screening.catalogue"].instrument("medication_falls")
        self.medication = {f"med_{item.id}": str(i % 2) for i, item in enumerate(checklist.items)}

    def form(self, token: str) -> dict[str, str]:
        data = {"csrf_token": self.csrf, "submission_token": token, "setting": "home_care",
                "action": "submit", **self.medication}
        data.update({f"q{i + 1}": str(v) for i, v in enumerate(AUDIT_ANSWERS)})
        return data

    def submit(self, token: str) -> Any:
        """Send the form; she screens the same patient again and again, so she confirms each
        new screening when asked (the app asks within a short while of the last one)."""
        url = f"/patients/{self.patient}/screen/audit"
        response = self.client.post(url, data=self.form(token))
        match = CONFIRM_REPEAT.search(response.get_data(as_text=True))
        if response.status_code == 409 and match:
            response = self.client.post(url, data={**self.form(token),
                                                   "confirm_repeat": match.group(1)})
        return response

    def assert_answers_kept(self, response: Any, token: str) -> str:
        html = response.get_data(as_text=True)
        assert UNSAVED.search(html), "no message that the answers were not saved"
        page = Checked(html)
        expected = {k: v for k, v in self.form(token).items()
                    if k.startswith(("q", "med_")) or k == "setting"}
        assert {k: page.checked.get(k) for k in expected} == expected
        assert page.hidden.get("submission_token") == token  # a resend stores it once
        return html


def _assessments(app: Any) -> int:
    session = app.extensions["screening.db"].read_session()
    try:
        return int(session.scalar(select(func.count()).select_from(Assessment)))
    finally:
        session.close()


def _check_store(app: Any) -> None:
    """The log chain is whole, SQLite's integrity check passes, every assessment opens."""
    db, keyring = app.extensions["screening.db"], app.extensions["screening.keys"]
    session = db.read_session()
    try:
        assert access_log.verify(session, keyring).ok
        if db.is_sqlite:
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        for row in session.scalars(select(Assessment)):
            patient = session.get(Patient, row.patient_id)
            patients.unlock(row, patients.data_key(keyring, patient))
            assert row.answers and row.context
    finally:
        session.close()


@pytest.fixture
def page_limit(app) -> Iterator[dict[str, int]]:  # type: ignore[no-untyped-def]
    """``limit["pages"]``: the max_page_count set on every connection as it is checked out
    of the pool (the running app's engine; no restart)."""
    engine = app.extensions["screening.db"].engine
    limit = {"pages": UNLIMITED}

    def clamp(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        dbapi_connection.execute(f"PRAGMA max_page_count={limit['pages']}").fetchall()

    event.listen(engine, "checkout", clamp)
    yield limit
    event.remove(engine, "checkout", clamp)


@pytest.mark.sqlite_only  # PRAGMA max_page_count is SQLite's
def test_sqlite_page_limit_gives_503_with_the_answers_then_recovers(app, page_limit) -> None:
    nurse = Nurse(app)
    db = app.extensions["screening.db"]
    with db.engine.connect() as conn:
        page_limit["pages"] = int(conn.exec_driver_sql("PRAGMA page_count").scalar())
    refused = None
    for _attempt in range(300):
        token = secrets.token_urlsafe(32)
        before = table_counts(db)
        response = nurse.submit(token)
        if response.status_code == 303:
            continue  # it fitted in the pages the file has: stored, as it should be
        assert response.status_code == 503, response.status_code
        after = table_counts(db)
        grown = {t: after[t] - before[t] for t in after
                 if after[t] != before[t] and t not in LOG_TABLES}
        assert not grown, f"a refused submission stored {grown}"
        assert set(new_log_actions(db, before["access_log"])) <= READ_ACTIONS
        refused = (token, response)
        break
    assert refused is not None, "the clamped database never ran out of pages"
    token, response = refused
    nurse.assert_answers_kept(response, token)
    stored = _assessments(app)
    # space is back: the same form, sent again, is stored once
    page_limit["pages"] = UNLIMITED
    again = nurse.submit(token)
    assert again.status_code == 303
    assert nurse.submit(token).headers["Location"] == again.headers["Location"]  # a resend
    assert _assessments(app) == stored + 1
    _check_store(app)


class DiskFull:
    """Every INSERT, UPDATE and DELETE fails with the driver's disk-full error while on."""

    def __init__(self, app: Any) -> None:
        self.on = False
        self.engine = app.extensions["screening.db"].engine
        if ON_POSTGRES:
            import psycopg

            self.error: Exception = psycopg.errors.DiskFull("could not extend file: No space")
        else:
            import sqlite3

            self.error = sqlite3.OperationalError("database or disk is full")
        event.listen(self.engine, "before_cursor_execute", self.refuse)

    def refuse(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if self.on and statement.lstrip().split(" ", 1)[0].upper() in (
                "INSERT", "UPDATE", "DELETE"):
            raise self.error

    def remove(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self.refuse)


def test_no_byte_left_gives_503_with_the_answers_then_recovers(app) -> None:
    nurse = Nurse(app)
    full = DiskFull(app)
    db = app.extensions["screening.db"]
    try:
        token = secrets.token_urlsafe(32)
        before = table_counts(db)
        full.on = True
        response = nurse.submit(token)
        assert response.status_code == 503
        html = nurse.assert_answers_kept(response, token)
        assert PATIENT_NAME not in html  # its read could not be logged, so it is not shown
        draft = nurse.client.post(f"/patients/{nurse.patient}/screen/audit",
                                  data={**nurse.form(token), "action": "draft"})
        assert draft.status_code == 503  # saving a draft: the same answer
        nurse.assert_answers_kept(draft, token)
        assert table_counts(db) == before  # nothing at all was written
        full.on = False
        again = nurse.submit(token)
        assert again.status_code == 303
        assert _assessments(app) == 1
    finally:
        full.remove()
    _check_store(app)


def test_no_byte_left_with_a_session_idle_over_a_minute_keeps_the_answers(app) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from screening.models import StaffSession
    from screening.models.base import utcnow

    nurse = Nurse(app)
    db = app.extensions["screening.db"]
    with db.write() as session:  # the nurse spent five minutes on the form
        session.execute(update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=5)))
    full = DiskFull(app)
    try:
        full.on = True
        token = secrets.token_urlsafe(32)
        response = nurse.submit(token)
        assert response.status_code == 503
        nurse.assert_answers_kept(response, token)
    finally:
        full.remove()
