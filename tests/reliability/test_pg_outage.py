"""PostgreSQL stopped for 10 s under load: gunicorn (3 workers) serves six logged-in nurses
who keep opening patient pages, asking /healthz and sending AUDIT forms when the database
is stopped (``pg_ctl stop -m fast``) and started again 10 s later. Every request made while
it is down is answered 503 (the error page; /healthz its plain 503) within 5 s, none with
500 or a timeout; the service answers again within 30 s of the database, without a
restart; a form answered 503 and sent again afterwards is stored once, and nothing
acknowledged is lost. The cluster is the test's own (tests/pg_cluster.py), so the suite's
database is never stopped; the test runs in the PostgreSQL pass of the slow suite."""

from __future__ import annotations

import os
import secrets
import shlex
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select, text

from screening.models import Assessment
from screening.services import access_log
from tests.pg_cluster import _as_postgres, _bindir, cluster
from tests.reliability.common import AUDIT_ANSWERS
from tests.reliability.server import CSRF, Browser, Server, audit_form, prepare, submit_screening

DOWN_S = 10
ANSWER_WITHIN_S = 5.0
BACK_WITHIN_S = 30.0
CLIENTS = 6
ERROR_PAGE = "Midlertidig utilgjengelig"  # "Temporarily unavailable", bokmål

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]


@dataclass(frozen=True)
class Request:
    kind: str  # page | healthz | submit
    started: float
    seconds: float
    status: int  # 0: no answer (connection error or timeout)
    error_page: bool


class Postgres:
    """Stop and start the throwaway cluster with the options it was started with."""

    def __init__(self, url: str) -> None:
        engine = create_engine(url)
        with engine.connect() as conn:
            self.data = conn.execute(text("SHOW data_directory")).scalar()
        engine.dispose()
        argv = shlex.split(Path(self.data, "postmaster.opts").read_text())
        options = argv[1:]
        if "-D" in options:
            at = options.index("-D")
            del options[at:at + 2]
        self.options = shlex.join(options)
        self.pg_ctl = os.path.join(_bindir(), "pg_ctl")

    def stop(self) -> None:
        subprocess.run([self.pg_ctl, "-D", self.data, "-m", "fast", "-w", "stop"], check=True,
                       stdout=subprocess.DEVNULL, **_as_postgres())  # type: ignore[arg-type]

    def start(self) -> None:
        subprocess.run([self.pg_ctl, "-D", self.data, "-o", self.options, "-l",
                        os.path.join(self.data, "..", "log"), "-w", "start"], check=True,
                       stdout=subprocess.DEVNULL, **_as_postgres())  # type: ignore[arg-type]


class Load(threading.Thread):
    def __init__(self, port: int, person: Any, patient: str, stop: threading.Event,
                 log: list[Request], lock: threading.Lock) -> None:
        super().__init__(daemon=True)
        self.browser = Browser(port, timeout=ANSWER_WITHIN_S * 4)
        self.browser.login(person)
        page = self.browser.get(f"/patients/{patient}")
        self.csrf = CSRF.search(page.body).group(1)  # type: ignore[union-attr]
        self.patient, self.stop, self.log, self.lock = patient, stop, log, lock
        self.acknowledged: dict[str, str] = {}
        self.unanswered: list[str] = []  # submission tokens answered 503, to send again

    def run(self) -> None:
        turn = 0
        while not self.stop.is_set():
            kind = ("page", "healthz", "submit")[turn % 3]
            turn += 1
            token = secrets.token_urlsafe(32)
            self._one(kind, token)
            time.sleep(0.05)

    def _one(self, kind: str, token: str) -> int:
        path = {"page": f"/patients/{self.patient}", "healthz": "/healthz",
                "submit": f"/patients/{self.patient}/screen/audit"}[kind]
        started = time.monotonic()
        try:
            if kind == "submit":
                reply = submit_screening(self.browser, path,
                                         audit_form(self.csrf, token, AUDIT_ANSWERS))
            else:
                reply = self.browser.get(path)
            status, body = reply.status, reply.body
        except OSError:
            status, body = 0, ""
        seconds = time.monotonic() - started
        with self.lock:
            self.log.append(Request(kind, started, seconds, status, ERROR_PAGE in body))
        if kind == "submit":
            if status == 303:
                self.acknowledged[token] = reply.location.rsplit("/", 1)[1]
            else:
                self.unanswered.append(token)
        return status

    def send_again(self) -> None:
        """After the outage: every form answered 503 is sent again, with its token."""
        for token in self.unanswered:
            reply = submit_screening(self.browser, f"/patients/{self.patient}/screen/audit",
                                     audit_form(self.csrf, token, AUDIT_ANSWERS))
            assert reply.status == 303, reply.status
            self.acknowledged[token] = reply.location.rsplit("/", 1)[1]


