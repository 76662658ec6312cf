"""A real server for the load and fault tests: an instance folder with its key file, a
migrated database (SQLite file or a PostgreSQL database) with units, nurse accounts (TOTP
enrolled, cheap password hashing) and patients made through the services, gunicorn started
on 127.0.0.1 as a subprocess in its own process group, and a small HTTP client with a cookie
jar that logs in through the real login form (password and TOTP code)."""

from __future__ import annotations

import http.client
import os
import re
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pyotp
from sqlalchemy import select

from screening import create_app, migrate
from screening.crypto.keys import init_key_file
from screening.models import Unit
from screening.settings import Settings
from tests.app.fnr import random_fnr
from tests.app.staffing import CHECKLIST_NO, PASSWORD, Person, make_staff, make_units

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
CHEAP_ARGON2 = {"SCREENING_ARGON2_TIME_COST": "1", "SCREENING_ARGON2_MEMORY_KIB": "8"}
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TOKEN = re.compile(r'name="submission_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Instance:
    folder: Path
    database_url: str
    nurses: list[Person] = field(default_factory=list)
    patients: list[str] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return Settings(env="test", instance_dir=self.folder, database_url=self.database_url,
                        argon2_time_cost=1, argon2_memory_kib=8)

    @property
    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("SCREENING_")}
        clean.update(CHEAP_ARGON2, SCREENING_ENV="test", SCREENING_INSTANCE_DIR=str(self.folder),
                     SCREENING_DATABASE_URL=self.database_url, SCREENING_LOG_LEVEL="WARNING")
        return clean

    def app(self) -> Any:
        return create_app(self.settings)


def prepare(folder: Path, database_url: str, *, nurses: int, patients: int,
            migrated: bool = False, seed: int = 1) -> Instance:
    """Key file, schema, units, ``nurses`` nurse accounts of unit home-a (TOTP enrolled) and
    ``patients`` patients of home-a registered through the service (each logged)."""
    import random

    from screening.services import patients as patient_service
    from screening.services.access_log import Actor

    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    init_key_file(folder / "keys.json")
    instance = Instance(folder, database_url)
    if not migrated:
        migrate.upgrade(instance.settings)
    app = instance.app()
    try:
        make_units(app)
        instance.nurses = [make_staff(app, f"nurse{i:03d}", "nurse", ("home-a",))
                           for i in range(nurses)]
        db, keyring = app.extensions["screening.db"], app.extensions["screening.keys"]
        session = db.read_session()
        try:
            unit_id = session.scalar(select(Unit.id).where(Unit.code == "home-a"))
        finally:
            session.close()
        rng = random.Random(seed)
        seen: set[str] = set()
        while len(instance.patients) < patients:
            fnr = random_fnr(rng, born_from=date(1935, 1, 1), born_to=date(1955, 12, 31))
            if fnr in seen:
                continue
            seen.add(fnr)
            instance.patients.append(patient_service.register(
                db, keyring, Actor(instance.nurses[0].id, "nurse"), fnr=fnr,
                name=f"Synt Last {len(instance.patients):04d}", unit_id=unit_id))
    finally:
        app.extensions["screening.db"].dispose()
    return instance


