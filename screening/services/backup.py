"""Backup and restore of the whole database (``flask backup`` / ``flask restore``).

* **SQLite**: the backup is taken with SQLite's online backup API (``Connection.backup``), a
  consistent snapshot while the app keeps serving (WAL: readers do not block writers). It
  is written to a temporary file beside the target, checked (``PRAGMA quick_check``), made
  self-contained (journal mode DELETE, no ``-wal`` file), flushed to disk and only then
  renamed to the target: an interrupted backup never leaves a half file under that name.
  A restore checks the file first (a SQLite database with this app's schema, integrity
  check passing), copies it to a temporary file beside the database and then copies that
  into the configured database with the same backup API, in one write transaction. Other
  connections see the old or the new content, never a mixture, and no stale ``-wal`` file
  can be paired with a new main file (which renaming a file over a database in use could
  do). Stop the app first all the same: sessions and forms in flight refer to the old data.
* **PostgreSQL**: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists
  --single-transaction`` (all or nothing), run from the PostgreSQL binaries
  (``pg_config --bindir``, else the newest ``/usr/lib/postgresql/*/bin``). The URL's
  credentials go to the child process through ``PG*`` environment variables, never on its
  command line (where ``ps`` and logs would show them).

A backup holds only sealed identifying data: it is useless without the key file, and the
key file is not in it. Keep the two apart, and both.

Restoring a backup brings back the database as it was then: a patient erased after the
backup was taken is back after the restore. Erasures made since the backup must be applied
again (the operations guide says how); :func:`restore` reports how many patients the
restored copy holds.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, create_engine, func, inspect, select
from sqlalchemy.engine import URL, make_url

from ..crypto.fields import OpenError, wrapped_key_id
from ..crypto.keys import KeyRing
from ..models import Assessment, Base, Patient
from ..settings import Settings

SQLITE_HEADER = b"SQLite format 3\x00"
PG_ENV = {  # URL query parameters passed on to libpq as environment variables
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
}
PG_TIMEOUT_S = 6 * 3600


class BackupError(Exception):
    """A backup or restore that cannot be done; the message is one line for the operator
    and never contains a password."""


@dataclass(frozen=True)
class BackupDone:
    path: Path
    size: int
    kind: str  # "sqlite" | "postgresql"


@dataclass(frozen=True)
class Restored:
    kind: str
    patients: int
    assessments: int
    schema_current: bool  # the restored schema is at the app's migration head
    unknown_kek_patients: int  # patients whose data key needs a KEK not in the key file


# --------------------------------------------------------------------------- backup


def backup(settings: Settings, target: Path, *, overwrite: bool = False) -> BackupDone:
    """Write a backup of the configured database to ``target`` (mode 0600)."""
    target = Path(target).expanduser().absolute()
    if target.is_dir():
        raise BackupError(f"{target} is a folder; give the name of the backup file")
    if not target.parent.is_dir():
        raise BackupError(f"folder {target.parent} does not exist")
    if target.exists() and not overwrite:
        raise BackupError(f"{target} exists already; choose another name or add --force")
    url = make_url(settings.resolved_database_url)
    with _temporary_beside(target, ".backup-") as temp:
        if settings.is_sqlite:
            _sqlite_backup(_sqlite_path(url), temp)
            kind = "sqlite"
        else:
            _pg_run("pg_dump", url, ["--format=custom", "--no-password", f"--file={temp}"])
            kind = "postgresql"
        os.chmod(temp, 0o600)
        _fsync(temp)
        os.replace(temp, target)
    _fsync_dir(target.parent)
    return BackupDone(target, target.stat().st_size, kind)


def _sqlite_path(url: URL) -> Path:
    return Path(url.database or "").expanduser().absolute()


def _sqlite_backup(source: Path, temp: Path) -> None:
    if not source.is_file():
        raise BackupError(f"the database file {source} does not exist")
    try:
        with closing(_connect_existing(source)) as src, closing(sqlite3.connect(temp)) as dst:
            src.execute(f"PRAGMA busy_timeout={30_000}")
            src.backup(dst)  # one step: a consistent snapshot (WAL readers do not block)
            dst.execute("PRAGMA journal_mode=DELETE")
            verdict = dst.execute("PRAGMA quick_check").fetchone()[0]
    except sqlite3.Error as err:
        raise BackupError(f"SQLite backup failed: {_sqlite_reason(err)}") from None
    if verdict != "ok":
        raise BackupError("the copy failed its integrity check; the database may be damaged "
                          "(run PRAGMA integrity_check on it)")


# --------------------------------------------------------------------------- restore


def restore(settings: Settings, keyring: KeyRing, source: Path, *,
            replace_data: bool) -> Restored:
    """Replace the configured database with the backup ``source``. Refuses when the
    database has data and ``replace_data`` is false."""
    source = Path(source).expanduser().absolute()
    if not source.is_file():
        raise BackupError(f"backup file {source} does not exist")
    url = make_url(settings.resolved_database_url)
    if settings.is_sqlite:
        path = _sqlite_path(url)
        _check_sqlite_backup(source)
        if not replace_data and path.exists() and _has_data(url):
            raise _has_data_error()
        _sqlite_restore(source, path)
        kind = "sqlite"
    else:
        with open(source, "rb") as handle:
            if handle.read(5) != b"PGDMP":
                raise BackupError(f"{source} is not a PostgreSQL custom-format backup "
                                  "(made by flask backup or pg_dump -Fc)")
        if not replace_data and _has_data(url):
            raise _has_data_error()
        _pg_run("pg_restore", url, ["--clean", "--if-exists", "--single-transaction",
                                    "--no-owner", "--no-password", "--exit-on-error",
                                    f"--dbname={url.database}", str(source)])
        kind = "postgresql"
    return _summary(settings, url, keyring, kind)


def _has_data_error() -> BackupError:
    return BackupError("the database has data; add --yes to replace it with the backup")


def _check_sqlite_backup(source: Path) -> None:
    with open(source, "rb") as handle:
        if handle.read(16) != SQLITE_HEADER:
            raise BackupError(f"{source} is not a SQLite backup")
    try:
        with closing(_connect_existing(source, read_only=True)) as conn:
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if not {"alembic_version", Patient.__tablename__} <= tables:
                raise BackupError(f"{source} is not a backup of this app's database")
            verdict = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.Error as err:
        raise BackupError(f"cannot read {source}: {_sqlite_reason(err)}") from None
    if verdict != "ok":
        raise BackupError(f"{source} fails its integrity check; nothing was restored")


def _sqlite_restore(source: Path, path: Path) -> None:
    if not path.parent.is_dir():
        raise BackupError(f"folder {path.parent} does not exist")
    with _temporary_beside(path, ".restore-") as temp:
        try:
            with closing(_connect_existing(source, read_only=True)) as src, \
                    closing(sqlite3.connect(temp)) as staged:
                src.backup(staged)
            with closing(sqlite3.connect(temp)) as staged, \
                    closing(sqlite3.connect(path, timeout=30)) as live:
                staged.backup(live)  # one write transaction on the live database
                live.execute("PRAGMA journal_mode=WAL")
                live.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error as err:
            raise BackupError(f"SQLite restore failed, the database is unchanged: "
                              f"{_sqlite_reason(err)}") from None
    if os.stat(path).st_mode & 0o077:
        os.chmod(path, 0o600)


def _has_data(url: URL) -> bool:
    """Does any of the app's tables hold a row? (``alembic_version`` does not count.)"""
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            existing = set(inspect(conn).get_table_names())
            for table in Base.metadata.sorted_tables:
                if table.name in existing and conn.execute(
                        select(table.c[next(iter(table.c.keys()))]).limit(1)).first():
                    return True
        return False
    except Exception as err:  # noqa: BLE001 - any driver error: one line, no URL password
        raise BackupError(f"cannot read the database: {type(getattr(err, 'orig', err)).__name__}"
                          ) from None
    finally:
        engine.dispose()


