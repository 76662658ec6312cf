"""Gunicorn configuration for the screening app (``make serve``; docs/operations.md).

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Read from the environment (not ``SCREENING_*``: the app refuses unknown variables of its own
prefix):

- ``BIND`` (default ``127.0.0.1:$PORT``, ``PORT`` default 8000): where to listen. Keep the app
  on 127.0.0.1 behind a TLS reverse proxy; never expose it directly.
- ``WEB_CONCURRENCY``: worker processes. By default one per core this process may run on
  (at least 2) when the database is on this host (SQLite, or PostgreSQL on a loopback
  address or a local socket), and 2 × cores + 1 when PostgreSQL is elsewhere; at most 8.
  A page costs a few milliseconds of CPU and, with a local database, waits little, so more
  workers than cores only take turns on the cores: on two cores, 5 workers served 20–30 %
  fewer requests per second than 2 (``benchmarks/README.md``). With PostgreSQL on another
  host a worker waits for the network on every statement, and another can use the core
  meanwhile. Measure with ``benchmarks/http.py --workers N``.
- ``GUNICORN_THREADS`` (default 1): threads per worker (more than 1 selects gthread workers).
- ``FORWARDED_ALLOW_IPS`` (default ``127.0.0.1,::1``): addresses whose ``X-Forwarded-Proto``
  is believed. The client address comes from werkzeug's ProxyFix, switched on by
  ``SCREENING_TRUSTED_PROXIES=1``.

``preload_app`` loads ``wsgi`` in the master before any port is bound: a start-up problem
(bad settings, a missing or group-readable key file, an unreachable database) ends the master
with the app's one-line message and a non-zero status, and nothing ever listens.

The access log leaves out the request line, path, query and referrer (``%(r)s``, ``%(U)s``,
``%(q)s``, ``%(f)s``): URLs carry patient uuids. It keeps time, client, method, status, size
and duration.
"""

from __future__ import annotations

import os


def _int(name: str, default: int, low: int, high: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw, 10)
    except ValueError:
        raise SystemExit(f"gunicorn.conf.py: {name} must be a whole number") from None
    if not low <= value <= high:
        raise SystemExit(f"gunicorn.conf.py: {name} must be between {low} and {high}")
    return value


_port = _int("PORT", 8000, 1, 65535)
bind = [os.environ.get("BIND", "").strip() or f"127.0.0.1:{_port}"]


def _cores() -> int:
    """The cores this process may run on (its CPU affinity, e.g. under a container's or
    systemd's ``CPUAffinity``), not every core of the host."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _database_is_local(url: str) -> bool:
    """SQLite (the default when no URL is set), or PostgreSQL on a loopback address or a
    Unix socket (no host, or a ``host=`` query parameter naming a folder). Any other host,
    or a URL that cannot be read, counts as remote: the app itself refuses a bad URL at
    start with a clear message."""
    if not url or url.startswith("sqlite:"):
        return True
    from urllib.parse import parse_qs, urlsplit

    try:
        parts = urlsplit(url)
        hosts = [parts.hostname or ""] + parse_qs(parts.query).get("host", [])
    except ValueError:
        return False
    return all(not host or host.startswith("/") or host in ("localhost", "::1")
               or host.startswith("127.") for host in hosts)


def _default_workers() -> int:
    cores = _cores()
    local = _database_is_local(os.environ.get("SCREENING_DATABASE_URL", "").strip())
    return min(max(cores, 2) if local else 2 * cores + 1, 8)


workers = _int("WEB_CONCURRENCY", _default_workers(), 1, 64)
threads = _int("GUNICORN_THREADS", 1, 1, 64)
# Start-up errors stop the master before it binds (see the module docstring).
preload_app = True
# Recycle workers now and then so that a slow leak can never grow without bound.
max_requests = 5000
max_requests_jitter = 500
timeout = 30
graceful_timeout = 30
keepalive = 5
# Heartbeat files in memory, not on a possibly slow disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
proc_name = "screening"
# No control socket: several servers may run as one user on one host (docs/operations.md).
control_socket_disable = True

# Only the TLS proxy on this host may say that a request came in over https.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Logs to standard error and output (journald under systemd). No URL, query or referrer.
accesslog = "-"
errorlog = "-"
loglevel = "info"
access_log_format = '%(t)s %(h)s "%(m)s" %(s)s %(b)s %(L)ss %(p)s'


def post_fork(server, worker):
    """A worker must not share a database connection with the master or its siblings.
    The app opens none at start (PostgreSQL's start-up check disposes of its pool), so this
    only makes sure: the inherited pool is dropped without closing the master's sockets."""
    app = getattr(server.app, "callable", None)
    database = getattr(app, "extensions", {}).get("screening.db") if app is not None else None
    if database is not None:
        database.engine.dispose(close=False)