def test_postgres_stopped_for_10_s_under_load(tmp_path: Path) -> None:
    with cluster() as url:
        postgres = Postgres(url)
        instance = prepare(tmp_path / "instance", url, nurses=CLIENTS, patients=CLIENTS)
        server = Server(instance, workers=3)
        server.start()
        stop, lock, log = threading.Event(), threading.Lock(), []  # type: ignore[var-annotated]
        loads = [Load(server.port, person, instance.patients[i], stop, log, lock)
                 for i, person in enumerate(instance.nurses)]
        try:
            for load in loads:
                load.start()
            time.sleep(3)
            postgres.stop()
            down = time.monotonic()
            time.sleep(DOWN_S)
            restarting = time.monotonic()
            postgres.start()
            up = time.monotonic()
            back = _wait_until_served(server.port, up)
            time.sleep(3)
            stop.set()
            for load in loads:
                load.join(timeout=60)
            for load in loads:
                load.send_again()
        finally:
            stop.set()
            server.stop()
        _check(log, down, restarting, up, back)
        _check_stored(instance, loads)


def _wait_until_served(port: int, up: float) -> float:
    """The moment /healthz and a page answer normally again."""
    probe = Browser(port, timeout=ANSWER_WITHIN_S * 2)
    while time.monotonic() - up < BACK_WITHIN_S * 2:
        try:
            if probe.get("/healthz").status == 200 and probe.get("/login").status == 200:
                return time.monotonic()
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the service was not back {BACK_WITHIN_S * 2:.0f} s after the database")


def _check(log: list[Request], down: float, restarting: float, up: float,
           back: float) -> None:
    """``down``: the stop command returned; ``restarting``: the start command was run;
    ``up``: it returned (the database accepts connections); ``back``: served again."""
    during = [r for r in log if down <= r.started and r.started + r.seconds <= restarting]
    assert len(during) >= CLIENTS * 5, f"only {len(during)} requests while the database was down"
    wrong = [r for r in during if r.status != 503]
    assert not wrong, f"{len(wrong)} requests not answered 503 while down, e.g. {wrong[0]}"
    slowest = max(r.seconds for r in during)
    assert slowest <= ANSWER_WITHIN_S, f"a 503 took {slowest:.2f} s"
    pages = [r for r in during if r.kind != "healthz"]
    assert all(r.error_page for r in pages), "a 503 without the error page"
    assert any(r.kind == "healthz" for r in during)
    assert not [r for r in log if r.status == 0 or r.status == 500], "no answer, or a 500"
    after = [r for r in log if r.started >= back + 1]
    assert after and all(r.status in (200, 303) for r in after), \
        "still failing after the service came back"
    assert back - up <= BACK_WITHIN_S, f"back {back - up:.1f} s after the database"
    print(f"\ndatabase down {restarting - down:.1f} s: {len(during)} requests, all 503, slowest "
          f"{slowest:.2f} s; service back {back - up:.1f} s after the database")


def _check_stored(instance: Any, loads: list[Load]) -> None:
    app = instance.app()
    try:
        session = app.extensions["screening.db"].read_session()
        stored = dict(session.execute(select(Assessment.submission_token, Assessment.uuid)).all())
        verdict = access_log.verify(session, app.extensions["screening.keys"])
        session.close()
    finally:
        app.extensions["screening.db"].dispose()
    acknowledged = {t: u for load in loads for t, u in load.acknowledged.items()}
    assert {t: stored.get(t) for t in acknowledged} == acknowledged, "an acknowledged form lost"
    assert set(stored) == set(acknowledged), "a form stored that nobody was told about, or twice"
    assert verdict.ok
