"""Engine and sessions.

SQLite (the embedded default) runs with WAL, a busy timeout and foreign keys on; write
transactions begin IMMEDIATE so that a read-then-write transaction cannot fail half-way
under concurrency, and queue for a file lock first (:mod:`screening.write_gate`).
PostgreSQL is used through psycopg 3.

Views read through :func:`read_session` (one per request); services change data inside
``with database.write() as session:``, one transaction per use case.

Three things keep the cost per request down without changing what is stored:

- SQLite checkpoints on a timer, not on commit. Its default checkpoints the write-ahead
  log from inside a commit once the log holds 1,000 pages; while a reader is open (nearly
  always, under load: a page reads, then logs the read) the log cannot start over, so every
  commit after that checkpoints, with two fsyncs. Here a commit never checkpoints; the
  first write at least ``checkpoint_seconds`` after the last checkpoint runs a PASSIVE one
  (it waits for no one) after its commit and after the write gate is released.
- PostgreSQL connections are pinged when taken from the pool only when they have lain
  unused for ``ping_after_idle_seconds``, instead of on every check-out: a busy server does
  not pay a round trip per check-out, and a connection left over from before a database
  restart (which waits in the pool, idle) is still found and replaced before it is used.
- A read session ends with COMMIT, not ROLLBACK (:class:`ReadSession`), so that psycopg
  keeps the statements it has prepared.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, exc, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from .settings import Settings
from .write_gate import gate_for, no_gate

WRITE_OPTION = "screening_write"
_LAST_USED = "screening_last_used"
log = logging.getLogger(__name__)


class ReadSession(Session):
    """A session for reading. Closing it ends its transaction with COMMIT, not ROLLBACK,
    when it holds no change (it should hold none): the two cost the same, but psycopg
    forgets every statement it has prepared on the connection at a ROLLBACK, so that
    PostgreSQL would parse and plan each of a page's queries again, every time. A
    session holding changes is rolled back, as before: a read never writes."""

    def close(self) -> None:
        if self.in_transaction() and not (self.new or self.dirty or self.deleted):
            try:
                self.commit()
            except exc.SQLAlchemyError:
                pass  # the connection is gone or the transaction failed: close() rolls back
        super().close()


class Database:
    """One engine, a read session factory and a write session factory."""

    def __init__(self, settings: Settings) -> None:
        url = make_url(settings.resolved_database_url)
        self.is_sqlite = url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"future": True}
        if self.is_sqlite:
            kwargs["connect_args"] = {
                "timeout": settings.sqlite_busy_timeout_ms / 1000,
                "check_same_thread": False,
            }
        else:
            kwargs.update(
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_pool_size,
                pool_timeout=5,
                connect_args={"connect_timeout": 5},
            )
        self.checkpoint_seconds = 1.0  # SQLite
        self.ping_after_idle_seconds = 1.0  # PostgreSQL
        self._last_checkpoint = float("-inf")
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, settings.sqlite_busy_timeout_ms)
        else:
            self._ping_idle_connections()
        self._write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        # One read statement (the session lookup on every page): on PostgreSQL without
        # BEGIN and ROLLBACK, two round trips fewer; on SQLite they cost next to nothing.
        self.single_read_engine: Engine = (
            self.engine if self.is_sqlite
            else self.engine.execution_options(isolation_level="AUTOCOMMIT"))
        database = url.database or ""
        self._gate = (gate_for(Path(database + "-writer")).held
                      if self.is_sqlite and database not in ("", ":memory:") else no_gate)
        self._reader = sessionmaker(self.engine, class_=ReadSession, expire_on_commit=False)
        self._writer = sessionmaker(self._write_engine, expire_on_commit=False)

    def read_session(self) -> Session:
        return self._reader()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: committed on success, rolled back on any error, except
        an error marked ``commit_anyway`` (a refused access, an unreadable field): what was
        written before it (the access-log row that records it) is committed, then it is
        raised on."""
        with self._gate(), self._writer() as session:
            transaction = session.begin()
            try:
                yield session
            except BaseException as err:
                if getattr(err, "commit_anyway", False) and transaction.is_active:
                    transaction.commit()
                else:
                    transaction.rollback()
                raise
            else:
                transaction.commit()
        self._checkpoint_if_due()

    @contextmanager
    def write_statements(self) -> Iterator[Connection]:
        """A write transaction for plain statements only (no ORM objects), on a connection
        without an ORM session around it: what a page that only appends to the access log
        needs, at less cost per request. Committed on success, rolled back on any error
        (there is no ``commit_anyway`` here)."""
        with self._gate(), self._write_engine.begin() as conn:
            yield conn
        self._checkpoint_if_due()

    def checkpoint(self) -> tuple[int, int, int] | None:
        """A PASSIVE checkpoint of SQLite's write-ahead log: (busy, frames in the log,
        frames checkpointed), or None on PostgreSQL or when SQLite refused."""
        if not self.is_sqlite:
            return None
        self._last_checkpoint = time.monotonic()
        raw = self.engine.raw_connection()
        try:
            driver: Any = raw.driver_connection
            row = driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error as err:
            log.warning("checkpoint not run: %s", type(err).__name__)
            return None
        finally:
            raw.close()
        return (int(row[0]), int(row[1]), int(row[2])) if row else None

    def _checkpoint_if_due(self) -> None:
        if self.is_sqlite and time.monotonic() - self._last_checkpoint >= self.checkpoint_seconds:
            self.checkpoint()

    def _ping_idle_connections(self) -> None:
        dialect = self.engine.dialect

        @event.listens_for(self.engine, "connect")
        def _fresh(_dbapi_connection: Any, record: Any) -> None:
            record.info[_LAST_USED] = time.monotonic()

        @event.listens_for(self.engine, "checkin")
        def _used(_dbapi_connection: Any, record: Any) -> None:
            if record is not None:
                record.info[_LAST_USED] = time.monotonic()

        @event.listens_for(self.engine, "checkout")
        def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
            last = record.info.get(_LAST_USED)
            if last is not None and time.monotonic() - last < self.ping_after_idle_seconds:
                return
            try:
                dialect.do_ping(dbapi_connection)
            except dialect.loaded_dbapi.Error as err:
                # The pool drops this connection and checks out a new one (up to twice),
                # which a database that is down refuses: the caller then gets that error.
                raise exc.DisconnectionError("idle connection lost") from err
            record.info[_LAST_USED] = time.monotonic()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Commits never checkpoint (see the module's docstring); a log grown large under
        # load is cut back to 64 MB when it starts over.
        cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.execute("PRAGMA journal_size_limit=67108864")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Through SQLAlchemy, not straight to the driver: a busy database then raises
        # sqlalchemy's OperationalError, which the app answers with 503.
        write = conn.get_execution_options().get(WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