def _summary(settings: Settings, url: URL, keyring: KeyRing, kind: str) -> Restored:
    from alembic.script import ScriptDirectory

    from ..migrate import alembic_config

    engine = _engine(url)
    try:
        with engine.connect() as conn:
            patients = conn.scalar(select(func.count()).select_from(Patient)) or 0
            assessments = conn.scalar(select(func.count()).select_from(Assessment)) or 0
            unknown = 0
            for (wrapped,) in conn.execute(select(Patient.data_key_wrapped)):
                try:
                    if wrapped_key_id(wrapped) not in keyring.keks:
                        unknown += 1
                except OpenError:
                    unknown += 1
            revision = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
    except Exception as err:  # noqa: BLE001
        raise BackupError("restored, but the restored database cannot be read: "
                          f"{type(getattr(err, 'orig', err)).__name__}") from None
    finally:
        engine.dispose()
    head = ScriptDirectory.from_config(alembic_config(settings)).get_current_head()
    return Restored(kind, int(patients), int(assessments), revision == head, unknown)


def _engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        return create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})
    return create_engine(url, connect_args={"connect_timeout": 5}, pool_pre_ping=False)


# --------------------------------------------------------------------------- PostgreSQL


def pg_bindir() -> Path:
    """The folder of the PostgreSQL client programs (pg_dump, pg_restore)."""
    candidates: list[str] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            found = subprocess.run([pg_config, "--bindir"], capture_output=True,  # noqa: S603
                                   text=True, check=True, timeout=30).stdout.strip()
            candidates.append(found)
        except (OSError, subprocess.SubprocessError):
            pass
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                         key=lambda p: [int(x) for x in Path(p).parent.name.split(".")
                                        if x.isdigit()], reverse=True)
    for folder in candidates:
        if folder and os.access(os.path.join(folder, "pg_dump"), os.X_OK):
            return Path(folder)
    raise BackupError("pg_dump not found: install the PostgreSQL client programs")


