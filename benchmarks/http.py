"""Throughput and latency of the app under gunicorn, next to a bare Flask baseline.

For each database, SQLite (a file in a temporary folder) and PostgreSQL (a throwaway cluster,
``tests/pg_cluster.py``), in one run on one machine:

1. a fresh key file, the schema (``db upgrade``), one unit and one nurse account per client
   (production argon2 cost, TOTP enrolled);
2. the app (``wsgi:app``, ``SCREENING_ENV=production``), the bare baseline
   (``benchmarks/bare_app.py``: one route writing one row to the same database) and the
   floor (``benchmarks/floor_app.py``: the app with one route that only opens a patient and
   logs the read, what every patient page must do) each under gunicorn with
   ``deploy/gunicorn.conf.py`` on 127.0.0.1, side by side;
3. concurrent clients (threads, ``http.client``, cookies kept): each logs in (password +
   TOTP; at most four logins at a time), registers a patient, then runs the **submission
   path** a fixed number of times: GET the AUDIT form, POST the answers (303), GET the
   result page (200). The baseline clients make as many POST requests to the bare route,
   the floor clients (with the app clients' cookies) as many GETs of the floor route. Rounds
   alternate baseline / floor / app (``--rounds``); each server's best round counts, so
   load from elsewhere hurts all alike;
4. requests per second and p50/p95 latency of each, per request kind, the CPU time the
   workers (and, with PostgreSQL, the database server) used per request, and the resident
   memory of every gunicorn worker after the run (``/proc/PID/status`` VmRSS).

The last line printed is one JSON object::

    {"bench": "http", "sqlite_ratio_vs_bare": …, "postgres_ratio_vs_bare": …,
     "sqlite_p95_ms": …, "postgres_p95_ms": …, "worker_rss_mb": …}

A ratio is the baseline's requests per second divided by the app's requests per second on the
submission path (form, post, result: three requests per screening), so 2.0 means the app
serves half as many requests as a bare one-row write. ``*_p95_ms`` is the 95th percentile
latency of those requests, ``worker_rss_mb`` the largest app worker's resident memory.
Goals (issue 9): ratios at most 2, a worker under 150 MB. The floor's ratios (bare ÷ floor,
floor ÷ app) are printed above the last line, not in it.

    .venv/bin/python benchmarks/http.py            # about 1.5 minutes on two cores

Needs the PostgreSQL server binaries (``make install-test`` installs them).
"""

from __future__ import annotations

import sys

if __name__ == "http":
    # This file is named http.py. A script run from this folder (``python benchmarks/x.py``)
    # has the folder first on its import path, so ``import http.client`` there finds this
    # file instead of the standard library's ``http`` package. Put the real package in its
    # place; the import system then hands that to whoever asked.
    import importlib.util
    import os
    import sysconfig

    _real = os.path.join(sysconfig.get_path("stdlib"), "http", "__init__.py")
    _spec = importlib.util.spec_from_file_location(
        "http", _real, submodule_search_locations=[os.path.dirname(_real)])
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["http"] = _module
    _spec.loader.exec_module(_module)
    # The rest of this file then only defines names (no import with side effects runs at
    # module level), and this module object is dropped.

import argparse  # noqa: E402
import contextlib  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402
from collections.abc import Callable, Iterator, Sequence  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from datetime import date  # noqa: E402
from functools import partial  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CONFIG = ROOT / "deploy" / "gunicorn.conf.py"
LOGINS_AT_ONCE = 4
PASSWORD = "Benchmark-Nurse-Pass-42"
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
TOKEN_RE = re.compile(r'name="submission_token"[^>]*value="([^"]+)"')
UNIT_RE = re.compile(r'<option[^>]*value="(\d+)"')


# ----------------------------------------------------------------------------- HTTP client


