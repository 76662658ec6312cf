"""200 SIGKILLs of the server (gunicorn on SQLite) in the middle of writes: four nurses keep
submitting AUDIT forms and registering patients while the server is killed with SIGKILL
(every other time the whole server, master and workers, which is then started again; in
between only the workers, which the master replaces) and each unanswered form is sent again
with the same submission token once the server is back.

Afterwards: SQLite's integrity check passes; no partial assessment exists (every assessment
has its report fact and its answers and context open, no report fact lacks its assessment,
the report counts equal the facts counted afresh, every patient's key and fields open); no
change lacks its access-log row (as many ``assessment_create`` rows as assessments, as many
``patient_register`` rows as patients); nothing acknowledged was lost and nothing was stored
twice; ``flask access-log verify`` passes. Bounded: 200 kills or 10 minutes, whichever
comes first."""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from screening.crypto.hashing import blind_index
from screening.models import AccessLogEntry, Assessment, Patient, ReportFact
from screening.services import patients as patient_service
from tests.app.fnr import random_fnr
from tests.app.report_counts import counted_from_facts, stored_counts
from tests.reliability.common import AUDIT_ANSWERS
from tests.reliability.server import (
    CSRF,
    ROOT,
    Browser,
    Instance,
    Server,
    audit_form,
    prepare,
    submit_screening,
)

KILLS = int(os.environ.get("SCREENING_TEST_KILLS", "200"))  # fewer for a quick try
TIME_LIMIT_S = 600
WRITERS = 4

# The crash test is for SQLite's files: run in the SQLite pass only.
pytestmark = [pytest.mark.slow, pytest.mark.sqlite_only]


class State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.in_flight = 0
        self.give_up = float("inf")
        self.unexpected: list[tuple[str, int, str]] = []
        self.steps: Counter[str] = Counter()

    def next_step(self, person: Any) -> int:
        """TOTP codes are single-use: a second login of an account takes the next step's
        code (accepted within the drift window; a refused one is retried later)."""
        with self.lock:
            step = self.steps[person.username]
            self.steps[person.username] += 1
            return min(step, 1)


class Writer(threading.Thread):
    """A nurse who keeps writing; a write that got no answer is sent again, unchanged."""

    def __init__(self, number: int, instance: Instance, server: Server, fnrs: list[str],
                 state: State) -> None:
        super().__init__(daemon=True)
        self.rng = random.Random(number)
        self.person = instance.nurses[number]
        self.patients = instance.patients
        self.fnrs = fnrs
        self.state = state
        self.browser = Browser(server.port, timeout=20)
        self.csrf = self.unit = ""
        self.acknowledged: dict[str, str] = {}  # submission token -> assessment uuid
        self.registered: dict[str, str] = {}  # fnr -> patient uuid (303)
        self.refused_as_duplicate: set[str] = set()  # fnr whose resend found it stored
        self.statuses: Counter[int] = Counter()

    def run(self) -> None:
        self._login()
        pending: tuple[str, str, str, dict[str, str]] | None = None  # kind, key, url, form
        while not self.state.stop.is_set() or pending is not None:
            if pending is None:
                pending = self._next_write()
            kind, key, url, form = pending
            with self.state.lock:
                self.state.in_flight += 1
            try:
                reply = (submit_screening(self.browser, url, form) if kind == "assessment"
                         else self.browser.post(url, form))
            except OSError:  # no answer: the server is down; send it again
                if time.monotonic() > self.state.give_up:
                    return
                time.sleep(0.02)
                continue
            finally:
                with self.state.lock:
                    self.state.in_flight -= 1
            self.statuses[reply.status] += 1
            if reply.status == 303:
                done = self.acknowledged if kind == "assessment" else self.registered
                done[key] = reply.location.rsplit("/", 1)[1]
            elif kind == "register" and reply.status == 422 and "allerede registrert" in reply.body:
                self.refused_as_duplicate.add(key)  # its first send was stored, unanswered
            elif reply.status == 503:  # the database was busy or recovering: again
                time.sleep(0.05)
                continue
            elif reply.status == 302 and "/login" in reply.location:
                self._login()
                continue
            else:
                self.state.unexpected.append((kind, reply.status, reply.body[:300]))
            pending = None

    def _next_write(self) -> tuple[str, str, str, dict[str, str]]:
        if self.rng.random() < 0.3 and self.fnrs:
            fnr = self.fnrs.pop()
            return "register", fnr, "/patients/new", {
                "csrf_token": self.csrf, "fnr": fnr, "name": f"Synt Krasj {fnr[-5:]}",
                "unit": self.unit}
        token = secrets.token_urlsafe(32)
        url = f"/patients/{self.rng.choice(self.patients)}/screen/audit"
        return "assessment", token, url, audit_form(self.csrf, token, AUDIT_ANSWERS)

    def _login(self) -> None:
        """Log in through the form (again only if the session was lost), then read the CSRF
        token and the unit from the registration page. Retried until the server answers."""
        while True:
            try:
                self.browser.cookies.clear()
                self.browser.login(self.person, code_offset_steps=self.state.next_step(
                    self.person))
                page = self.browser.get("/patients/new")
                csrf = CSRF.search(page.body)
                unit = re.search(r'<option[^>]*value="(\d+)"', page.body)
                if page.status == 200 and csrf and unit:
                    self.csrf, self.unit = csrf.group(1), unit.group(1)
                    return
            except (OSError, AssertionError):
                pass
            time.sleep(0.1)


