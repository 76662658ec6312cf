"""Two app servers on one PostgreSQL: two gunicorn processes on two ports, one database,
one key file, both in production mode. A login made on one serves requests on the other
(sessions live in the database, the cookie is signed with the shared session secret), a
logout on one ends the session on both, drafts and submissions sent to both land once, and
an online key rotation leaves both serving without a restart.

Uses ``SCREENING_TEST_DATABASE_URL`` when set (a fresh database on that server), otherwise
starts its own throwaway PostgreSQL cluster (``tests/pg_cluster.py``): it never skips.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from screening import create_app, migrate
from screening.crypto.keys import init_key_file, load_key_file, retire_kek, rotate_key_file
from screening.models import Assessment, Draft
from screening.services.key_rotation import rewrap_all, rows_using
from screening.settings import Settings
from tests.app.staffing import (
    CHECKLIST_NO,
    PASSWORD,
    make_patient,
    make_staff,
    make_units,
    next_code,
)
from tests.conftest import PG_URL, csrf_from

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
AUDIT = [2, 1, 1, 1, 0, 0, 1, 1, 0, 0]  # 7 points


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    if PG_URL:
        name = f"scale_{uuid.uuid4().hex[:12]}"
        admin = make_url(PG_URL).set(database="postgres")
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            engine.dispose()
    else:
        from tests.pg_cluster import cluster

        with cluster() as url:
            yield url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Browser:
    """One user agent: a cookie jar shared by requests to any server (the cookies are
    Secure, so a real browser reaches the servers through one https name)."""

    def __init__(self) -> None:
        self.cookies: dict[str, str] = {}
        self.lock = threading.Lock()

    def request(self, port: int, method: str, path: str, form: dict[str, str] | None = None
                ) -> tuple[int, str, str]:
        headers = {}
        with self.lock:
            if self.cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            page = response.read().decode("utf-8", "replace")
            with self.lock:
                for value in response.headers.get_all("Set-Cookie") or []:
                    name, _, rest = value.partition("=")
                    self.cookies[name] = rest.split(";", 1)[0]
            return response.status, response.headers.get("Location", ""), page
        finally:
            conn.close()


@contextlib.contextmanager
def _server(env: dict[str, str], log: Path) -> Iterator[int]:
    port = _free_port()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
    clean.update(env, PORT=str(port), WEB_CONCURRENCY="2")
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "wsgi:app"],
            cwd=ROOT, env=clean, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _tokens(page: str) -> tuple[str, str]:
    match = re.search(r'name="submission_token"[^>]*value="([^"]+)"', page)
    assert match, page[:2000]
    return csrf_from(page), match.group(1)


def _audit_form(csrf: str, answers: Sequence[int | None], **extra: str) -> dict[str, str]:
    form = {"csrf_token": csrf, "setting": "home_care", **CHECKLIST_NO}
    form.update({f"q{i + 1}": str(v) for i, v in enumerate(answers) if v is not None})
    form.update(extra)
    return form


def _parallel(calls: list[Callable[[], Any]]) -> list[Any]:
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _drafts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return dict(conn.execute(text(
                "SELECT p.uuid, count(d.id) FROM patients p "
                "LEFT JOIN drafts d ON d.patient_id = p.id GROUP BY p.uuid")).all())
    finally:
        engine.dispose()


def test_two_servers_one_database(pg_url: str, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o700)
    init_key_file(instance / "keys.json")
    setup = Settings(env="test", instance_dir=instance, database_url=pg_url,
                     argon2_time_cost=1, argon2_memory_kib=8)
    migrate.upgrade(setup)
    app = create_app(setup)
    try:
        make_units(app)
        nurse = make_staff(app, "nurse.scale", "nurse", ("home-a",))
        patient = make_patient(app, "home-a", name="Skala Utprøvesen")
        patient_b = make_patient(app, "home-a", name="Andre Skalasen")
    finally:
        app.extensions["screening.db"].dispose()

    env = {"SCREENING_ENV": "production", "SCREENING_INSTANCE_DIR": str(instance),
           "SCREENING_DATABASE_URL": pg_url}
    with _server(env, tmp_path / "a.log") as a, _server(env, tmp_path / "b.log") as b:
        nurse_agent = Browser()
        # login on A
        status, _, page = nurse_agent.request(a, "GET", "/login")
        assert status == 200
        status, location, _ = nurse_agent.request(a, "POST", "/login", {
            "csrf_token": csrf_from(page), "username": nurse.username, "password": PASSWORD,
            "code": next_code(nurse.secret), "next": "/"})
        assert status == 302 and not location.endswith("/login"), location
        # ... serves on B
        status, _, page = nurse_agent.request(b, "GET", "/")
        assert status == 200 and '<span class="who">' in page
        status, _, page = nurse_agent.request(b, "GET", f"/patients/{patient}")
        assert status == 200 and "Skala Utprøvesen" in page

        # drafts: saved on A, continued on B, one row
        status, _, page = nurse_agent.request(a, "GET", f"/patients/{patient}/screen/audit")
        assert status == 200
        csrf, _ = _tokens(page)
        draft_path = f"/patients/{patient}/screen/audit/draft"
        assert nurse_agent.request(a, "POST", draft_path,
                                   _audit_form(csrf, AUDIT[:3]))[0] == 204
        assert nurse_agent.request(b, "POST", draft_path,
                                   _audit_form(csrf, AUDIT[:6]))[0] == 204
        status, _, page = nurse_agent.request(b, "GET", f"/patients/{patient}/screen/audit")
        assert status == 200 and "hentet fram igjen" in page
        assert re.search(r'name="q5" value="0" data-index="0"\s+checked', page)
        assert re.search(r'name="q3" value="1" data-index="1"\s+checked', page)
        # concurrent updates from both servers: all stored, still one draft
        statuses = [status for status, _, _ in _parallel([
            partial(nurse_agent.request, port, "POST", draft_path, _audit_form(csrf, AUDIT[:n]))
            for port in (a, b) for n in (4, 5, 6, 7)
        ])]
        assert statuses == [204] * 8
        assert _drafts(pg_url) == {patient: 1, patient_b: 0}

        # one submission token sent to both servers, several times at once: one assessment
        csrf, token = _tokens(page)
        form = _audit_form(csrf, AUDIT, submission_token=token, action="submit")
        path = f"/patients/{patient}/screen/audit"
        answers = _parallel([
            partial(nurse_agent.request, port, "POST", path, form)
            for port in (a, b, a, b, a, b)
        ])
        assert {status for status, _, _ in answers} == {303}, answers
        locations = {location for _, location, _ in answers}
        assert len(locations) == 1, locations
        result = urllib.parse.urlsplit(locations.pop()).path
        for port in (a, b):
            status, _, page = nurse_agent.request(port, "GET", result)
            assert status == 200 and re.search(r'<dd class="big">7</dd>', page)

        # a second patient: first drafts sent to both servers at once make one draft
        draft_path = f"/patients/{patient_b}/screen/audit/draft"
        statuses = [status for status, _, _ in _parallel([
            partial(nurse_agent.request, port, "POST", draft_path, _audit_form(csrf, AUDIT[:2]))
            for port in (a, b, a, b)
        ])]
        assert statuses == [204] * 4
        assert _drafts(pg_url) == {patient: 0, patient_b: 1}
        # the form fetched on B, submitted on A and resent on B
        status, _, page = nurse_agent.request(b, "GET", f"/patients/{patient_b}/screen/audit")
        assert "hentet fram igjen" in page
        csrf, token = _tokens(page)
        form = _audit_form(csrf, AUDIT, submission_token=token, action="submit")
        first = nurse_agent.request(a, "POST", f"/patients/{patient_b}/screen/audit", form)
        again = nurse_agent.request(b, "POST", f"/patients/{patient_b}/screen/audit", form)
        assert first[0] == again[0] == 303 and first[1] == again[1]

        # an online key rotation (one key file for both servers): both keep opening records
        # and logging in without a restart, and the old key-encryption key can be retired
        key_file = instance / "keys.json"
        old_kek = load_key_file(key_file).kek_id
        rotate_key_file(key_file)
        tool = create_app(setup)
        try:
            database = tool.extensions["screening.db"]
            assert rewrap_all(database, tool.extensions["screening.keys"]) >= 3
            assert rows_using(database, old_kek) == 0
        finally:
            tool.extensions["screening.db"].dispose()
        retire_kek(key_file, old_kek)
        for port in (a, b):
            status, _, page = nurse_agent.request(port, "GET", f"/patients/{patient_b}")
            assert status == 200 and "Andre Skalasen" in page
        other_agent = Browser()
        status, _, page = other_agent.request(b, "GET", "/login")
        status, location, _ = other_agent.request(b, "POST", "/login", {
            "csrf_token": csrf_from(page), "username": nurse.username, "password": PASSWORD,
            "code": next_code(nurse.secret, 1), "next": "/"})
        assert status == 302 and not location.endswith("/login"), location

        # logout on B ends the session on A too
        status, _, page = nurse_agent.request(b, "GET", "/")
        assert nurse_agent.request(b, "POST", "/logout", {"csrf_token": csrf_from(page)}
                                   )[0] == 302
        status, location, _ = nurse_agent.request(a, "GET", f"/patients/{patient}")
        assert status == 302 and "/login" in location

    engine = create_engine(pg_url)
    try:
        with engine.connect() as conn:
            per_patient: dict[str, int] = dict(conn.execute(
                text("SELECT p.uuid, count(a.id) FROM patients p "
                     "LEFT JOIN assessments a ON a.patient_id = p.id GROUP BY p.uuid")).all())
            assert per_patient == {patient: 1, patient_b: 1}
            assert conn.scalar(select(func.count()).select_from(Assessment)) == 2
            # the submission removed the draft that both servers had written to
            assert conn.scalar(select(func.count()).select_from(Draft)) == 0
    finally:
        engine.dispose()
    for log in ("a.log", "b.log"):
        output = (tmp_path / log).read_text()
        assert "Traceback" not in output and " 500 " not in output, output
        assert patient not in output