class Client:
    """One user agent: a keep-alive connection (reopened when the server closes it) and a
    cookie jar. Every request is timed and recorded under a kind."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.timings: dict[str, list[float]] = {}
        self.record = True

    def request(self, kind: str, method: str, path: str,
                form: dict[str, str] | None = None) -> tuple[int, str, str]:
        headers = {"Connection": "keep-alive"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            start = time.perf_counter()
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                page = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                if attempt == 2:
                    raise
        elapsed = time.perf_counter() - start
        if self.record:
            self.timings.setdefault(kind, []).append(elapsed)
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers.get("Location", ""), page

    def expect(self, status: int, got: tuple[int, str, str], what: str) -> tuple[int, str, str]:
        if got[0] != status:
            raise RuntimeError(f"{what}: HTTP {got[0]}, expected {status}")
        return got

    def close(self) -> None:
        self.conn.close()


# ----------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path

    def worker_rss_mb(self) -> list[float]:
        """Resident memory of each worker (the master's children), in MB."""
        sizes = []
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        for pid in children.read_text().split():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def worker_cpu_s(self) -> float:
        """CPU time (user + system) the workers have used so far, in seconds."""
        total = 0
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        for pid in children.read_text().split():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def errors(self) -> int:
        return len(re.findall(r'" 5\d\d ', self.log.read_text()))


@contextlib.contextmanager
def gunicorn(name: str, target: str, env: dict[str, str], folder: Path) -> Iterator[Server]:
    port = free_port()
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("SCREENING_", "BENCH_", "GUNICORN_")) and k != "BIND"}
    clean.update(env, PORT=str(port))
    log = folder / f"{name}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(CONFIG), target],
            cwd=ROOT, env=clean, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} did not start:\n{log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not listen in time") from None
                time.sleep(0.2)
        # wait until every worker has booted
        workers = int(clean.get("WEB_CONCURRENCY") or 0)
        while workers and len(Server(name, port, proc, log).worker_rss_mb()) < workers:
            time.sleep(0.1)
        yield Server(name, port, proc, log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ----------------------------------------------------------------------------- set-up


@dataclass
class Nurse:
    username: str
    secret: str


def prepare(url: str, instance: Path, clients: int) -> list[Nurse]:
    import pyotp

    from screening import create_app, migrate
    from screening.crypto.keys import init_key_file
    from screening.services import accounts
    from screening.settings import Settings

    instance.mkdir(mode=0o700)
    init_key_file(instance / "keys.json")
    settings = Settings(env="test", instance_dir=instance, database_url=url)
    migrate.upgrade(settings)
    app = create_app(settings)  # production argon2 cost: logins cost what they cost
    db, keyring, hasher = (app.extensions[f"screening.{n}"] for n in ("db", "keys", "hasher"))
    try:
        accounts.ensure_unit(db, "bench-home", "Benchmark home care", "home_care")
        nurses = []
        for i in range(clients):
            secret = pyotp.random_base32()
            username = f"bench.nurse{i}"
            accounts.create_staff(db, keyring, hasher, username=username,
                                  display_name=f"Bench Nurse {i}", role="nurse",
                                  password=PASSWORD, unit_codes=("bench-home",),
                                  totp_secret_value=secret)
            nurses.append(Nurse(username, secret))
        return nurses
    finally:
        db.dispose()


# ----------------------------------------------------------------------------- workloads


def audit_answers(rng: random.Random) -> dict[str, str]:
    first = rng.randint(1, 4)
    values = [first, rng.randint(0, 4), rng.randint(1, 4)]
    values += [rng.randint(0, 4) for _ in range(5)] + [rng.randint(0, 2) for _ in range(2)]
    return {f"q{i + 1}": str(v) for i, v in enumerate(values)}


class AppUser:
    """A nurse: logs in, registers a patient, then screens that patient again and again."""

    def __init__(self, port: int, nurse: Nurse, seed: int) -> None:
        self.client = Client(port)
        self.nurse = nurse
        self.rng = random.Random(seed)
        self.patient = ""

    def start(self) -> None:
        import pyotp

        from tests.app.fnr import random_fnr

        c = self.client
        page = c.expect(200, c.request("login_form", "GET", "/login"), "login form")[2]
        c.expect(302, c.request("login", "POST", "/login", {
            "csrf_token": CSRF_RE.search(page).group(1),  # type: ignore[union-attr]
            "username": self.nurse.username, "password": PASSWORD,
            "code": pyotp.TOTP(self.nurse.secret).now(), "next": "/"}), "login")
        page = c.expect(200, c.request("register_form", "GET", "/patients/new"), "register")[2]
        fnr = random_fnr(self.rng, born_from=date(1940, 1, 1), born_to=date(1958, 12, 31))
        _, location, _ = c.expect(303, c.request("register", "POST", "/patients/new", {
            "csrf_token": CSRF_RE.search(page).group(1),  # type: ignore[union-attr]
            "fnr": fnr, "name": "Benk Prøvesen",
            "unit": UNIT_RE.search(page).group(1)}), "register")  # type: ignore[union-attr]
        self.patient = urllib.parse.urlsplit(location).path.rsplit("/", 1)[1]

    def step(self) -> None:
        c = self.client
        path = f"/patients/{self.patient}/screen/audit"
        page = c.expect(200, c.request("form", "GET", path), "AUDIT form")[2]
        form = {"csrf_token": CSRF_RE.search(page).group(1),  # type: ignore[union-attr]
                "submission_token": TOKEN_RE.search(page).group(1),  # type: ignore[union-attr]
                "setting": "home_care", "action": "submit", **audit_answers(self.rng)}
        _, location, _ = c.expect(303, c.request("submit", "POST", path, form), "submit")
        c.expect(200, c.request("result", "GET", urllib.parse.urlsplit(location).path), "result")


class BareUser:
    def __init__(self, port: int, seed: int) -> None:
        self.client = Client(port)
        self.rng = random.Random(seed)

    def start(self) -> None:
        pass

    def step(self) -> None:
        value = f"{self.rng.getrandbits(64):016x}"
        self.client.expect(200, self.client.request("write", "POST", "/rows", {"value": value}),
                           "bare write")


class FloorUser:
    """A nurse already logged in (an AppUser's cookies, with its patient) who opens the
    patient on the floor server (``benchmarks/floor_app.py``) again and again."""

    def __init__(self, port: int, user: AppUser) -> None:
        self.client = Client(port)
        self.client.cookies = dict(user.client.cookies)
        self.path = f"/floor/patients/{user.patient}"

    def start(self) -> None:
        pass

    def step(self) -> None:
        self.client.expect(200, self.client.request("floor", "GET", self.path), "floor")


@dataclass
class Round:
    seconds: float
    requests: int
    timings: dict[str, list[float]] = field(default_factory=dict)
    worker_cpu_s: float = 0.0  # the server's workers, during the measured steps
    database_cpu_s: float = 0.0  # PostgreSQL's processes, during the measured steps

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def latencies(self, kinds: tuple[str, ...]) -> list[float]:
        return sorted(t for k in kinds for t in self.timings.get(k, []))


def run_round(users: Sequence[AppUser | BareUser | FloorUser], steps: int, warmup: int,
              kinds: tuple[str, ...], server: Server) -> Round:
    """Every user does ``warmup`` unmeasured steps, then all start together and do
    ``steps`` measured steps; the round lasts until the last user is done."""
    barrier = threading.Barrier(len(users) + 1)
    done: list[float] = []
    failures: list[BaseException] = []

    def run(user: AppUser | BareUser | FloorUser) -> None:
        try:
            user.client.record = False
            for _ in range(warmup):
                user.step()
            user.client.timings = {}
            user.client.record = True
        except BaseException as err:  # noqa: BLE001
            failures.append(err)
        barrier.wait()
        try:
            if not failures:
                for _ in range(steps):
                    user.step()
        except BaseException as err:  # noqa: BLE001
            failures.append(err)
        done.append(time.perf_counter())

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    barrier.wait()
    start, cpu, db_cpu = time.perf_counter(), server.worker_cpu_s(), database_cpu_s()
    for t in threads:
        t.join()
    cpu, db_cpu = server.worker_cpu_s() - cpu, database_cpu_s() - db_cpu
    if failures:
        raise RuntimeError(f"a client failed: {failures[0]}") from failures[0]
    timings: dict[str, list[float]] = {}
    for user in users:
        for kind, values in user.client.timings.items():
            timings.setdefault(kind, []).extend(values)
    requests = sum(len(timings.get(k, [])) for k in kinds)
    return Round(max(done) - start, requests, timings, cpu, db_cpu)


def database_cpu_s() -> float:
    """CPU time (user + system) used so far by the processes named ``postgres`` (the
    throwaway cluster's server and its backends: the only ones while the benchmark runs),
    in seconds; 0 with SQLite, which runs inside the workers."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            text = stat.read_text()
            if text[text.index("(") + 1:text.rindex(")")] == "postgres":
                fields = text.rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of sorted ``values``, in milliseconds (nearest rank)."""
    if not values:
        return float("nan")
    index = min(len(values) - 1, max(0, round(q * len(values) + 0.5) - 1))
    return values[index] * 1000


def parallel(calls: list[Callable[[], None]]) -> None:
    failures: list[BaseException] = []

    def run(call: Callable[[], None]) -> None:
        try:
            call()
        except BaseException as err:  # noqa: BLE001
            failures.append(err)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError(f"set-up failed: {failures[0]}") from failures[0]


# ----------------------------------------------------------------------------- one database


APP_KINDS = ("form", "submit", "result")


def bench_database(label: str, url: str, folder: Path,
                   args: argparse.Namespace) -> dict[str, float]:
    instance = folder / f"{label}-instance"
    nurses = prepare(url, instance, args.clients)
    common = {"WEB_CONCURRENCY": str(args.workers)} if args.workers else {}
    app_env = {**common, "SCREENING_ENV": "production", "SCREENING_INSTANCE_DIR": str(instance),
               "SCREENING_DATABASE_URL": url}
    if label == "sqlite":
        app_env["SCREENING_ALLOW_SQLITE_IN_PRODUCTION"] = "1"
    bare_env = {**common, "BENCH_DATABASE_URL": url}
    with gunicorn(f"{label}-app", "wsgi:app", app_env, folder) as ours, \
            gunicorn(f"{label}-bare", "benchmarks.bare_app:app", bare_env, folder) as bare, \
            gunicorn(f"{label}-floor", "benchmarks.floor_app:app", app_env, folder) as floor:
        app_users = [AppUser(ours.port, nurse, seed=i) for i, nurse in enumerate(nurses)]
        # At most LOGINS_AT_ONCE logins at a time: a login holds the write transaction while
        # argon2id runs (SQLite: the database's write lock), so a burst of them queues.
        gate = threading.Semaphore(LOGINS_AT_ONCE)

        def start(user: AppUser) -> None:
            with gate:
                user.start()

        parallel([partial(start, u) for u in app_users])
        logins = sorted(t for u in app_users for t in u.client.timings.get("login", []))
        bare_users = [BareUser(bare.port, seed=i) for i in range(args.clients)]
        floor_users = [FloorUser(floor.port, u) for u in app_users]
        app_rounds, bare_rounds, floor_rounds = [], [], []
        for _ in range(args.rounds):
            bare_rounds.append(run_round(bare_users, 3 * args.iterations, 6, ("write",), bare))
            floor_rounds.append(run_round(floor_users, 3 * args.iterations, 6, ("floor",),
                                          floor))
            app_rounds.append(run_round(app_users, args.iterations, 2, APP_KINDS, ours))
        everyone: list[AppUser | BareUser | FloorUser] = [*app_users, *bare_users,
                                                          *floor_users]
        for user in everyone:
            user.client.close()
        time.sleep(0.5)
        app_rss, bare_rss = ours.worker_rss_mb(), bare.worker_rss_mb()
        errors = ours.errors() + bare.errors() + floor.errors()
        workers = len(app_rss)
    if errors:
        raise RuntimeError(f"{label}: {errors} server error(s); see the logs in {folder}")
    best_app = max(app_rounds, key=lambda r: r.rps)
    best_bare = max(bare_rounds, key=lambda r: r.rps)
    best_floor = max(floor_rounds, key=lambda r: r.rps)
    app_lat = best_app.latencies(APP_KINDS)
    bare_lat = best_bare.latencies(("write",))
    floor_lat = best_floor.latencies(("floor",))
    screenings_per_s = best_app.rps / 3
    print(f"\n== {label}: {args.clients} clients, {workers} gunicorn workers, "
          f"{args.iterations} screenings per client per round, best of {args.rounds} rounds; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"{'':28}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'n':>7}")
    print(f"{'bare one-row write':28}{best_bare.rps:9.1f}{pct(bare_lat, .5):9.1f}"
          f"{pct(bare_lat, .95):9.1f}{len(bare_lat):7d}")
    print(f"{'floor: open + log a patient':28}{best_floor.rps:9.1f}{pct(floor_lat, .5):9.1f}"
          f"{pct(floor_lat, .95):9.1f}{len(floor_lat):7d}")
    print(f"{'app submission path':28}{best_app.rps:9.1f}{pct(app_lat, .5):9.1f}"
          f"{pct(app_lat, .95):9.1f}{len(app_lat):7d}")
    for kind, name in (("form", "  GET AUDIT form"), ("submit", "  POST answers (303)"),
                       ("result", "  GET result page")):
        values = sorted(best_app.timings.get(kind, []))
        print(f"{name:28}{'':9}{pct(values, .5):9.1f}{pct(values, .95):9.1f}{len(values):7d}")
    print(f"{'login (argon2id + TOTP)':28}{'':9}{pct(logins, .5):9.1f}{pct(logins, .95):9.1f}"
          f"{len(logins):7d}")
    print(f"rounds req/s: app {', '.join(f'{r.rps:.1f}' for r in app_rounds)}; "
          f"bare {', '.join(f'{r.rps:.1f}' for r in bare_rounds)}; "
          f"floor {', '.join(f'{r.rps:.1f}' for r in floor_rounds)}")
    print(f"screenings per second: {screenings_per_s:.1f}; ratio bare req/s / app req/s: "
          f"{best_bare.rps / best_app.rps:.2f} (per screening: "
          f"{best_bare.rps / screenings_per_s:.2f})")
    print(f"ratio bare req/s / floor req/s: {best_bare.rps / best_floor.rps:.2f} (what every "
          f"patient page must do); floor / app: {best_floor.rps / best_app.rps:.2f} "
          f"(what the pages add)")
    app_cpu, bare_cpu, floor_cpu = (
        sum(r.worker_cpu_s for r in rounds) / sum(r.requests for r in rounds) * 1000
        for rounds in (app_rounds, bare_rounds, floor_rounds))
    print(f"worker CPU per request (all rounds): app {app_cpu:.2f} ms, bare {bare_cpu:.2f} ms "
          f"(ratio {app_cpu / bare_cpu:.2f}), floor {floor_cpu:.2f} ms; the clients and the "
          f"database server not counted")
    if label == "postgres":
        app_db, bare_db, floor_db = (sum(r.database_cpu_s for r in rounds)
                                     / sum(r.requests for r in rounds) * 1000
                                     for rounds in (app_rounds, bare_rounds, floor_rounds))
        print(f"database server CPU per request (all rounds): app {app_db:.2f} ms, "
              f"bare {bare_db:.2f} ms, floor {floor_db:.2f} ms")
    print(f"worker RSS MB: app {', '.join(f'{m:.0f}' for m in app_rss)}; "
          f"bare {', '.join(f'{m:.0f}' for m in bare_rss)}")
    return {"ratio": best_bare.rps / best_app.rps, "p95": pct(app_lat, .95),
            "rss": max(app_rss)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=12, help="concurrent clients (12)")
    parser.add_argument("--iterations", type=int, default=20,
                        help="screenings per client per round (20)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per side (3)")
    parser.add_argument("--workers", type=int, default=0,
                        help="gunicorn workers (default: deploy/gunicorn.conf.py's)")
    parser.add_argument("--only", choices=("sqlite", "postgres"), default=None)
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary folder (server logs, databases)")
    args = parser.parse_args()
    results: dict[str, dict[str, float]] = {}
    with contextlib.ExitStack() as stack:
        folder = Path(tempfile.mkdtemp(prefix="screening-http-bench-"))
        if args.keep:
            print(f"logs and databases kept in {folder}")
        else:
            stack.callback(shutil.rmtree, folder, ignore_errors=True)
        if args.only in (None, "sqlite"):
            results["sqlite"] = bench_database(
                "sqlite", f"sqlite:///{folder / 'screening.sqlite3'}", folder, args)
        if args.only in (None, "postgres"):
            from tests.pg_cluster import cluster

            with cluster() as url:
                results["postgres"] = bench_database("postgres", url, folder, args)
    summary: dict[str, object] = {"bench": "http"}
    for label in ("sqlite", "postgres"):
        if label in results:
            summary[f"{label}_ratio_vs_bare"] = round(results[label]["ratio"], 2)
    for label in ("sqlite", "postgres"):
        if label in results:
            summary[f"{label}_p95_ms"] = round(results[label]["p95"], 1)
    summary["worker_rss_mb"] = round(max(r["rss"] for r in results.values()), 1)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    # Keep this folder off the import path, so that the standard library's ``http`` package
    # (used by http.client, werkzeug, gunicorn) is the one imported, and add the checkout.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
