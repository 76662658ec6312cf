"""The SQLite write gate: writers of different processes take turns, a killed holder frees
it, a forked child does not share its parent's lock, and the database's writes go through
it (``-writer`` beside the file, mode 0600)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import stat
import threading
from pathlib import Path

import pytest

from screening.database import Database
from screening.settings import Settings
from screening.write_gate import WriteGate

pytestmark = pytest.mark.sqlite_only

FORK = multiprocessing.get_context("fork")


def _hold(path: str, held, release, log: str) -> None:  # type: ignore[no-untyped-def]
    gate = WriteGate(Path(path))
    with gate.held():
        with open(log, "a") as out:
            out.write("child in\n")
        held.set()
        release.wait(30)
        with open(log, "a") as out:
            out.write("child out\n")


def _acquire_in_thread(gate: WriteGate, log: Path) -> threading.Thread:
    def run() -> None:
        with gate.held():
            with open(log, "a") as out:
                out.write("parent in\n")

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_second_writer_waits_for_the_first(tmp_path: Path) -> None:
    path, log = tmp_path / "db-writer", tmp_path / "log"
    held, release = FORK.Event(), FORK.Event()
    child = FORK.Process(target=_hold, args=(str(path), held, release, str(log)))
    child.start()
    assert held.wait(30)
    thread = _acquire_in_thread(WriteGate(path), log)
    thread.join(0.5)
    assert thread.is_alive()  # still waiting: the child holds the gate
    release.set()
    thread.join(30)
    child.join(30)
    assert log.read_text().splitlines() == ["child in", "child out", "parent in"]


def test_a_killed_holder_frees_the_gate(tmp_path: Path) -> None:
    path, log = tmp_path / "db-writer", tmp_path / "log"
    held, release = FORK.Event(), FORK.Event()
    child = FORK.Process(target=_hold, args=(str(path), held, release, str(log)))
    child.start()
    assert held.wait(30)
    assert child.pid is not None
    os.kill(child.pid, signal.SIGKILL)
    child.join(30)
    thread = _acquire_in_thread(WriteGate(path), log)
    thread.join(30)
    assert not thread.is_alive()
    assert log.read_text().splitlines() == ["child in", "parent in"]


def _try_in_child(gate: WriteGate, result) -> None:  # type: ignore[no-untyped-def]
    import fcntl

    # The inherited gate must open its own file: with the parent's descriptor it would
    # "hold" the parent's lock too. Try without blocking: the parent holds it, so the
    # child's own lock must be refused.
    fd = os.open(gate.path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result.put("child got a lock the parent holds")
    except BlockingIOError:
        result.put("refused")
    finally:
        os.close(fd)
    descriptor = gate._descriptor()  # noqa: SLF001 - what held() would use in the child
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result.put("child shares the parent's lock")
    except BlockingIOError:
        result.put("refused")


def test_a_forked_child_opens_its_own_gate(tmp_path: Path) -> None:
    gate = WriteGate(tmp_path / "db-writer")
    result = FORK.Queue()
    with gate.held():
        child = FORK.Process(target=_try_in_child, args=(gate, result))
        child.start()
        child.join(30)
    assert [result.get(timeout=10), result.get(timeout=10)] == ["refused", "refused"]


def test_the_gate_is_reentrant_within_a_thread(tmp_path: Path) -> None:
    gate = WriteGate(tmp_path / "db-writer")
    with gate.held(), gate.held():
        pass
    log = tmp_path / "log"
    thread = _acquire_in_thread(WriteGate(gate.path), log)  # released: another can enter
    thread.join(30)
    assert log.read_text() == "parent in\n"


def test_database_writes_go_through_the_gate(tmp_path: Path) -> None:
    database = Database(Settings(env="test", database_url=f"sqlite:///{tmp_path}/x.sqlite3"))
    try:
        with database.write() as session:
            session.connection().exec_driver_sql("CREATE TABLE t (x INTEGER)")
            gate = tmp_path / "x.sqlite3-writer"
            assert gate.exists()
            # While this transaction is open, nobody else can take the gate.
            log = tmp_path / "log"
            thread = _acquire_in_thread(WriteGate(gate), log)
            thread.join(0.3)
            assert thread.is_alive()
        thread.join(30)
        assert log.read_text() == "parent in\n"
        assert stat.S_IMODE(gate.stat().st_mode) == 0o600
    finally:
        database.dispose()


def test_a_write_inside_a_write_meets_the_busy_timeout_not_a_hang(tmp_path: Path) -> None:
    """Two engines of one process on one file share the gate: a second write begun inside
    the first, in the same thread, fails after SQLite's busy timeout as it always did
    (the gate would otherwise wait for itself for ever)."""
    from sqlalchemy.exc import OperationalError

    url = f"sqlite:///{tmp_path}/x.sqlite3"
    first = Database(Settings(env="test", database_url=url, sqlite_busy_timeout_ms=200))
    second = Database(Settings(env="test", database_url=url, sqlite_busy_timeout_ms=200))
    outcome: list[str] = []

    def nested() -> None:
        with first.write() as session:
            session.connection().exec_driver_sql("CREATE TABLE t (x INTEGER)")
            try:
                with second.write() as inner:
                    inner.connection().exec_driver_sql("INSERT INTO t VALUES (1)")
                outcome.append("second write went through")
            except OperationalError:
                outcome.append("busy")

    try:
        thread = threading.Thread(target=nested, daemon=True)
        thread.start()
        thread.join(30)
        assert not thread.is_alive(), "the nested write hangs"
        assert outcome == ["busy"]
    finally:
        first.dispose()
        second.dispose()
