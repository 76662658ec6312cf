"""Engine and sessions.

SQLite (the embedded default) runs with WAL, a busy timeout and foreign keys on; write
transactions begin IMMEDIATE so that a read-then-write transaction cannot fail half-way
under concurrency, and queue for a file lock first (:mod:`screening.write_gate`).
PostgreSQL is used through psycopg 3.

Views read through :func:`read_session` (one per request); services change data inside
``with database.write() as session:``, one transaction per use case.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from .settings import Settings
from .write_gate import gate_for, no_gate

WRITE_OPTION = "screening_write"


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
                pool_pre_ping=True,
                pool_timeout=5,
                connect_args={"connect_timeout": 5},
            )
        self.engine: Engine = create_engine(url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine, settings.sqlite_busy_timeout_ms)
        self._write_engine = self.engine.execution_options(**{WRITE_OPTION: True})
        database = url.database or ""
        self._gate = (gate_for(Path(database + "-writer")).held
                      if self.is_sqlite and database not in ("", ":memory:") else no_gate)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
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
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Through SQLAlchemy, not straight to the driver: a busy database then raises
        # sqlalchemy's OperationalError, which the app answers with 503.
        write = conn.get_execution_options().get(WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
