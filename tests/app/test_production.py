"""Production is safe by default: the app refuses to start with debug on, on SQLite unless
allowed, or with a key file others can read, with one clear line, no traceback and a
non-zero status, both on import and under gunicorn, where the master stops before it binds
a port (``preload_app``). A production start serves Secure cookies and HSTS, writes no URL
to the access log, and behind a trusted proxy sees the client's own address."""

from __future__ import annotations

import contextlib
import dataclasses
import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from screening import create_app
from screening.models import LoginAttempt
from screening.settings import Settings, SettingsError
from tests.conftest import ON_POSTGRES, csrf_from

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
GUNICORN = [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), "wsgi:app"]
PATIENT = "123e4567-e89b-42d3-a456-426614174000"


def _env(extra: dict[str, str]) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SCREENING_", "GUNICORN_")) and k not in ("PORT", "BIND")}
    clean.update({"WEB_CONCURRENCY": "1", "SCREENING_ENV": "production"})
    clean.update(extra)
    return clean


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _held_port() -> Iterator[int]:
    """A port this test listens on: a gunicorn that tried to bind it would fail loudly
    ("Connection in use") instead of starting, so its silence proves it never tried."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        yield int(sock.getsockname()[1])


def _one_clear_line(result: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert result.returncode != 0, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("screening: cannot start: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert result.stdout == ""
    return lines[0]


def _import_wsgi(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", "import wsgi"], cwd=ROOT, env=_env(env),
                          capture_output=True, text=True, timeout=60)


def _gunicorn(env: dict[str, str], port: int) -> subprocess.CompletedProcess[str]:
    return subprocess.run(GUNICORN, cwd=ROOT, env=_env({**env, "PORT": str(port)}),
                          capture_output=True, text=True, timeout=60)


def _refusals(instance_dir: Path) -> list[tuple[str, dict[str, str], tuple[str, ...]]]:
    keys = str(instance_dir / "keys.json")
    base = {"SCREENING_INSTANCE_DIR": str(instance_dir)}
    sqlite_ok = {**base, "SCREENING_ALLOW_SQLITE_IN_PRODUCTION": "1"}
    return [
        ("debug", {**sqlite_ok, "SCREENING_DEBUG": "1"}, ("SCREENING_DEBUG", "production")),
        ("debug-pg", {**base, "SCREENING_DEBUG": "on",
                      "SCREENING_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/x"},
         ("SCREENING_DEBUG",)),
        ("sqlite", base, ("SCREENING_DATABASE_URL", "SCREENING_ALLOW_SQLITE_IN_PRODUCTION=1")),
        ("sqlite-url", {**base, "SCREENING_DATABASE_URL": f"sqlite:///{instance_dir}/x.db"},
         ("SCREENING_DATABASE_URL",)),
        ("group-readable", {**sqlite_ok, "_mode": "640"}, (keys, "0640", "chmod 600")),
        ("world-readable", {**sqlite_ok, "_mode": "604"}, (keys, "0604")),
    ]


CASES = ["debug", "debug-pg", "sqlite", "sqlite-url", "group-readable", "world-readable"]


def _case(instance_dir: Path, name: str) -> tuple[dict[str, str], tuple[str, ...]]:
    for case, env, needles in _refusals(instance_dir):
        if case == name:
            env = dict(env)
            mode = env.pop("_mode", None)
            if mode is not None:
                os.chmod(instance_dir / "keys.json", int(mode, 8))
            return env, needles
    raise LookupError(name)


@pytest.mark.parametrize("case", CASES)
def test_import_refuses_unsafe_production(instance_dir: Path, case: str) -> None:
    env, needles = _case(instance_dir, case)
    line = _one_clear_line(_import_wsgi(env), *needles)
    assert "base64" not in line and "kcv" not in line


@pytest.mark.parametrize("case", CASES)
def test_gunicorn_refuses_before_binding(instance_dir: Path, case: str) -> None:
    env, needles = _case(instance_dir, case)
    with _held_port() as port:
        result = _gunicorn(env, port)
    _one_clear_line(result, *needles)
    assert "Connection in use" not in result.stderr and "Listening at" not in result.stderr


def test_held_port_detects_a_bind(instance_dir: Path, database_url: str) -> None:
    """The control for the test above: a start that does reach the bind step fails
    visibly on the held port."""
    env = {"SCREENING_INSTANCE_DIR": str(instance_dir), "SCREENING_DATABASE_URL": database_url,
           "SCREENING_ALLOW_SQLITE_IN_PRODUCTION": "1"}
    with _held_port() as port:
        result = _gunicorn(env, port)
    assert result.returncode != 0
    assert "Connection in use" in result.stderr


def test_trusted_proxies_setting() -> None:
    assert Settings.from_env({}).trusted_proxies == 0
    assert Settings.from_env({"SCREENING_TRUSTED_PROXIES": "1"}).trusted_proxies == 1
    for bad in ("-1", "6", "one"):
        with pytest.raises(SettingsError, match="^SCREENING_TRUSTED_PROXIES"):
            Settings.from_env({"SCREENING_TRUSTED_PROXIES": bad})


def _gunicorn_conf(monkeypatch: pytest.MonkeyPatch, cores: int | None, **env: str) -> dict:
    """The settings ``deploy/gunicorn.conf.py`` gives under ``env``, on a host where this
    process may run on ``cores`` cores (None: the affinity cannot be read)."""
    import runpy

    for name in ("WEB_CONCURRENCY", "GUNICORN_THREADS", "PORT", "BIND",
                 "SCREENING_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def affinity(pid: int) -> set[int]:
        if cores is None:
            raise OSError("no affinity here")
        return set(range(cores))

    monkeypatch.setattr(os, "sched_getaffinity", affinity)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    return runpy.run_path(str(CONFIG))


@pytest.mark.no_database
def test_gunicorn_runs_one_sync_worker_per_core(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the database on this host: one worker per core the service may use (its
    affinity, not the host's count), at least 2 and at most 8; WEB_CONCURRENCY overrides
    it; sync workers unless threads are asked for."""
    local_pg = "postgresql+psycopg://screening:pw@127.0.0.1:5432/screening"
    socket_pg = "postgresql+psycopg://screening@/screening?host=/run/postgresql"
    assert _gunicorn_conf(monkeypatch, 4)["workers"] == 4  # SQLite, the default
    assert _gunicorn_conf(monkeypatch, 4, SCREENING_DATABASE_URL=local_pg)["workers"] == 4
    assert _gunicorn_conf(monkeypatch, 4, SCREENING_DATABASE_URL=socket_pg)["workers"] == 4
    assert _gunicorn_conf(monkeypatch, 1)["workers"] == 2
    assert _gunicorn_conf(monkeypatch, 32)["workers"] == 8
    assert _gunicorn_conf(monkeypatch, None)["workers"] == 3  # falls back to cpu_count
    assert _gunicorn_conf(monkeypatch, 4, WEB_CONCURRENCY="6")["workers"] == 6
    assert _gunicorn_conf(monkeypatch, 4)["threads"] == 1
    with pytest.raises(SystemExit, match="WEB_CONCURRENCY must be between 1 and 64"):
        _gunicorn_conf(monkeypatch, 4, WEB_CONCURRENCY="0")


