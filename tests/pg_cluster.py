"""A throwaway PostgreSQL cluster: ``initdb`` in a temporary folder, started on a free port
on 127.0.0.1, always stopped and removed afterwards (also on failure or Ctrl-C).

    python tests/pg_cluster.py -- <command ...>

runs the command with ``SCREENING_TEST_DATABASE_URL`` pointing at the cluster and exits with
its status. Benchmarks use :func:`cluster` directly.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

USER = "postgres"


def _bindir() -> str:
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, check=True)
        candidate = out.stdout.strip()
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    except (OSError, subprocess.CalledProcessError):
        pass
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise SystemExit("PostgreSQL server binaries (initdb) not found; install postgresql")
    return os.path.dirname(found[-1])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres() -> dict[str, object]:
    if os.geteuid() != 0:
        return {}
    entry = pwd.getpwnam(USER)

    def demote() -> None:
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)

    return {"preexec_fn": demote}


@contextlib.contextmanager
def cluster() -> Iterator[str]:
    """Yield a SQLAlchemy URL of a database ``screening`` in a fresh cluster."""
    bindir = _bindir()
    folder = tempfile.mkdtemp(prefix="screening-pg-")
    data = os.path.join(folder, "data")
    os.chmod(folder, 0o755)
    if os.geteuid() == 0:
        entry = pwd.getpwnam(USER)
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    port = _free_port()
    demote = _as_postgres()
    started = False
    try:
        subprocess.run(
            [
                os.path.join(bindir, "initdb"),
                "-D",
                data,
                "-U",
                USER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            **demote,
        )  # type: ignore[arg-type]
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={folder}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=200"
        )
        subprocess.run(
            [
                os.path.join(bindir, "pg_ctl"),
                "-D",
                data,
                "-l",
                os.path.join(folder, "log"),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            **demote,
        )  # type: ignore[arg-type]
        started = True
        subprocess.run(
            [
                os.path.join(bindir, "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                USER,
                "screening",
            ],
            check=True,
            **demote,
        )  # type: ignore[arg-type]
        yield f"postgresql+psycopg://{USER}@127.0.0.1:{port}/screening"
    finally:
        if started:
            subprocess.run(
                [os.path.join(bindir, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                **demote,
            )  # type: ignore[arg-type]
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str]) -> int:
    if "--" not in argv:
        print("usage: pg_cluster.py -- command ...", file=sys.stderr)
        return 2
    command = argv[argv.index("--") + 1 :]
    with cluster() as url:
        print(f"PostgreSQL test cluster at {url}", flush=True)
        env = dict(os.environ, SCREENING_TEST_DATABASE_URL=url)
        proc = subprocess.Popen(command, env=env)
        try:
            return proc.wait()
        except KeyboardInterrupt:
            proc.send_signal(signal.SIGINT)
            return proc.wait()
        finally:
            time.sleep(0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