def pg_environment(url: URL) -> dict[str, str]:
    """The environment for a PostgreSQL client program: connection from ``url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for name, part in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if part is not None and part != "":
            env[name] = str(part)
    for key, given in url.query.items():
        if key in PG_ENV:
            env[PG_ENV[key]] = given if isinstance(given, str) else given[-1]
    return env


def _pg_run(program: str, url: URL, arguments: list[str]) -> None:
    executable = pg_bindir() / program
    try:
        done = subprocess.run([str(executable), *arguments],  # noqa: S603 - our own argv
                              env=pg_environment(url),
                              capture_output=True, text=True, timeout=PG_TIMEOUT_S)
    except (OSError, subprocess.SubprocessError) as err:
        raise BackupError(f"{program} could not run: {type(err).__name__}") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.splitlines() if line.strip()]
        reason = lines[0] if lines else f"exit status {done.returncode}"
        password = url.password
        if password:
            reason = reason.replace(str(password), "***")
        raise BackupError(f"{program} failed: {reason}")


# --------------------------------------------------------------------------- files


def _connect_existing(path: Path, read_only: bool = False) -> sqlite3.Connection:
    mode = "ro" if read_only else "rw"
    return sqlite3.connect(f"{path.as_uri()}?mode={mode}", uri=True, timeout=30)


def _sqlite_reason(err: sqlite3.Error) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


@contextmanager
def _temporary_beside(target: Path, prefix: str) -> Iterator[Path]:
    """A fresh temporary file name in the target's folder (same file system, so the final
    rename is atomic); removed afterwards if still there."""
    fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=target.parent)
    os.close(fd)
    os.unlink(name)  # sqlite3 and pg_dump create the file themselves
    temp = Path(name)
    try:
        yield temp
    finally:
        for leftover in (temp, Path(f"{temp}-journal"), Path(f"{temp}-wal"),
                         Path(f"{temp}-shm")):
            if leftover.exists():
                leftover.unlink()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["BackupDone", "BackupError", "Restored", "backup", "pg_bindir", "pg_environment",
           "restore"]
