"""What ``screening.database`` does to keep a request cheap, and that it loses nothing:

- SQLite: a commit never checkpoints the write-ahead log (the connection's own
  auto-checkpoint is off); a write after ``checkpoint_seconds`` runs a PASSIVE checkpoint
  after its commit, so the database file catches up with the log.
- PostgreSQL: a connection taken from the pool is pinged only when it has lain idle for
  ``ping_after_idle_seconds``; a connection whose server process is gone while it lay idle
  is then replaced before anyone uses it. The session lookup runs without a transaction,
  and statements stay prepared across read sessions (they end with COMMIT).
- Both: a read session holding a change is rolled back, never committed.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from screening.database import Database
from screening.settings import Settings


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.dispose()


def _rows_in_file_alone(db_path: Path, copy: Path) -> list[str]:
    """The rows of ``upkeep`` in a copy of the database file without its write-ahead
    log: what a checkpoint has carried into the file."""
    shutil.copyfile(db_path, copy)
    with sqlite3.connect(copy) as conn:
        found = conn.execute(
            "SELECT name FROM sqlite_master WHERE name = 'upkeep'").fetchone()
        if found is None:
            return []
        return [r[0] for r in conn.execute("SELECT v FROM upkeep ORDER BY v")]


@pytest.mark.sqlite_only
def test_sqlite_commits_do_not_checkpoint_and_a_due_write_does(
        db: Database, tmp_path: Path) -> None:
    path = Path(make_url(db.engine.url).database or "")
    db.checkpoint_seconds = 3600
    db.checkpoint()  # the file holds everything so far; the next one is an hour away
    with db.write_statements() as conn:
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        conn.exec_driver_sql("CREATE TABLE upkeep (v TEXT)")
    for value in ("a", "b", "c"):
        with db.write() as session:
            session.execute(text("INSERT INTO upkeep (v) VALUES (:v)"), {"v": value})
    # Committed (a new connection sees the rows) but still only in the log.
    with db.engine.connect() as conn:
        assert [r[0] for r in conn.execute(text("SELECT v FROM upkeep ORDER BY v"))] == [
            "a", "b", "c"]
    assert _rows_in_file_alone(path, tmp_path / "copy1.sqlite3") == []

    db.checkpoint_seconds = 0  # every write is now due
    with db.write() as session:
        session.execute(text("INSERT INTO upkeep (v) VALUES ('d')"))
    assert _rows_in_file_alone(path, tmp_path / "copy2.sqlite3") == ["a", "b", "c", "d"]


@pytest.mark.sqlite_only
def test_sqlite_checkpoint_reports_the_log(db: Database) -> None:
    with db.write_statements() as conn:
        conn.exec_driver_sql("CREATE TABLE upkeep (v TEXT)")
        conn.exec_driver_sql("INSERT INTO upkeep (v) VALUES ('x')")
    result = db.checkpoint()
    assert result is not None
    busy, frames, done = result
    assert busy == 0 and frames >= 1 and done == frames  # no reader: all carried over


@pytest.mark.postgres_only
def test_postgres_busy_connections_are_not_pinged(db: Database,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pings: list[object] = []
    real = db.engine.dialect.do_ping

    def counting(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(db.engine.dialect, "do_ping", counting)
    db.ping()  # a new connection: not pinged
    for _ in range(10):
        db.ping()
    assert pings == []
    db.ping_after_idle_seconds = 0
    for _ in range(3):
        db.ping()
    assert len(pings) == 3


def _backend_pid(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(db: Database, pid: int) -> None:
    admin = create_engine(db.engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
            # Wait until the server process has gone.
            for _ in range(200):
                gone = conn.execute(text("SELECT count(*) = 0 FROM pg_stat_activity "
                                         "WHERE pid = :p"), {"p": pid}).scalar()
                if gone:
                    break
                conn.execute(text("SELECT pg_sleep(0.01)"))
    finally:
        admin.dispose()


@pytest.mark.postgres_only
def test_postgres_an_idle_connection_whose_server_process_died_is_replaced(
        db: Database) -> None:
    db.ping_after_idle_seconds = 0  # every connection taken from the pool counts as idle
    pid = _backend_pid(db)
    _terminate(db, pid)
    assert _backend_pid(db) != pid  # pinged, found dead, replaced: no error


@pytest.mark.postgres_only
def test_postgres_without_the_ping_a_dead_connection_fails_once(db: Database) -> None:
    # What the ping is for: the same loss, with a connection not idle long enough to be
    # pinged, fails the statement that finds it; the pool is then emptied and the next
    # statement gets a new connection.
    db.ping_after_idle_seconds = 3600
    pid = _backend_pid(db)
    _terminate(db, pid)
    with pytest.raises(OperationalError):
        _backend_pid(db)
    assert _backend_pid(db) != pid


@pytest.mark.postgres_only
def test_postgres_the_session_lookup_leaves_no_transaction_open(db: Database) -> None:
    from psycopg.pq import TransactionStatus

    def status_after_a_select(engine) -> TransactionStatus:  # type: ignore[no-untyped-def]
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            return conn.connection.dbapi_connection.info.transaction_status

    # The session lookup's engine runs each statement on its own (no BEGIN, no ROLLBACK);
    # the others begin a transaction with the first statement.
    assert status_after_a_select(db.single_read_engine) == TransactionStatus.IDLE
    assert status_after_a_select(db.engine) == TransactionStatus.INTRANS


def test_a_read_session_with_a_change_in_it_is_rolled_back_not_committed(
        db: Database) -> None:
    from screening.models import Unit

    with db.write() as session:
        session.add(Unit(code="lesestua", name="Lesestua", kind="home_care"))
    reader = db.read_session()
    unit = reader.query(Unit).filter_by(name="Lesestua").one()
    unit.name = "Skrivestua"  # a read must never write, even by mistake
    reader.close()
    check = db.read_session()
    try:
        assert [u.name for u in check.query(Unit).filter(
            Unit.name.in_(["Lesestua", "Skrivestua"]))] == ["Lesestua"]
    finally:
        check.close()


@pytest.mark.postgres_only
def test_postgres_statements_stay_prepared_across_read_sessions(db: Database) -> None:
    # psycopg prepares a statement run five times on a connection, and forgets all it has
    # prepared at a ROLLBACK; a read session ends with COMMIT, so they stay.
    query = text("SELECT count(*) FROM units WHERE name <> :n")
    for _ in range(8):
        session = db.read_session()
        session.execute(query, {"n": "x"}).scalar()
        session.close()
    session = db.read_session()
    try:
        prepared = session.execute(text(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE '%units%'"
        )).scalar()
    finally:
        session.close()
    assert prepared >= 1