@pytest.mark.no_database
def test_gunicorn_runs_more_workers_when_postgresql_is_elsewhere(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker that waits for another host on every statement leaves its core free:
    2 × cores + 1 workers, at most 8, unless WEB_CONCURRENCY says otherwise."""
    remote = "postgresql+psycopg://screening:pw@db.example.internal:5432/screening"
    assert _gunicorn_conf(monkeypatch, 2, SCREENING_DATABASE_URL=remote)["workers"] == 5
    assert _gunicorn_conf(monkeypatch, 8, SCREENING_DATABASE_URL=remote)["workers"] == 8
    assert _gunicorn_conf(monkeypatch, 2, SCREENING_DATABASE_URL=remote,
                          WEB_CONCURRENCY="2")["workers"] == 2
    query_host = "postgresql+psycopg://screening@/screening?host=db.example.internal"
    assert _gunicorn_conf(monkeypatch, 2, SCREENING_DATABASE_URL=query_host)["workers"] == 5
    # An unreadable URL counts as remote; the app refuses it at start in any case.
    assert _gunicorn_conf(monkeypatch, 2,
                          SCREENING_DATABASE_URL="postgresql://[bad")["workers"] == 5


# ------------------------------------------------------------------ a production start


def _request(port: int, method: str, path: str, headers: dict[str, str] | None = None,
             body: str | None = None) -> tuple[int, http.client.HTTPMessage, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, response.headers, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


@contextlib.contextmanager
def _serving(env: dict[str, str]) -> Iterator[tuple[int, Path]]:
    port = _free_port()
    log = Path(env["SCREENING_INSTANCE_DIR"]).parent / f"gunicorn-{port}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(GUNICORN, cwd=ROOT, env=_env({**env, "PORT": str(port)}),
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, log.read_text()
            try:
                if _request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        yield port, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_production_under_gunicorn(instance_dir: Path, database_url: str) -> None:
    env = {"SCREENING_INSTANCE_DIR": str(instance_dir), "SCREENING_DATABASE_URL": database_url,
           "SCREENING_TRUSTED_PROXIES": "1"}
    if not ON_POSTGRES:
        env["SCREENING_ALLOW_SQLITE_IN_PRODUCTION"] = "1"
    with _serving(env) as (port, log):
        status, headers, _ = _request(port, "GET", "/healthz")
        assert status == 200
        assert headers["Strict-Transport-Security"].startswith("max-age=")
        status, headers, page = _request(port, "GET", "/login")
        assert status == 200 and csrf_from(page)
        cookie = headers["Set-Cookie"]
        assert cookie.startswith("screening_session=")
        assert re.search(r";\s*Secure", cookie) and re.search(r";\s*HttpOnly", cookie)
        assert "SameSite=Lax" in cookie
        # not found, with a patient uuid in path, query and referrer: no debugger, no echo
        status, _, page = _request(port, "GET", f"/no/such/{PATIENT}?p={PATIENT}",
                                   headers={"Referer": f"https://x/patients/{PATIENT}"})
        assert status == 404 and "Werkzeug" not in page and "Traceback" not in page
        status, headers, _ = _request(port, "GET", f"/patients/{PATIENT}?q={PATIENT}")
        assert status == 302 and "/login" in headers["Location"]
        time.sleep(0.5)
        output = log.read_text()
    assert re.search(r'"GET" 404 \d+ ', output), output
    assert PATIENT not in output and "/patients" not in output and "/healthz" not in output


def test_proxy_fix_gives_throttling_the_client_address(settings: Settings) -> None:
    """Behind one proxy (SCREENING_TRUSTED_PROXIES=1) a failed login is counted against the
    address in X-Forwarded-For; without it the header is ignored, so a client cannot
    choose the address its failures are counted against."""
    for trusted, expected in ((1, "203.0.113.7"), (0, "127.0.0.1")):
        app = create_app(dataclasses.replace(settings, trusted_proxies=trusted))
        try:
            client = app.test_client()
            base = {"REMOTE_ADDR": "127.0.0.1"}
            page = client.get("/login", environ_base=base).get_data(as_text=True)
            response = client.post(
                "/login", environ_base=base,
                headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https",
                         "Referer": "https://localhost/login"},
                data={"csrf_token": csrf_from(page), "username": "nobody",
                      "password": "wrong-password-123", "code": "000000", "next": "/"})
            assert response.status_code == 200
            with app.extensions["screening.db"].write() as session:
                addresses = session.scalars(select(LoginAttempt.address)).all()
                session.execute(delete(LoginAttempt))
            assert addresses == [expected]
        finally:
            app.extensions["screening.db"].dispose()