class Server:
    """gunicorn in its own process group (so that one signal reaches master and workers)."""

    def __init__(self, instance: Instance, workers: int = 3, preload: bool = False,
                 log: Path | None = None) -> None:
        self.instance = instance
        self.workers = workers
        self.preload = preload
        self.port = free_port()
        self.log = log or instance.folder / "gunicorn.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> float:
        """Start and wait until /healthz answers 200; returns the seconds it took."""
        argv = [str(GUNICORN), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
                "--graceful-timeout", "5", "--timeout", "60"]
        if self.preload:
            argv.append("--preload")
        started = time.monotonic()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([*argv, "wsgi:app"], cwd=ROOT, env=self.instance.env,
                                            stdout=log, stderr=log, start_new_session=True)
        while time.monotonic() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}; "
                                   f"see {self.log}")
            try:
                if Browser(self.port, timeout=2).get("/healthz").status == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"gunicorn did not answer within {timeout} s; see {self.log}")

    def kill(self) -> None:
        """SIGKILL to master and workers at once: no cleanup runs anywhere."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=30)
        self._reap_group()
        self.process = None

    def kill_workers(self) -> int:
        """SIGKILL to the workers only; the master starts new ones. Returns how many."""
        assert self.process is not None
        children = _children(self.process.pid)
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        return len(children)

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
        self._reap_group()
        self.process = None

    def _reap_group(self) -> None:
        """Wait until no process of the group is left (workers die after the master)."""
        if self.process is None:
            return
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.01)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: str
    seconds: float

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Browser:
    """One user's browser: a cookie jar over http.client, one connection per request."""

    def __init__(self, port: int, timeout: float = 30) -> None:
        self.port = port
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Reply:
        headers = {"Host": f"127.0.0.1:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read().decode("utf-8", "replace")
            for name, value in response.getheaders():
                if name.lower() == "set-cookie":
                    cookie = value.split(";", 1)[0]
                    key, _, val = cookie.partition("=")
                    if val and "expires=Thu, 01 Jan 1970" not in value:
                        self.cookies[key.strip()] = val.strip()
                    else:
                        self.cookies.pop(key.strip(), None)
            got = {k.lower(): v for k, v in response.getheaders()}
            return Reply(response.status, got, data, time.monotonic() - started)
        except http.client.HTTPException as err:  # a half answer is no answer
            raise ConnectionError(f"incomplete answer: {type(err).__name__}") from None
        finally:
            conn.close()

    def get(self, path: str) -> Reply:
        return self.request("GET", path)

    def post(self, path: str, form: dict[str, str]) -> Reply:
        return self.request("POST", path, form)

    def login(self, person: Person, code_offset_steps: int = 0) -> None:
        page = self.get("/login")
        match = CSRF.search(page.body)
        assert page.status == 200 and match, (page.status, page.body[:300])
        code = pyotp.TOTP(person.secret).at(time.time() + 30 * code_offset_steps)
        done = self.post("/login", {"csrf_token": match.group(1), "username": person.username,
                                    "password": PASSWORD, "code": code, "next": "/"})
        assert done.status in (302, 303) and not done.location.startswith("/login"), \
            (person.username, done.status, done.location, done.body[:500])

    def screening_form(self, patient: str, instrument: str = "audit") -> tuple[str, str]:
        """(CSRF token, submission token) of a fresh AUDIT form."""
        page = self.get(f"/patients/{patient}/screen/{instrument}")
        csrf, token = CSRF.search(page.body), TOKEN.search(page.body)
        if page.status != 200 or csrf is None or token is None:
            raise FormUnavailable(page.status)
        return csrf.group(1), token.group(1)


CONFIRM_REPEAT = re.compile(r'name="confirm_repeat" value="([0-9a-f-]{36})"')


def submit_screening(browser: Browser, path: str, form: dict[str, str]) -> Reply:
    """Send a screening form as a nurse does who screens the same patient again and again:
    when the app asks whether this is a new screening (the same patient and instrument a
    short while ago, answered 409), she confirms it. The submission token is the same in
    every send, so nothing is stored twice."""
    reply = browser.post(path, form)
    for _ in range(5):
        match = CONFIRM_REPEAT.search(reply.body) if reply.status == 409 else None
        if match is None:
            break
        reply = browser.post(path, {**form, "confirm_repeat": match.group(1)})
    return reply


class FormUnavailable(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"form answered {status}")
        self.status = status


def audit_form(csrf: str, token: str, answers: tuple[int, ...]) -> dict[str, str]:
    """The AUDIT form as a nurse sends it, the medication-and-falls checklist included (the
    patients here are 65 or older)."""
    form = {"csrf_token": csrf, "submission_token": token, "setting": "home_care",
            "action": "submit", **CHECKLIST_NO}
    form.update({f"q{i + 1}": str(v) for i, v in enumerate(answers)})
    return form
