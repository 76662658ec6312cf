"""50 clients × 20 submissions against gunicorn (3 workers) on 127.0.0.1: each client logs
in through the real login form (its own nurse account, password and TOTP code), then sends
10 AUDIT forms, each twice with the same submission token: 5 as a resend after the answer,
5 as a double click (both at once). Afterwards: 0 lost (every token stored, every answer a
redirect to its own result), 0 duplicated (500 assessments, one per token, one
``assessment_create`` access-log row each), 0 responses 5xx; the log chain verifies, and
the report counts equal the facts.
On SQLite and on PostgreSQL (whichever the suite runs on)."""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from screening.models import AccessLogEntry, Assessment
from screening.services import access_log
from tests.app.report_counts import counted_from_facts, stored_counts
from tests.conftest import ON_POSTGRES, _pg_admin_url, _pg_execute
from tests.reliability.common import AUDIT_ANSWERS
from tests.reliability.server import (
    Browser,
    Instance,
    Server,
    audit_form,
    prepare,
    submit_screening,
)

CLIENTS = 50
FORMS_PER_CLIENT = 10  # each sent twice: 20 submissions per client
PATIENTS = 25

pytestmark = pytest.mark.slow


@pytest.fixture
def copied_database(template_database: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of its own, for a server in another process."""
    if ON_POSTGRES:
        name = f"srv_{uuid.uuid4().hex[:12]}"
        _pg_execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        yield _pg_admin_url(name)
        _pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        target = tmp_path / "served" / "screening.sqlite3"
        target.parent.mkdir()
        shutil.copyfile(template_database, target)
        yield f"sqlite:///{target}"


@pytest.fixture
def instance(copied_database: str, tmp_path: Path) -> Instance:
    return prepare(tmp_path / "instance", copied_database, nurses=CLIENTS, patients=PATIENTS,
                   migrated=True)


class Outcome:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[str, list[tuple[int, str]]] = {}  # token -> [(status, location)]
        self.statuses: Counter[int] = Counter()
        self.errors: list[str] = []

    def add(self, token: str, status: int, location: str) -> None:
        with self.lock:
            self.sent.setdefault(token, []).append((status, location))
            self.statuses[status] += 1


def _client(port: int, person: Any, patient: str, start: threading.Barrier,
            outcome: Outcome) -> None:
    browser = Browser(port, timeout=120)
    try:
        browser.login(person)
    except Exception as err:  # noqa: BLE001 - reported by the test
        outcome.errors.append(f"{person.username}: login failed: {err!r}"[:300])
        start.abort()
        return
    start.wait()
    url = f"/patients/{patient}/screen/audit"
    for number in range(FORMS_PER_CLIENT):
        try:
            csrf, token = browser.screening_form(patient)
        except Exception as err:  # noqa: BLE001
            outcome.errors.append(f"{person.username}: form {number}: {err!r}"[:300])
            continue
        form = audit_form(csrf, token, AUDIT_ANSWERS)
        if number % 2 == 0:  # a resend after the answer came
            for _ in range(2):
                _post(browser, url, form, token, outcome)
        else:  # a double click: both at once, the same session
            twin = Browser(port, timeout=120)
            twin.cookies = dict(browser.cookies)
            threads = [threading.Thread(target=_post, args=(b, url, form, token, outcome))
                       for b in (browser, twin)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()


def _post(browser: Browser, url: str, form: dict[str, str], token: str,
          outcome: Outcome) -> None:
    try:
        reply = submit_screening(browser, url, form)
    except Exception as err:  # noqa: BLE001 - a lost answer counts as a failure
        outcome.errors.append(f"POST failed: {err!r}"[:300])
        outcome.add(token, 0, "")
        return
    outcome.add(token, reply.status, reply.location)


def test_50_clients_x_20_submissions_nothing_lost_nothing_doubled(instance: Instance) -> None:
    server = Server(instance, workers=3)
    server.start()
    outcome = Outcome()
    start = threading.Barrier(CLIENTS)
    threads = [threading.Thread(target=_client, args=(
        server.port, person, instance.patients[i % PATIENTS], start, outcome))
        for i, person in enumerate(instance.nurses)]
    began = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=900)
    finally:
        server.stop()
    seconds = time.monotonic() - began
    assert not outcome.errors, outcome.errors[:5]
    tokens = outcome.sent
    assert len(tokens) == CLIENTS * FORMS_PER_CLIENT
    assert sum(outcome.statuses.values()) == CLIENTS * FORMS_PER_CLIENT * 2
    fivexx = sum(n for status, n in outcome.statuses.items() if status >= 500)
    assert fivexx == 0 and set(outcome.statuses) == {303}, outcome.statuses
    for token, replies in tokens.items():  # both sends of a form lead to the same result
        assert len({location for _status, location in replies}) == 1, (token, replies)

    app = instance.app()
    try:
        session = app.extensions["screening.db"].read_session()
        stored = dict(session.execute(select(Assessment.submission_token, Assessment.uuid)).all())
        created = session.scalar(select(func.count()).select_from(AccessLogEntry)
                                 .where(AccessLogEntry.action == "assessment_create"))
        verdict = access_log.verify(session, app.extensions["screening.keys"])
        counted, kept = counted_from_facts(session), stored_counts(session)
        session.close()
    finally:
        app.extensions["screening.db"].dispose()
    lost = set(tokens) - set(stored)
    assert not lost, f"{len(lost)} submissions lost"
    assert len(stored) == len(tokens), f"{len(stored) - len(tokens)} assessments duplicated"
    for token, replies in tokens.items():
        assert replies[0][1].endswith(f"/assessments/{stored[token]}")
    assert created == len(tokens)
    assert verdict.ok, verdict
    # the report counts, kept by the triggers through concurrent commits and rollbacks
    assert kept == counted and sum(counts[0] for counts in kept.values()) == len(tokens)
    print(f"\n{CLIENTS}x{FORMS_PER_CLIENT * 2} submissions on "
          f"{'PostgreSQL' if ON_POSTGRES else 'SQLite'}: {len(stored)} stored, 0 lost, "
          f"0 duplicated, 0 5xx, in {seconds:.1f} s")