def test_200_sigkills_leave_nothing_partial(tmp_path: Path, template_database: str) -> None:
    database = tmp_path / "crash" / "screening.sqlite3"
    database.parent.mkdir()
    shutil.copyfile(template_database, database)
    instance = prepare(tmp_path / "instance", f"sqlite:///{database}", nurses=WRITERS,
                       patients=10, migrated=True)
    rng = random.Random(99)
    pool = sorted({random_fnr(rng, born_from=date(1930, 1, 1), born_to=date(1959, 1, 1))
                   for _ in range(6000)})
    server = Server(instance, workers=2, preload=True)
    state = State()
    server.start()
    writers = [Writer(i, instance, server, pool[i::WRITERS], state) for i in range(WRITERS)]
    for writer in writers:
        writer.start()
    began = time.monotonic()
    kills = whole = mid_write = 0
    while kills < KILLS and time.monotonic() - began < TIME_LIMIT_S:
        time.sleep(rng.uniform(0.05, 0.5))
        with state.lock:
            busy = state.in_flight > 0
        if kills % 2 == 0:
            server.kill()
            whole += 1
            kills += 1
            mid_write += busy
            server.start()
        else:
            if server.kill_workers():
                kills += 1
                mid_write += busy
            _wait_healthy(server)
    seconds = time.monotonic() - began
    state.stop.set()
    state.give_up = time.monotonic() + 60
    for writer in writers:
        writer.join(timeout=90)
    server.stop()
    assert not any(w.is_alive() for w in writers), "a writer did not finish its last resend"
    assert not state.unexpected, state.unexpected[:3]
    print(f"\n{kills} SIGKILLs ({whole} of the whole server, {kills - whole} of its workers), "
          f"{mid_write} with a request in flight, in {seconds:.0f} s; answers: "
          f"{sum((w.statuses for w in writers), Counter())}")
    assert kills == KILLS or seconds >= TIME_LIMIT_S
    assert mid_write >= kills // 2, "most kills should land while a request is in flight"
    _check_database(instance, writers)
    verify = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "access-log",
                             "verify"], cwd=ROOT, env=instance.env, capture_output=True,
                            text=True, timeout=300)
    assert verify.returncode == 0 and verify.stdout.startswith("ok"), verify.stderr


def _wait_healthy(server: Server, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if Browser(server.port, timeout=2).get("/healthz").status == 200:
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError("the server did not come back after its workers were killed")


def _check_database(instance: Instance, writers: list[Writer]) -> None:
    app = instance.app()
    db, keyring = app.extensions["screening.db"], app.extensions["screening.keys"]
    session = db.read_session()
    try:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert session.execute(text("PRAGMA foreign_key_check")).all() == []
        keys: dict[int, bytes] = {}
        fnrs: dict[str, str] = {}
        for patient in session.scalars(select(Patient)):
            key = patient_service.data_key(keyring, patient)
            keys[patient.id] = key
            patient_service.unlock(patient, key)
            assert blind_index(keyring, patient.fnr) == patient.fnr_index
            assert patient.name and patient.birth_date and patient.sex in ("male", "female")
            fnrs[patient.fnr] = patient.uuid
        tokens: dict[str, str] = {}
        fact_ids = set()
        for row in session.scalars(select(Assessment)):
            patient_service.unlock(row, keys[row.patient_id])
            assert row.answers and row.context and session.get(ReportFact, row.fact_id)
            assert json.loads(row.pathways) is not None
            tokens[row.submission_token] = row.uuid
            fact_ids.add(row.fact_id)
        facts = session.scalar(select(func.count()).select_from(ReportFact))
        assert facts == len(fact_ids) == len(tokens), "a report fact without its assessment"
        assert stored_counts(session) == counted_from_facts(session), "report counts differ"
        logged = dict(session.execute(
            select(AccessLogEntry.action, func.count()).group_by(AccessLogEntry.action)).all())
        assert logged.get("assessment_create", 0) == len(tokens), "assessment without log row"
        assert logged.get("patient_register", 0) == len(fnrs), "patient without log row"
    finally:
        session.close()
        db.dispose()
    acknowledged = {t: u for w in writers for t, u in w.acknowledged.items()}
    registered = {f: u for w in writers for f, u in w.registered.items()}
    assert {t: tokens.get(t) for t in acknowledged} == acknowledged, "acknowledged, then lost"
    assert {f: fnrs.get(f) for f in registered} == registered, "acknowledged, then lost"
    for writer in writers:
        assert writer.refused_as_duplicate <= set(fnrs)
    print(f"{len(tokens)} assessments and {len(fnrs)} patients stored; "
          f"{len(acknowledged)} and {len(registered)} acknowledged; all open, all logged")
